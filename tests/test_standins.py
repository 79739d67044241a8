"""The stand-ins' versions: $MAGVIT_STANDINS selects the third version of shapes (four fixed palettes) for a process."""

import os
import subprocess
import sys

import numpy as np

from magvit.data import procedural

PROBE = ("import numpy as np; from magvit.data.procedural import GENERATOR_VERSION, make_clip; "
         "clips = [make_clip('shapes', 'train', i, 16, 32)[0] for i in range(12)]; "
         "print(GENERATOR_VERSION, len({tuple(c[0, 0, 0]) for c in clips}), "
         "int(sum(make_clip('pushbot', 'train', i, 16, 32)[0].astype(np.int64).sum() for i in range(3))))")


def run(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != procedural.STANDINS_ENV}
    if value is not None:
        env[procedural.STANDINS_ENV] = value
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)


def test_the_default_is_the_second_version_and_v3_changes_only_shapes_appearance():
    default, v3 = run(None), run("shapes-v3")
    assert default.returncode == 0 and v3.returncode == 0, default.stderr + v3.stderr
    name2, corners2, pushbot2 = default.stdout.split()
    name3, corners3, pushbot3 = v3.stdout.split()
    assert (name2, name3) == (procedural.STANDINS["v2"], "shapes-v3")
    assert int(corners2) == 12  # random background colours: every clip's corner differs
    assert int(corners3) <= len(procedural.SHAPES_PALETTES)  # one of four palettes
    assert pushbot2 == pushbot3  # the other benchmarks are the same clips


def test_an_unknown_version_names_the_choices():
    out = run("v9")
    assert out.returncode != 0
    assert "MAGVIT_STANDINS" in out.stderr and "shapes-v3" in out.stderr


def test_palette_background_is_a_static_gradient_in_range():
    bg = procedural.palette_background(*procedural.SHAPES_PALETTES[0][:3], num_frames=4, resolution=8)
    assert bg.shape == (4, 8, 8, 3) and bg.dtype == np.float32
    assert np.all((bg >= 0) & (bg <= 1)) and np.array_equal(bg[0], bg[3])
    assert bg[0].std(axis=(0, 1)).max() > 0.01  # a gradient, not a flat colour
