"""Procedural stand-ins for the paper's datasets (docs/design.md, *Stand-in benchmarks*).

- ``pushbot`` (BAIR robot pushing): a gripper on a random smooth path over a textured table pushes
  2-4 objects on contact. Its acceleration is redrawn every frame, so frame 0 does not determine
  the future (the FP task with one condition frame is genuinely uncertain).
- ``shapes`` (UCF-101 / SSv2): one large two-tone bar whose *motion pattern* is the class, each class
  visible at the token grid's scale (4 x 4 x 4 pixels per token). Position, size, angle,
  colours and background are random and drawn alike for every class, so a single frame carries
  (almost) no class information; the clip does.
- ``scenes`` (Kinetics-600): crops of textured photographs that ship inside scikit-image, a camera
  pan (0.3-1.2 pixels a frame at 32 x 32, never stopped by the world's edge) and 2-4 slower objects
  with constant velocities: one frame leaves every velocity unknown, the first 5 frames pin them (the
  K600 protocol conditions on 5 frames).

Clip ``i`` of ``(name, split, seed, num_frames, resolution)`` is a pure function of those values:
its numpy Generator is seeded from all of them, so splits are disjoint streams and the number of
distinct clips is unbounded. Rendering is vectorised over ``[T, H, W]`` (signed-distance shapes with
a one-pixel soft edge, so they stay anti-aliased at any resolution).
"""

from __future__ import annotations

import functools
import os
import zlib

import numpy as np
import skimage.data
import skimage.transform

BENCHMARKS = ("pushbot", "shapes", "scenes")
# the stand-ins' version: part of the artifact key of every model trained on them (bump it whenever a clip changes).
# This is their second version: each shapes class visible at the token grid's scale, scenes' camera faster than
# its objects.
GENERATOR_VERSION = "v2"
# The third version changes shapes alone: its appearance is one of four fixed palettes (``SHAPES_PALETTES``) instead of
# continuous random colours, so that a generative model spends less of what it learns on colours no claim is about.
# It is a diagnostic of the transformer dissection (``benchmarks/transformer_dissection.py``), not yet the study's:
# ``$MAGVIT_STANDINS=shapes-v3`` selects it for a whole process (every artifact key then carries "shapes-v3").
STANDINS_ENV = "MAGVIT_STANDINS"
STANDINS = {"v2": GENERATOR_VERSION, "shapes-v3": "shapes-v3"}


def standins_version() -> str:
    """The stand-ins' version this process draws: ``$MAGVIT_STANDINS`` ("v2", the default, or "shapes-v3")."""
    name = os.environ.get(STANDINS_ENV, "").strip() or "v2"
    if name not in STANDINS:
        raise ValueError(f"${STANDINS_ENV}={name!r} is not a version of the stand-ins; choose from "
                         f"{', '.join(STANDINS)}")
    return STANDINS[name]


GENERATOR_VERSION = standins_version()
SPLITS = ("train", "val", "test")
# the second version's twelve classes (the first had bounces, zigzag, fall, small two-tone turns and colour cycling
# of a 5-12 pixel object on a striped background, which a 4x4x4 token grid averages away); each one visible at the
# token grid's scale
SHAPES_CLASSES = (
    "move_right", "move_down", "move_left", "move_up", "orbit_cw", "orbit_ccw",
    "grow", "shrink", "rotate_cw", "rotate_ccw", "pulse", "still",
)
# every label key exists for every benchmark (-1 = not applicable) so mixed batches stack
LABEL_KEYS = ("benchmark", "label", "speed", "direction")


def clip_rng(name: str, split: str, seed: int, index: int, num_frames: int, resolution: int
             ) -> np.random.Generator:
    """The Generator of one clip: a pure function of everything that identifies it."""
    name_id = zlib.crc32(name.encode())
    return np.random.default_rng([int(seed), SPLITS.index(split), int(index), name_id, num_frames,
                                  resolution])


# ---------------------------------------------------------------------------------------------
# drawing primitives, all on [T, H, W] grids in continuous coordinates (0..1 across the frame)


