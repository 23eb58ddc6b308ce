"""Quantisation and masks for the image metrics.

The paper's code (BasicSR) measures PSNR/SSIM on 8-bit images: the network output is clipped
to [0, 1], multiplied by 255 and rounded (``tensor2img``: ``(x * 255.0).round()``, NumPy/PyTorch
round half to even) before the metric. :func:`quantize` is that rule; :func:`prepare_pair`
applies the matching rule inside :func:`~midnet.metrics.psnr` and :func:`~midnet.metrics.ssim`:

* integer arrays (uint8, uint16, ...) are used as they are, and must lie in [0, data_range];
* float arrays with an integer ``data_range`` ≥ 2 (255 for 8-bit, 65535 for 16-bit data) are
  rounded half to even and clipped to [0, data_range], i.e. they are taken as values already on
  the integer scale. Floats in [0, 1] must go through :func:`quantize` first (a float array
  with fractional values all in [0, 1] is rejected, as it almost surely is such an image);
* float arrays with any other ``data_range`` (e.g. 1.0) are used unquantised: a continuous
  metric, handy for monitoring, but not comparable with the paper's numbers.
"""

from __future__ import annotations

import numpy as np

_INTEGER_MAX = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


def quantize(x: np.ndarray, dtype: type | np.dtype = np.uint8) -> np.ndarray:
    """Float image in [0, 1] → ``dtype`` (uint8 or uint16): round_half_even(clip(x, 0, 1) · max).

    Accepts NumPy arrays or torch tensors (detached, moved to the CPU). Float32 input is
    multiplied in float32, exactly as BasicSR's ``tensor2img`` does, so ties round the same way.
    """
    import torch  # only here: the metrics otherwise need no torch

    dtype = np.dtype(dtype)
    if dtype not in _INTEGER_MAX:
        raise ValueError(f"quantize: dtype must be uint8 or uint16, got {dtype}")
    if hasattr(x, "detach"):
        x = x.detach().cpu()
        x = (x if x.dtype in (torch.float32, torch.float64) else x.float()).numpy()
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    top = _INTEGER_MAX[dtype]
    return np.clip(np.rint(np.clip(x, 0, 1) * x.dtype.type(top)), 0, top).astype(dtype)


def rows_mask(shape: tuple[int, ...], exclude_rows: slice = slice(960, 1024)) -> np.ndarray:
    """Boolean (H, W) mask, True where pixels count, False on ``exclude_rows``.

    The default leaves out rows 960..1023, the data bar of a 1280×1024 SEM frame (whose text
    differs between the blurry and the sharp capture). ``shape`` may be (H, W) or (H, W, C).
    """
    if len(shape) not in (2, 3):
        raise ValueError(f"rows_mask: shape must be (H, W) or (H, W, C), got {shape}")
    mask = np.ones(shape[:2], dtype=bool)
    mask[exclude_rows, :] = False
    return mask


def prepare_pair(a: np.ndarray, b: np.ndarray, data_range: float, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Check and quantise a metric's inputs (module docstring); returns float64 (H, W, C) arrays."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim not in (2, 3):
        raise ValueError(f"metric: images must have the same (H, W) or (H, W, C) shape, got {a.shape} and {b.shape}")
    if not data_range or data_range <= 0:
        raise ValueError(f"metric: data_range must be > 0 (255 for 8-bit, 65535 for 16-bit), got {data_range}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != a.shape[:2]:
            raise ValueError(f"metric: mask must be boolean (H, W) = {a.shape[:2]}, got {mask.shape}; see rows_mask()")
    return _quantized(a, data_range), _quantized(b, data_range)


def _quantized(x: np.ndarray, data_range: float) -> np.ndarray:
    if np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
        if x.size and (x.min() < 0 or x.max() > data_range):
            raise ValueError(
                f"metric: {x.dtype} values span [{x.min()}, {x.max()}], outside [0, {data_range}]; "
                "pass the data_range of the data (255 for 8-bit, 65535 for 16-bit)"
            )
        out = x.astype(np.float64)
    elif np.issubdtype(x.dtype, np.floating):
        out = x.astype(np.float64)
        if float(data_range).is_integer() and data_range >= 2:
            fractional = np.any(out != np.rint(out))
            if fractional and out.size and out.min() >= 0 and out.max() <= 1:
                raise ValueError(
                    f"metric: float values in [0, 1] with data_range={data_range}; quantise them first "
                    "(midnet.metrics.quantize) or pass data_range=1.0 for an unquantised metric"
                )
            out = np.clip(np.rint(out), 0, data_range)
    else:
        raise ValueError(f"metric: unsupported image dtype {x.dtype}")
    return out if out.ndim == 3 else out[:, :, None]
