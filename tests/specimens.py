"""Test images the tests make themselves: a sharp textured specimen and its known degradation."""

from __future__ import annotations

import numpy as np

from midnet.psf import PSF


def textured(shape: tuple[int, int] = (384, 384), seed: int = 0) -> np.ndarray:
    """A sharp random specimen: a 1/f² (natural-image) random field with a few hard-edged grains."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    f = np.maximum(np.hypot(fy, fx), 1.0 / max(shape))
    field = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) / f))
    field = (field - field.mean()) / field.std()
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    for _ in range(25):
        cy, cx, r = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(5, 30)
        field += 1.5 * ((yy - cy) ** 2 + (xx - cx) ** 2 < r**2)
    return np.clip(0.5 + 0.12 * field, 0, 1)


def degrade(x: np.ndarray, psf: PSF, noise: float, seed: int = 1) -> np.ndarray:
    """``x`` blurred by ``psf``, plus Gaussian noise of ``noise`` 8-bit grey levels, rounded to 8 bit
    (returned as floats in [0, 1])."""
    y = psf.blur(x) + np.random.default_rng(seed).normal(0, noise / 255, x.shape)
    return np.rint(np.clip(y, 0, 1) * 255) / 255
