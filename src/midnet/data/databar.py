"""Microscope data bars in training and scoring: rows to leave out of the loss and the metrics.

SEM frames carry an info band (scale bar, magnification, time) at the bottom. Its text differs
between the blurry and the sharp capture, so a network trained on it would learn to hallucinate
text; the band is masked instead of cropped so that image sizes stay as captured. The rows come
from the project's one detector, `midnet.io.databar.detect_databar_array`, the same one
`midnet deblur` uses to pass the bar through.
"""

from __future__ import annotations

import numpy as np

from midnet.io import ImageFile
from midnet.io.databar import detect_databar, detect_databar_array


def detect_databar_rows(image: np.ndarray) -> int:
    """Number of bottom rows that form a data bar in a float (C, H, W) or (H, W) image in [0, 1]."""
    image = np.asarray(image)
    max_value = 1.0 if np.issubdtype(image.dtype, np.floating) else None
    return detect_databar_array(image, max_value=max_value)


def resolve_databar_rows(setting: int | str | None, *images: ImageFile | np.ndarray) -> int:
    """Bar height for one pair: an int is used as is, "auto" takes the max detected over `images`
    (files by `detect_databar`, metadata first; bare arrays by their pixels)."""
    if setting is None or setting == 0:
        return 0
    if isinstance(setting, str):
        if setting.lower() not in ("auto", "none"):
            raise ValueError(f"databar_rows must be an integer, 'auto' or 'none', got {setting!r}")
        if setting.lower() == "none":
            return 0
        return max(detect_databar(im) if isinstance(im, ImageFile) else detect_databar_rows(im) for im in images)
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
