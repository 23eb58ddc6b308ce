"""Convert image arrays of any layout to the model's channel count.

The rule (docs/CONTRACT.md): alpha is dropped; a 1-channel model gets grey, with RGB reduced
by ITU-R BT.601 luma (0.299, 0.587, 0.114) because SEM detectors are monochrome and RGB files
are only a container; a 3-channel model gets RGB, with grey repeated.
"""

from __future__ import annotations

import numpy as np

from midnet.io import to_float

LUMA_BT601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_model_channels(array: np.ndarray, channels: int, white: int | None = None) -> np.ndarray:
    """Native-dtype (H, W) or (H, W, C) array -> float32 (channels, H, W) in [0, 1], integers
    scaled by ``white`` (the page's value of white, `midnet.io.PageInfo.white`) when given."""
    x = to_float(array, white)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {array.shape}")
    if x.shape[2] in (2, 4):  # grey+alpha or RGBA: drop alpha
        x = x[..., :-1]
    if x.shape[2] not in (1, 3):
        raise ValueError(f"cannot convert a {x.shape[2]}-channel image; expected grey, RGB or RGBA")
    if channels == 1:
        grey = x if x.shape[2] == 1 else (x @ LUMA_BT601)[..., None]
        out = grey
    elif channels == 3:
        out = x if x.shape[2] == 3 else np.repeat(x, 3, axis=2)
    else:
        raise ValueError(f"models with {channels} input channels are not supported; use 1 or 3")
    return np.ascontiguousarray(out.transpose(2, 0, 1), dtype=np.float32)
