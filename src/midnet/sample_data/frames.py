"""Rebuild the full 1280x1024 grey SEM frames from the 12 overlapping published crops.

The MIDNet publication only ships 512x512 crops cut on a 4x3 grid with a 256 px stride, so
neighbouring crops overlap by half. Training and evaluation must split by *source image*, and
the demo shows whole frames, so we stitch each source image back together.

Rule (it reproduces ``shared/data/midnet-sem/frames`` bit for bit): every crop is converted
to 8-bit luminance with Pillow's ``convert("L")`` (ITU-R BT.601 weights, integer rounding),
and each frame pixel is taken from the first crop, in row-major crop order, that covers it.
The published crops agree exactly on their overlaps, so averaging gives the same frame;
:func:`max_overlap_difference` checks that assumption on new data instead of trusting it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

CROP_SIZE = 512
STRIDE = 256
GRID_COLUMNS = 4
GRID_ROWS = 3
CROPS_PER_FRAME = GRID_COLUMNS * GRID_ROWS
FRAME_HEIGHT = STRIDE * (GRID_ROWS - 1) + CROP_SIZE  # 1024
FRAME_WIDTH = STRIDE * (GRID_COLUMNS - 1) + CROP_SIZE  # 1280
KINDS = ("blur", "sharp")
#: name prefix/suffix of our temp files, so a later run can recognise and remove leftovers
TEMP_PREFIX = ".midnet-"
TEMP_SUFFIX = ".part"


def crop_origin(index: int) -> tuple[int, int]:
    """Top-left corner ``(x, y)`` of crop ``s{index:03d}`` (1-based, row-major) in its frame."""
    if not 1 <= index <= CROPS_PER_FRAME:
        raise ValueError(f"crop index {index} is outside 1..{CROPS_PER_FRAME}")
    return STRIDE * ((index - 1) % GRID_COLUMNS), STRIDE * ((index - 1) // GRID_COLUMNS)


def crop_name(group: str, index: int) -> str:
    """File name of a published crop, e.g. ``crop_name("7-1", 3) == "7-1_s003.png"``."""
    crop_origin(index)  # validates the index
    return f"{group}_s{index:03d}.png"


def load_crop_luma(path: str | Path) -> np.ndarray:
    """Read one published crop as a (512, 512) uint8 luminance array.

    The crops are RGBA PNGs of a grey image whose channels differ by a few levels; Pillow's
    ``convert("L")`` applies the BT.601 luma used everywhere else in midnet.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: crop not found; run `midnet data download` to fetch it")
    with Image.open(path) as image:
        luma = np.asarray(image.convert("L"))
    if luma.shape != (CROP_SIZE, CROP_SIZE):
        raise ValueError(
            f"{path}: crop is {luma.shape[1]}x{luma.shape[0]}, expected {CROP_SIZE}x{CROP_SIZE}; "
            "re-download it with `midnet data download`"
        )
    return luma


def _check_crops(crops: Sequence[np.ndarray]) -> None:
    if len(crops) != CROPS_PER_FRAME:
        raise ValueError(f"a frame needs {CROPS_PER_FRAME} crops, got {len(crops)}")
    for index, crop in enumerate(crops, start=1):
        if crop.shape != (CROP_SIZE, CROP_SIZE):
            raise ValueError(
                f"crop {index} has shape {crop.shape}, expected ({CROP_SIZE}, {CROP_SIZE})"
            )


def stitch_frame(crops: Sequence[np.ndarray]) -> np.ndarray:
    """Assemble 12 grey crops (row-major order) into one (1024, 1280) frame.

    Each pixel comes from the first crop that covers it; see the module docstring for why.
    """
    _check_crops(crops)
    frame = np.empty((FRAME_HEIGHT, FRAME_WIDTH), dtype=crops[0].dtype)
    # Painting in reverse order leaves the first covering crop on top.
    for index in range(CROPS_PER_FRAME, 0, -1):
        x, y = crop_origin(index)
        frame[y : y + CROP_SIZE, x : x + CROP_SIZE] = crops[index - 1]
    return frame


def max_overlap_difference(crops: Sequence[np.ndarray]) -> int:
    """Largest absolute grey-level disagreement between any two crops on their overlap.

    Zero for the published data; a non-zero value means the stitching rule matters.
    """
    _check_crops(crops)
    frame = stitch_frame(crops).astype(np.int32)
    worst = 0
    for index, crop in enumerate(crops, start=1):
        x, y = crop_origin(index)
        region = frame[y : y + CROP_SIZE, x : x + CROP_SIZE]
        worst = max(worst, int(np.abs(region - crop.astype(np.int32)).max()))
    return worst


def crop_paths(root: str | Path, kind: str, group: str) -> list[Path]:
    """Paths of the 12 crops of one source image under a data folder (``root/kind/...``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return [Path(root) / kind / crop_name(group, i) for i in range(1, CROPS_PER_FRAME + 1)]


def build_frame(root: str | Path, kind: str, group: str) -> np.ndarray:
    """Read the crops of ``group`` from ``root/kind/`` and stitch them into a full frame."""
    return stitch_frame([load_crop_luma(p) for p in crop_paths(root, kind, group)])


def frame_path(root: str | Path, kind: str, group: str) -> Path:
    """Where a stitched frame lives in the published layout: ``root/frames/kind/group.png``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return Path(root) / "frames" / kind / f"{group}.png"


def write_png_atomic(array: np.ndarray, path: str | Path) -> None:
    """Write a grey uint8 PNG through a temp file in the same folder, then rename.

    A reader (or a crash) never sees a half-written frame under the final name.
    """
    path = Path(path)
    if array.dtype != np.uint8 or array.ndim != 2:
        raise ValueError(f"{path}: expected a 2-D uint8 frame, got {array.dtype} {array.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            Image.fromarray(array).save(handle, format="PNG")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_frame(path: str | Path) -> np.ndarray:
    """Read a stitched frame as a grey uint8 array (for comparisons)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def ensure_frame(root: str | Path, kind: str, group: str) -> str:
    """Make ``root/frames/kind/group.png`` equal to the stitch of its crops.

    Returns ``"kept"`` when the existing frame already matches, ``"written"`` when it was
    missing and ``"replaced"`` when a differing (stale or damaged) frame was rewritten.
    Comparing pixels instead of trusting a timestamp keeps repeated runs idempotent and
    still repairs a damaged frame.
    """
    frame = build_frame(root, kind, group)
    target = frame_path(root, kind, group)
    status = "written"
    if target.is_file():
        try:
            if np.array_equal(read_frame(target), frame):
                return "kept"
        except (OSError, ValueError):
            pass  # unreadable frame: rewrite it below
        status = "replaced"
    write_png_atomic(frame, target)
    return status
