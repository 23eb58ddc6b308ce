"""Microscope data bars: rows to leave out of the loss and the metrics.

SEM frames carry a black band with white text (scale bar, magnification, time) at the
bottom. Its text differs between the blurry and the sharp capture, so a network trained on
it would learn to hallucinate text; the band is masked instead of cropped so that image
sizes stay as captured.
"""

from __future__ import annotations

import numpy as np

#: a row belongs to the bar when at least this fraction of its pixels is near black
DARK_ROW_FRACTION = 0.5
#: "near black" as a fraction of the full intensity range
DARK_LEVEL = 10 / 255
#: a shorter dark run at the bottom is treated as image content, not a bar
MIN_BAR_ROWS = 4


def detect_databar_rows(image: np.ndarray) -> int:
    """Number of bottom rows that form a data bar in a float (C, H, W) or (H, W) image.

    Scans upwards from the last row while rows are mostly near-black (the MIDNet bar:
    every bar row is >= 68 % black, no image row above it has any black pixel).
    """
    x = image if image.ndim == 2 else image.max(axis=0)
    dark = (x <= DARK_LEVEL).mean(axis=1)
    rows = 0
    for frac in dark[::-1]:
        if frac < DARK_ROW_FRACTION:
            break
        rows += 1
    return rows if rows >= MIN_BAR_ROWS else 0


def resolve_databar_rows(setting: int | str | None, *images: np.ndarray) -> int:
    """Bar height for one pair: an int is used as is, "auto" takes the max detected over `images`."""
    if setting is None or setting == 0:
        return 0
    if isinstance(setting, str):
        if setting.lower() != "auto":
            raise ValueError(f"databar_rows must be an integer or 'auto', got {setting!r}")
        return max(detect_databar_rows(im) for im in images)
    rows = int(setting)
    if rows < 0:
        raise ValueError(f"databar_rows must be >= 0, got {rows}")
    return rows


def valid_mask(height: int, width: int, databar_rows: int) -> np.ndarray:
    """float32 (1, H, W) mask: 1 where a pixel counts, 0 on the bottom `databar_rows` rows."""
    mask = np.ones((1, height, width), dtype=np.float32)
    if databar_rows > 0:
        mask[:, max(0, height - databar_rows):, :] = 0.0
    return mask
