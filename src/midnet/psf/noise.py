"""Poisson–Gaussian noise from one image: variance ``a·I + b`` fitted to per-intensity-bin estimates.

Why this way: SEM noise is shot noise of the collected electrons (variance proportional to the
signal) plus detector/amplifier read noise (constant). The finest diagonal Haar wavelet band of
an image (``(x00 - x01 - x10 + x11)/2`` on 2×2 blocks) keeps white noise at its full variance
but cancels smooth content and edges along rows or columns, and its median absolute deviation
(÷ 0.6745) ignores the few coefficients that structure leaves (Donoho & Johnstone's robust
estimator, as `skimage.restoration.estimate_sigma` uses with a Daubechies band). Doing it per
intensity bin and fitting ``σ²(I) = a·I + b`` by non-negative least squares gives both
Poisson–Gaussian parameters (Foi et al. 2008 fit the same model from the same kind of local
estimates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

#: intensity bins (quantiles of the local mean) for the per-level noise estimates
N_BINS = 8
#: MAD → σ for a Gaussian
MAD_TO_SIGMA = 1.0 / 0.6745


@dataclass(frozen=True)
class NoiseEstimate:
    """``variance(I) = gain·I + read_var`` on [0, 1] data; ``sigma_mid``: σ at I = 0.5 (in [0, 1] units)."""

    gain: float
    read_var: float

    @property
    def sigma_mid(self) -> float:
        return math.sqrt(max(self.gain * 0.5 + self.read_var, 0.0))

    def variance(self, level: np.ndarray | float) -> np.ndarray | float:
        return self.gain * np.clip(level, 0.0, 1.0) + self.read_var


def haar_diagonal(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(finest diagonal Haar coefficients, local mean of each 2×2 block), both (H/2, W/2)."""
    x = np.asarray(image, np.float64)
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    x = x[:h, :w]
    a, b, c, d = x[0::2, 0::2], x[0::2, 1::2], x[1::2, 0::2], x[1::2, 1::2]
    return (a - b - c + d) / 2.0, (a + b + c + d) / 4.0


def estimate_noise(image: np.ndarray, *, bins: int = N_BINS) -> NoiseEstimate:
    """Poisson–Gaussian parameters of a grey float image in [0, 1] (see the module docstring).

    Blocks at the clipping levels (0 or 1) are left out: clipped noise is not Gaussian.
    """
    coef, level = haar_diagonal(image)
    level = ndimage.uniform_filter(level, 3, mode="reflect")  # a steadier level for binning
    keep = (level > 0.01) & (level < 0.99)
    if keep.sum() < 64:
        keep = np.ones_like(level, dtype=bool)
    coef, level = coef[keep], level[keep]
    edges = np.unique(np.quantile(level, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.digitize(level, edges[1:-1]), 0, len(edges) - 2)
    levels, variances, weights = [], [], []
    for i in range(len(edges) - 1):
        sel = idx == i
        n = int(sel.sum())
        if n < 32:
            continue
        sigma = MAD_TO_SIGMA * float(np.median(np.abs(coef[sel] - np.median(coef[sel]))))
        levels.append(float(level[sel].mean()))
        variances.append(sigma**2)
        weights.append(math.sqrt(n))
    if not levels:
        return NoiseEstimate(0.0, 0.0)
    lv, var, wt = np.array(levels), np.array(variances), np.array(weights)
    if np.ptp(lv) < 0.05:  # one level only: the gain cannot be told from the read noise
        return NoiseEstimate(0.0, float(np.average(var, weights=wt)))
    design = np.stack([lv, np.ones_like(lv)], axis=1) * wt[:, None]
    (gain, read), _ = optimize.nnls(design, var * wt)
    return NoiseEstimate(float(gain), float(read))
