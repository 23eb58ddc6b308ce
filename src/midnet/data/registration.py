"""Register a blurry capture to its sharp partner by a global translation before training on it.

Why: a re-take after refocusing is often shifted by the stage or beam; in the published
MIDNet pairs every blurry capture is moved by 10-15 px horizontally against its sharp partner
(`python -m midnet.benchmark.calibration`, docs/results/defocus-calibration). A network trained
on shifted pairs learns to blur and move content; ``data.align`` registers training pairs. The shift is found by phase correlation of the two images low-passed
alike (so that the blur and noise of one capture do not bias it), and both images are cut to
the overlap, so no pixel is invented.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation

#: shifts smaller than this (px) are left alone: they are below what the blur lets us measure
MIN_SHIFT = 1.0


def estimate_shift(moving: np.ndarray, reference: np.ndarray, *, smooth: float = 4.0) -> tuple[float, float]:
    """(dy, dx) that, applied to ``moving`` (H, W), best aligns it with ``reference``."""
    a = ndimage.gaussian_filter(np.asarray(moving, np.float64), smooth)
    b = ndimage.gaussian_filter(np.asarray(reference, np.float64), smooth)
    # plain (not phase-normalised) cross-correlation: the whitening of phase correlation would
    # weight the high frequencies that the blur removed and only noise is left in
    shift, _, _ = phase_cross_correlation(b, a, upsample_factor=10, normalization=None)
    return float(shift[0]), float(shift[1])


def measure_shift(moving: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """`estimate_shift`, with shifts below ``MIN_SHIFT`` (not measurable through the blur) as (0, 0)."""
    dy, dx = estimate_shift(moving, reference)
    return (0.0, 0.0) if max(abs(dy), abs(dx)) < MIN_SHIFT else (dy, dx)


def align_to_reference(moving: np.ndarray, *others: np.ndarray, shift: tuple[float, float]
                       ) -> tuple[np.ndarray, ...]:
    """Cut (C, H, W) arrays to their overlap after moving ``moving`` by the whole-pixel ``shift``.

    Returns ``(moving_cut, *others_cut)``; all share one shape."""
    dy, dx = (int(round(s)) for s in shift)
    h, w = moving.shape[-2:]
    # moving[y - dy, x - dx] lands on reference[y, x]
    ys, xs = slice(max(0, dy), h + min(0, dy)), slice(max(0, dx), w + min(0, dx))
    ms, mx = slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx))
    return (moving[..., ms, mx],) + tuple(o[..., ys, xs] for o in others)
