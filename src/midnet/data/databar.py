"""Microscope data bars in training: the rows to leave out of the loss.

SEM frames carry an info band (scale bar, magnification, time) at the bottom. Its text differs
between the blurry and the sharp capture, so a network trained on it would learn to hallucinate
text; the band is masked instead of cropped so that image sizes stay as captured. The rows are
the pair's (`midnet.io.pair_databar_rows` of the pages' `midnet.io.PageInfo`), the same rule
scoring leaves out, and the mask is the one mask of the data bar (`midnet.io.keep_mask`).
"""

from __future__ import annotations

import numpy as np

from midnet.io import keep_mask


def valid_mask(height: int, width: int, databar_rows: int) -> np.ndarray:
    """float32 (1, H, W) mask: 1 where a pixel counts, 0 on the bottom `databar_rows` rows."""
    return keep_mask(height, width, databar_rows)[None].astype(np.float32)
