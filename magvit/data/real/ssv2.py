"""Something-Something v2: ``.webm`` videos and the released label JSONs (Sec. 4.1: multi-task generation)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from magvit.data.real.common import (
    RealVideo,
    finish,
    read_video,
    require,
    require_video_backend,
    resolve_root,
    tiny_frames,
)


def load_ssv2(split: str, root: str | None = None, num_frames: int = 16, resolution: int = 128,
              stride: int = 1, seed: int = 0, skip_bad: bool = False) -> RealVideo:
    """SSv2: ``.webm`` videos and the released label JSONs (labels.json maps template -> id)."""
    names = {"train": "train", "val": "validation", "test": "validation"}
    if split not in names:
        raise ValueError(f"ssv2: unknown split {split!r}; choose train, val or test")
    require_video_backend("the ssv2 loader (.webm videos)")
    root = resolve_root("ssv2", root)
    labels_dir = require(root / "labels", "ssv2", "labels folder")
    template_ids = json.loads(require(labels_dir / "labels.json", "ssv2", "label map").read_text())
    items = json.loads(require(labels_dir / f"{names[split]}.json", "ssv2", "split file").read_text())
    videos = root / "20bn-something-something-v2"
    entries = []
    for item in items:
        if not {"id", "template"} <= set(item):
            raise ValueError(f"ssv2: entry {item!r} in {names[split]}.json lacks 'id'/'template'")
        template = item["template"].replace("[", "").replace("]", "")
        if template not in template_ids:
            raise ValueError(f"ssv2: template {template!r} of video {item['id']} is not in labels.json")
        entries.append((require(videos / f"{item['id']}.webm", "ssv2", "video"), int(template_ids[template])))
    return finish(RealVideo("ssv2", entries, read_video, num_frames, resolution, stride, seed), split, skip_bad)


def write_tiny_ssv2(root: str | os.PathLike) -> Path:
    """A few-video SSv2 in the real layout (.webm + label JSONs), for tests and the data notebook."""
    require_video_backend("write_tiny_ssv2 (.webm videos)")
    root = Path(root)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "20bn-something-something-v2").mkdir(parents=True, exist_ok=True)
    templates = ["Pushing something from left to right", "Holding something next to something"]
    (root / "labels" / "labels.json").write_text(json.dumps({t: str(i) for i, t in enumerate(templates)}))
    rng = np.random.default_rng(3)
    for part, ids in (("train", (1, 2)), ("validation", (3, 4))):
        items = []
        for k, vid in enumerate(ids):
            imageio.mimwrite(root / "20bn-something-something-v2" / f"{vid}.webm",
                             tiny_frames(rng, 20, (48, 64), k), format="FFMPEG", fps=12, codec="libvpx",
                             macro_block_size=1, ffmpeg_log_level="error")
            template = templates[k].replace("something", "[something]")
            items.append({"id": str(vid), "label": templates[k].lower(), "template": template})
        (root / "labels" / f"{part}.json").write_text(json.dumps(items))
    return root