def grid(resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``y, x`` of shape [1, H, W] in (0, 1)."""
    c = (np.arange(resolution, dtype=np.float32) + 0.5) / resolution
    return c[None, :, None], c[None, None, :]


def soft_mask(signed_distance: np.ndarray, resolution: int) -> np.ndarray:
    """Coverage in [0, 1] from a signed distance (negative inside), one pixel of soft edge."""
    return np.clip(0.5 - signed_distance * resolution, 0.0, 1.0)


def shape_distance(kind: int, y: np.ndarray, x: np.ndarray, cy: np.ndarray, cx: np.ndarray,
                   size: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance of a square (0), diamond (1) or disc (2) per frame, and the local u axis.

    ``cy, cx, size, angle`` are per-frame arrays [T]; returns ([T, H, W], [T, H, W]).
    """
    cy, cx, size, angle = (a[:, None, None] for a in (cy, cx, size, angle))
    dy, dx = y - cy, x - cx
    u = np.cos(angle) * dx + np.sin(angle) * dy
    v = -np.sin(angle) * dx + np.cos(angle) * dy
    if kind == 0:
        dist = np.maximum(np.abs(u), np.abs(v)) - size
    elif kind == 1:
        dist = (np.abs(u) + np.abs(v)) / np.sqrt(2) - size
    else:
        dist = np.sqrt(u**2 + v**2) - size
    return dist, u


def paste(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Alpha-blend a colour ([3] or [T, H, W, 3]) into ``canvas`` [T, H, W, 3] in place."""
    a = alpha[..., None]
    canvas *= 1.0 - a
    canvas += a * colour


def plain_background(rng: np.random.Generator, num_frames: int, resolution: int) -> np.ndarray:
    """A static linear colour gradient: no stripes or texture for the codes to spend themselves on."""
    y, x = grid(resolution)
    base, tint = rng.uniform(0.15, 0.85, 3), rng.uniform(-0.25, 0.25, 3)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(theta) * x + np.sin(theta) * y  # [1, H, W]
    bg = base + tint * (ramp - 0.5)[..., None]
    return np.repeat(np.clip(bg, 0, 1), num_frames, axis=0).astype(np.float32)


def to_uint8(canvas: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(canvas * 255.0), 0, 255).astype(np.uint8)


NUM_SPEEDS, NUM_DIRECTIONS = 3, 4  # buckets of the "speed" and "direction" labels


def speed_bucket(speed: float, edges: tuple[float, float]) -> int:
    return int(np.searchsorted(edges, speed))


def direction_bucket(dy: float, dx: float) -> int:
    """0 right, 1 down, 2 left, 3 up (the dominant axis of a displacement)."""
    if abs(dx) >= abs(dy):
        return 0 if dx >= 0 else 2
    return 1 if dy >= 0 else 3


# ---------------------------------------------------------------------------------------------
# shapes: the motion pattern is the class
#
# Every class must be visible at the token grid's scale (4 x 4 x 4 supervoxels at 16 x 32 x 32, i.e.
# 4 x 8 x 8 tokens): one large two-tone bar (11-16 pixels long: three to four tokens) on a smooth background (no
# stripes to take the codes), and motions that survive a 4-frame / 4-pixel block average: translations of 8-11
# pixels, most of a full orbit, a 2x growth or shrink, a turn of 130-200 degrees, a pulse, and no motion.


def reflect_unit(p: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fold an unbounded coordinate into [lo, hi] as a bouncing ball would (triangle wave)."""
    span = hi - lo
    q = np.mod(p - lo, 2 * span)
    return lo + np.where(q > span, 2 * span - q, q)


# unit direction (dy, dx) of each translation class
TRANSLATIONS = {"move_right": (0.0, 1.0), "move_down": (1.0, 0.0), "move_left": (0.0, -1.0), "move_up": (-1.0, 0.0)}
SHAPES_SIZE = (0.17, 0.25)  # half-length of the bar, in frame widths (11-16 pixels long at 32 x 32)


def shapes_trajectory(cls: int, rng: np.random.Generator, num_frames: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame (cy, cx, scale, angle) of the object for class ``cls``.

    Frame 0 is drawn from the same distribution for every class (position, size and angle uniform), so one frame
    tells (almost) nothing about the class; the motion does.
    """
    t = np.arange(num_frames, dtype=np.float32)
    frac = t / max(1, num_frames - 1)  # 0 -> 1 over the clip
    cy0, cx0 = rng.uniform(0.35, 0.65, 2)
    angle0 = rng.uniform(0, 2 * np.pi)
    cy, cx = np.full(num_frames, cy0), np.full(num_frames, cx0)
    scale, angle = np.ones(num_frames), np.full(num_frames, angle0)
    name = SHAPES_CLASSES[cls]
    if name in TRANSLATIONS:
        dy, dx = TRANSLATIONS[name]
        dist = rng.uniform(0.25, 0.35)  # 8-11 pixels at 32 (two to three tokens); the centre stays in the frame
        cy, cx = cy0 + dy * dist * frac, cx0 + dx * dist * frac
    elif name in ("orbit_cw", "orbit_ccw"):
        # most of a full turn: the net displacement stays small (no translation looks like it) and the four
        # 4-frame blocks sit in four different quadrants, whose order is the class
        radius = rng.uniform(0.12, 0.16)
        sweep = rng.uniform(1.5, 2.0) * np.pi * (1.0 if name == "orbit_ccw" else -1.0)  # radians over the clip
        phi0 = rng.uniform(0, 2 * np.pi)
        centre_y, centre_x = cy0 + radius * np.sin(phi0), cx0 - radius * np.cos(phi0)  # frame 0 at (cy0, cx0)
        phi = phi0 + sweep * frac
        cy, cx = centre_y - radius * np.sin(phi), centre_x + radius * np.cos(phi)
    elif name in ("grow", "shrink"):
        factor = rng.uniform(1.8, 2.4)
        scale = factor ** (frac if name == "grow" else -frac)
    elif name in ("rotate_cw", "rotate_ccw"):
        angle = angle0 + (1.0 if name == "rotate_ccw" else -1.0) * rng.uniform(2.3, 3.5) * frac
    elif name == "pulse":  # grows to 2x and back
        scale = 1.0 + rng.uniform(0.8, 1.2) * np.sin(np.pi * frac)
    elif name == "still":
        pass
    else:  # pragma: no cover - SHAPES_CLASSES and this function change together
        raise AssertionError(name)
    return (np.asarray(cy, np.float32), np.asarray(cx, np.float32), np.asarray(scale, np.float32),
            np.asarray(angle, np.float32))


def bar_distance(y: np.ndarray, x: np.ndarray, cy: np.ndarray, cx: np.ndarray, half_length: np.ndarray,
                 half_width: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance of a rectangle per frame and its local long axis u: ([T, H, W], [T, H, W])."""
    cy, cx, half_length, half_width, angle = (a[:, None, None] for a in (cy, cx, half_length, half_width, angle))
    dy, dx = y - cy, x - cx
    u = np.cos(angle) * dx + np.sin(angle) * dy
    v = -np.sin(angle) * dx + np.cos(angle) * dy
    return np.maximum(np.abs(u) - half_length, np.abs(v) - half_width), u


SHAPES_PALETTES = (  # the third version's appearances: (background base, gradient tint, gradient angle, tone a, tone b)
    ((0.22, 0.30, 0.52), (0.15, 0.10, -0.10), 0.0, (0.98, 0.85, 0.20), (0.92, 0.20, 0.20)),
    ((0.78, 0.72, 0.60), (-0.10, 0.05, 0.15), 0.5 * np.pi, (0.10, 0.10, 0.38), (0.10, 0.62, 0.30)),
    ((0.30, 0.55, 0.30), (0.10, -0.10, 0.10), 0.25 * np.pi, (0.97, 0.97, 0.97), (0.60, 0.10, 0.62)),
    ((0.62, 0.30, 0.25), (-0.10, 0.10, 0.10), 0.75 * np.pi, (0.10, 0.90, 0.92), (0.05, 0.05, 0.05)),
)


def palette_background(base: tuple, tint: tuple, theta: float, num_frames: int, resolution: int) -> np.ndarray:
    """A static linear colour gradient of one palette (the third version's background)."""
    y, x = grid(resolution)
    ramp = np.cos(theta) * x + np.sin(theta) * y  # [1, H, W]
    bg = np.asarray(base) + np.asarray(tint) * (ramp - 0.5)[..., None]
    return np.repeat(np.clip(bg, 0, 1), num_frames, axis=0).astype(np.float32)


def make_shapes(rng: np.random.Generator, future: np.random.Generator, num_frames: int, resolution: int
                ) -> tuple[np.ndarray, dict]:
    del future  # the class, not hidden state, decides a shapes clip's motion
    cls = int(rng.integers(len(SHAPES_CLASSES)))
    palette = SHAPES_PALETTES[int(rng.integers(len(SHAPES_PALETTES)))] if GENERATOR_VERSION == "shapes-v3" else None
    canvas = (plain_background(rng, num_frames, resolution) if palette is None
              else palette_background(*palette[:3], num_frames, resolution))
    y, x = grid(resolution)
    cy, cx, scale, angle = shapes_trajectory(cls, rng, num_frames)
    half_length = rng.uniform(*SHAPES_SIZE) * scale
    half_width = half_length / rng.uniform(1.8, 2.6)
    dist, u = bar_distance(y, x, cy, cx, half_length.astype(np.float32), half_width.astype(np.float32), angle)
    alpha = soft_mask(dist, resolution)
    if palette is not None:
        colour_a, colour_b = np.asarray(palette[3]), np.asarray(palette[4])
    else:  # two tones far from the background's mean and from each other, so both halves (the turn) stay visible
        bg = canvas[0].reshape(-1, 3).mean(0)
        colour_a = np.where(bg > 0.5, rng.uniform(0.0, 0.2, 3), rng.uniform(0.8, 1.0, 3))
        candidates = rng.uniform(0, 1, (8, 3))  # the second tone: the candidate farthest from both
        margin = np.minimum(np.linalg.norm(candidates - bg, axis=1), np.linalg.norm(candidates - colour_a, axis=1))
        colour_b = candidates[int(np.argmax(margin))]
    half = soft_mask(-u, resolution)[..., None]  # which side of the local axis: the second tone
    paste(canvas, alpha, colour_a.astype(np.float32) * (1 - half) + colour_b.astype(np.float32) * half)
    step = np.hypot(np.diff(cy), np.diff(cx)).mean() if num_frames > 1 else 0.0
    disp_y, disp_x = float(cy[-1] - cy[0]), float(cx[-1] - cx[0])
    # a direction only where the class is a translation (-1: the clip has none, so no label contradicts it)
    direction = direction_bucket(disp_y, disp_x) if SHAPES_CLASSES[cls] in TRANSLATIONS else -1
    labels = {"label": cls, "speed": speed_bucket(float(step), (0.005, 0.025)), "direction": direction}
    return canvas, labels


# ---------------------------------------------------------------------------------------------
# pushbot: a gripper pushing objects on a table


def table_texture(rng: np.random.Generator, num_frames: int, resolution: int) -> np.ndarray:
    """Wood-like table: warm base colour with low-frequency grain."""
    y, x = grid(resolution)
    base = np.array([rng.uniform(0.45, 0.7), rng.uniform(0.35, 0.55), rng.uniform(0.2, 0.4)], np.float32)
    theta = rng.uniform(-0.4, 0.4)
    ramp = np.cos(theta) * y + np.sin(theta) * x
    grain = 0.05 * np.sin(2 * np.pi * rng.uniform(3, 6) * ramp + 0.8 * np.sin(2 * np.pi * 1.5 * x))
    tex = base + grain[..., None]
    return np.repeat(np.clip(tex, 0, 1), num_frames, axis=0).astype(np.float32)


def gripper_path(rng: np.random.Generator, future: np.random.Generator, num_frames: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random walk: velocity with momentum, acceleration redrawn every frame.

    The start position comes from ``rng`` (it is visible in frame 0); the velocity and every
    acceleration come from ``future``, which frame 0 does not reveal.
    """
    pos = rng.uniform(0.25, 0.75, 2)
    vel = future.normal(0, 0.03, 2)
    path = np.empty((num_frames, 2), np.float32)
    for t in range(num_frames):  # T steps of a 2-vector: not a per-pixel loop
        path[t] = pos
        vel = 0.8 * vel + future.normal(0, 0.02, 2)
        vel = np.clip(vel, -0.06, 0.06)
        pos = pos + vel
        for axis in range(2):  # bounce inside the table
            if not 0.1 <= pos[axis] <= 0.9:
                vel[axis] = -vel[axis]
                pos[axis] = np.clip(pos[axis], 0.1, 0.9)
    return path[:, 0], path[:, 1]


def make_pushbot(rng: np.random.Generator, future: np.random.Generator, num_frames: int, resolution: int
                 ) -> tuple[np.ndarray, dict]:
    canvas = table_texture(rng, num_frames, resolution)
    y, x = grid(resolution)
    grip_r = 0.08
    num_objects = int(rng.integers(2, 5))
    obj = rng.uniform(0.15, 0.85, (num_objects, 2)).astype(np.float32)
    obj_r = rng.uniform(0.06, 0.1, num_objects).astype(np.float32)
    colours = rng.uniform(0.05, 1.0, (num_objects, 3)).astype(np.float32)
    kinds = rng.integers(3, size=num_objects)
    angles = rng.uniform(0, 2 * np.pi, num_objects).astype(np.float32)
    gy, gx = gripper_path(rng, future, num_frames)
    track = np.empty((num_frames, num_objects, 2), np.float32)
    for t in range(num_frames):  # push on contact: move each touched object out along the normal
        delta = obj - np.array([gy[t], gx[t]])
        dist = np.linalg.norm(delta, axis=1) + 1e-6
        touch = dist < grip_r + obj_r
        obj[touch] += (delta[touch] / dist[touch, None]) * (grip_r + obj_r[touch] - dist[touch])[:, None]
        obj = np.clip(obj, 0.05, 0.95)
        track[t] = obj
    for k in range(num_objects):
        dist, _ = shape_distance(int(kinds[k]), y, x, track[:, k, 0], track[:, k, 1],
                                 np.full(num_frames, obj_r[k] * 0.8, np.float32),
                                 np.full(num_frames, angles[k], np.float32))
        paste(canvas, soft_mask(dist, resolution), colours[k])
    # the arm enters from the top edge; the gripper head is a dark two-finger square
    arm = np.maximum(np.abs(x - gx[:, None, None]) - 0.03, y - gy[:, None, None])
    paste(canvas, soft_mask(arm, resolution) * 0.85, np.array([0.75, 0.75, 0.78], np.float32))
    head, _ = shape_distance(0, y, x, gy, gx, np.full(num_frames, grip_r * 0.7, np.float32),
                             np.zeros(num_frames, np.float32))
    paste(canvas, soft_mask(head, resolution), np.array([0.12, 0.12, 0.14], np.float32))
    step = np.hypot(np.diff(gy), np.diff(gx)).mean() if num_frames > 1 else 0.0
    labels = {"label": -1, "speed": speed_bucket(float(step), (0.02, 0.04)),
              "direction": direction_bucket(float(gy[-1] - gy[0]), float(gx[-1] - gx[0]))}
    return canvas, labels


# ---------------------------------------------------------------------------------------------
# scenes: photographs, camera pan, moving objects

# textured photos only (since the second version): crops of retina, hubble_deep_field, rocket and colorwheel were
# often nearly uniform (black borders, sky, smooth gradients), so a pan there moved almost no pixel and its direction
# was unreadable
PHOTOS = ("astronaut", "coffee", "chelsea", "immunohistochemistry", "brick", "gravel", "grass", "coins")


@functools.cache
def photo(name: str) -> np.ndarray:
    """A photo bundled with scikit-image as float32 [H, W, 3] in [0, 1] (loaded once per process)."""
    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return image[..., :3].astype(np.float32) / 255.0


@functools.lru_cache(maxsize=64)
def photo_at(name: str, canvas: int) -> np.ndarray:
    """The photo box-resized to ``canvas x canvas`` (the camera's world), cached per size."""
    return skimage.transform.resize(photo(name), (canvas, canvas), anti_aliasing=True).astype(np.float32)


def bilinear_crops(world: np.ndarray, top: np.ndarray, left: np.ndarray, resolution: int) -> np.ndarray:
    """Crops [T, R, R, 3] of ``world`` [S, S, 3] at sub-pixel offsets (``top``/``left`` in pixels)."""
    r = np.arange(resolution, dtype=np.float32)
    yy = top[:, None, None] + r[None, :, None]  # [T, R, 1]
    xx = left[:, None, None] + r[None, None, :]  # [T, 1, R]
    y0, x0 = np.floor(yy).astype(int), np.floor(xx).astype(int)
    fy, fx = (yy - y0)[..., None], (xx - x0)[..., None]
    s = world.shape[0] - 1
    y0, x0 = np.clip(y0, 0, s), np.clip(x0, 0, s)
    y1, x1 = np.clip(y0 + 1, 0, s), np.clip(x0 + 1, 0, s)
    top_row = world[y0, x0] * (1 - fx) + world[y0, x1] * fx
    bottom_row = world[y1, x0] * (1 - fx) + world[y1, x1] * fx
    return (top_row * (1 - fy) + bottom_row * fy).astype(np.float32)


# scenes' camera speed in pixels per frame at 32 x 32 (scaled with the resolution): at least 0.3 (4.5 pixels over
# 16 frames, so no clip pans under 3 pixels) and always faster than any object (in the first version the camera was
# slower than the objects, 25% of clips panned under 3 pixels and 7% of labels contradicted the displacement where
# the camera stopped at the world's edge)
CAMERA_SPEED = (0.3, 1.2)
SCENES_SPEED_EDGES = (0.6, 0.9)  # speed buckets of the camera (pixels per frame at 32 x 32)
OBJECT_SPEED_FRACTION = 0.5  # every object moves at most this fraction of the camera's speed


def camera_path(rng: np.random.Generator, future: np.random.Generator, num_frames: int, resolution: int
                ) -> tuple[np.ndarray, np.ndarray, float, tuple[float, float], int]:
    """The camera of a scenes clip: per-frame crop corner (``top``, ``left``, pixels), its speed (pixels per frame),
    velocity ``(vy, vx)`` and the side of its square world.

    The start comes from ``rng`` (it is what frame 0 shows) and leaves room for the longest pan either way, so
    alternative futures share frame 0 and no camera ever stops at the world's edge; the velocity from ``future``.
    """
    px = resolution / 32  # pixels per frame at this resolution per pixel per frame at 32
    reach = int(np.ceil(CAMERA_SPEED[1] * px * (num_frames - 1)))  # the longest pan of a clip, in pixels
    world_size = 2 * resolution + 2 * reach + 2
    top0, left0 = reach + rng.uniform(0, resolution, 2)
    cam_speed = float(future.uniform(*CAMERA_SPEED) * px)
    cam_dir = future.uniform(0, 2 * np.pi)
    vy, vx = cam_speed * float(np.sin(cam_dir)), cam_speed * float(np.cos(cam_dir))
    t = np.arange(num_frames, dtype=np.float32)
    return (top0 + vy * t).astype(np.float32), (left0 + vx * t).astype(np.float32), cam_speed, (vy, vx), world_size


def make_scenes(rng: np.random.Generator, future: np.random.Generator, num_frames: int, resolution: int
                ) -> tuple[np.ndarray, dict]:
    """Positions and looks come from ``rng``; every velocity from ``future`` (hidden in frame 0).

    The camera pans at a constant velocity and stays inside its world for the whole clip (it starts at least the
    longest pan away from every edge), so the direction label always equals the camera's displacement.
    """
    name = PHOTOS[int(rng.integers(len(PHOTOS)))]
    top, left, cam_speed, (vy, vx), world_size = camera_path(rng, future, num_frames, resolution)
    world = photo_at(name, world_size)
    t = np.arange(num_frames, dtype=np.float32)
    px = resolution / 32
    canvas = bilinear_crops(world, top, left, resolution)
    y, x = grid(resolution)
    for _ in range(int(rng.integers(2, 5))):
        p0 = rng.uniform(0.15, 0.85, 2)
        obj_speed = future.uniform(0, OBJECT_SPEED_FRACTION) * cam_speed / resolution  # frame widths per frame
        obj_dir = future.uniform(0, 2 * np.pi)
        cy = reflect_unit(p0[0] + obj_speed * np.sin(obj_dir) * t, 0.08, 0.92).astype(np.float32)
        cx = reflect_unit(p0[1] + obj_speed * np.cos(obj_dir) * t, 0.08, 0.92).astype(np.float32)
        size = np.full(num_frames, rng.uniform(0.05, 0.1), np.float32)
        angle = (rng.uniform(0, 2 * np.pi) + future.normal(0, 0.1) * t).astype(np.float32)
        dist, _ = shape_distance(int(rng.integers(3)), y, x, cy, cx, size, angle)
        paste(canvas, soft_mask(dist, resolution), rng.uniform(0, 1, 3).astype(np.float32))
    labels = {"label": -1, "speed": speed_bucket(cam_speed / px, SCENES_SPEED_EDGES),
              "direction": direction_bucket(vy, vx)}
    return canvas, labels


MAKERS = {"pushbot": make_pushbot, "shapes": make_shapes, "scenes": make_scenes}


def make_clip(name: str, split: str, index: int, num_frames: int = 16, resolution: int = 32,
              seed: int = 0, future_seed: int | None = None) -> tuple[np.ndarray, dict[str, int]]:
    """Clip ``index`` of a procedural benchmark: uint8 [T, H, W, 3] and its labels.

    ``future_seed`` redraws only what frame 0 does not show (the gripper's velocity and
    accelerations; camera and object velocities), giving alternative futures of the same first
    frame: the data notebook measures their spread.
    """
    if name not in MAKERS:
        raise ValueError(f"unknown procedural benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if num_frames < 1 or resolution < 8:
        raise ValueError(f"need num_frames >= 1 and resolution >= 8, got {num_frames}, {resolution}")
    rng = clip_rng(name, split, seed, index, num_frames, resolution)
    future = rng if future_seed is None else np.random.default_rng(
        [int(seed), SPLITS.index(split), int(index), int(future_seed), 7919])
    canvas, labels = MAKERS[name](rng, future, num_frames, resolution)
    return to_uint8(canvas), {"benchmark": BENCHMARKS.index(name), **labels}


def scenes_camera(split: str, index: int, num_frames: int = 16, resolution: int = 32, seed: int = 0
                  ) -> dict[str, float]:
    """The camera of ``scenes`` clip ``index`` (as ``make_clip`` draws it): its pan in pixels over the clip, that
    pan at 32 x 32, and whether the clip's direction label is the bucket of the pan (the label checks)."""
    rng = clip_rng("scenes", split, seed, index, num_frames, resolution)
    rng.integers(len(PHOTOS))  # make_scenes draws the photo first
    top, left, _, _, _ = camera_path(rng, rng, num_frames, resolution)
    dy, dx = float(top[-1] - top[0]), float(left[-1] - left[0])
    label = make_clip("scenes", split, index, num_frames, resolution, seed)[1]["direction"]
    pan = float(np.hypot(dy, dx))
    return {"pan_pixels": pan, "pan_pixels_at_32": pan * 32 / resolution,
            "label_agrees": float(direction_bucket(dy, dx) == label)}


def future_spread(name: str, index: int, num_futures: int = 8, num_frames: int = 16, resolution: int = 32,
                  seed: int = 0, split: str = "val") -> np.ndarray:
    """Per-frame spread (mean pixel std over ``num_futures`` futures sharing frame 0), in [0, 1] units."""
    futures = np.stack([make_clip(name, split, index, num_frames, resolution, seed, future_seed=k)[0]
                        for k in range(num_futures)]).astype(np.float64) / 255.0  # float64: printed in a checked cell
    return futures.std(0).mean(axis=(1, 2, 3))  # [T]
