"""PSNR and SSIM as the paper's code (BasicSR ``calculate_psnr`` / ``calculate_ssim``) computes them.

Inputs are NumPy arrays (H, W) or (H, W, C), quantised by the rule in
:mod:`midnet.metrics.quantize` and then computed in float64. Pass only the channels to be
measured (e.g. drop an alpha channel, which would count as a perfect channel).

PSNR::

    MSE  = mean over counted pixels and all channels of (a − b)²
    PSNR = 10 · log10(data_range² / MSE)          (+inf when MSE = 0)

SSIM (Wang et al. 2004 with BasicSR's choices), per channel on float64 images x, y::

    G      = g gᵀ, g = 11-tap Gaussian, σ = 1.5, normalised to sum 1
    μx     = G ⋆ x,   σx² = G ⋆ x² − μx²,   σxy = G ⋆ (x·y) − μx μy     (same for y)
    C1     = (0.01 · data_range)²,   C2 = (0.03 · data_range)²
    S      = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
    SSIM_c = mean of S over the *valid* region: the map cropped by 5 px on every side, i.e. only
             where the 11×11 window lies inside the image (BasicSR: cv2.filter2D, then
             [5:-5, 5:-5]); the border handling of the filter therefore never matters.
    SSIM   = mean over channels of SSIM_c

Mask (boolean (H, W), True = counts; see :func:`~midnet.metrics.quantize.rows_mask`): PSNR takes
the MSE over counted pixels; SSIM averages S over valid-region pixels whose whole 11×11 window
lies inside the mask (the mask eroded by the window), so no SSIM value sees a masked pixel.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from midnet.metrics.quantize import prepare_pair

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
_RADIUS = SSIM_WINDOW // 2


def gaussian_window_1d(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian taps exp(−(i − r)² / 2σ²) / Σ, as ``cv2.getGaussianKernel(11, 1.5)``."""
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    taps = np.exp(-(offsets**2) / (2 * sigma**2))
    return taps / taps.sum()


def psnr(a: np.ndarray, b: np.ndarray, *, data_range: float, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB (module docstring); +inf for identical images."""
    x, y = prepare_pair(a, b, data_range, mask)
    sq = (x - y) ** 2
    if mask is not None:
        sq = sq[np.asarray(mask, dtype=bool)]
        if sq.size == 0:
            raise ValueError("psnr: the mask leaves no pixel to measure; check exclude_rows / the mask")
    mse = float(np.mean(sq))
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / mse)


def _filter(img: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable Gaussian filtering (correlation; G is symmetric), cropped to the valid region."""
    out = ndimage.correlate1d(img, taps, axis=0, mode="reflect")
    out = ndimage.correlate1d(out, taps, axis=1, mode="reflect")
    return out[_RADIUS:-_RADIUS, _RADIUS:-_RADIUS]


def ssim_map(x: np.ndarray, y: np.ndarray, data_range: float) -> np.ndarray:
    """SSIM map S over the valid region of two float64 (H, W) planes (formula in the module doc)."""
    taps = gaussian_window_1d()
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    mu_x, mu_y = _filter(x, taps), _filter(y, taps)
    var_x = _filter(x * x, taps) - mu_x**2
    var_y = _filter(y * y, taps) - mu_y**2
    cov = _filter(x * y, taps) - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


def valid_mask(mask: np.ndarray) -> np.ndarray:
    """Valid-region pixels whose whole 11×11 window is inside ``mask``, shape (H − 10, W − 10)."""
    inside = ndimage.minimum_filter(np.asarray(mask, dtype=bool), size=SSIM_WINDOW, mode="constant", cval=False)
    return inside[_RADIUS:-_RADIUS, _RADIUS:-_RADIUS]


def ssim(a: np.ndarray, b: np.ndarray, *, data_range: float, mask: np.ndarray | None = None) -> float:
    """Mean structural similarity, BasicSR-style (module docstring), averaged over channels."""
    x, y = prepare_pair(a, b, data_range, mask)
    if min(x.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"ssim: images must be at least {SSIM_WINDOW}×{SSIM_WINDOW} pixels, got {x.shape[:2]}")
    keep = None
    if mask is not None:
        keep = valid_mask(mask)
        if not keep.any():
            raise ValueError("ssim: no 11×11 window lies fully inside the mask; check the mask / exclude_rows")
    values = []
    for c in range(x.shape[2]):
        s = ssim_map(x[:, :, c], y[:, :, c], data_range)
        values.append(float(s[keep].mean() if keep is not None else s.mean()))
    return float(np.mean(values))
