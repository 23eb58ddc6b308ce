"""The PSF of each tile of an image: for blur that changes across the field of view.

Why: a tilted specimen or a FIB cross-section is in focus along one line only, so one PSF for
the whole frame over-sharpens part of it and under-restores the rest (issue 18, section 2).

Rule: the *family and shape* (Gaussian, Lorentzian, astigmatic axis ratio and angle) are a
property of the column and come from the whole-image fit, which sees every pixel; only the
*width* changes with the working distance, and that is measured per tile. Each tile's width is
the isotropic Gaussian fit of `midnet.psf.estimate` on the tile, and the tile's PSF is the
whole-image PSF with its widths scaled by (tile's Gaussian width / whole image's Gaussian
width), both fitted on Welch tiles of the same size (the whole-image estimate's 128 px, or half
the tile when that is smaller: the width a fit reads depends on its spectral resolution). For a
Gaussian whole-image PSF that is exactly the tile's own Gaussian width. A tile
whose width reads as in focus (`in_focus_probability` at least `IN_FOCUS_CUTOFF`) gets
``none``, as a whole image does under ``--psf auto``; a constant tile has no blur to see and
gets ``none`` too. Why not the full family fit per tile: on a 256 px region the family choice
and the astigmatism fit swing with the specimen's orientation, which would make neighbouring
tiles restore differently for no optical reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from midnet.psf.estimate import TILE, _binned, _fit_isotropic, in_focus_probability, welch_spectrum, white_noise_floor
from midnet.psf.kernels import PSF

#: in-focus probability from which a tile (or a whole image, `midnet.inference`) is given ``none``
IN_FOCUS_CUTOFF = 0.5
#: the smallest tile whose width is estimated (the Welch tiles are half of it)
MIN_TILE = 64

Span = tuple[int, int, int, int]  # y0, y1, x0, x1


@dataclass(frozen=True)
class TileEstimate:
    """One tile: where it is, its own Gaussian width and in-focus probability, and the PSF it gets."""

    span: Span
    sigma_px: float
    in_focus: float
    psf: PSF


def gaussian_width(image: np.ndarray, welch: int = TILE) -> float:
    """The isotropic Gaussian width (px) of a grey float image from its Welch spectrum on
    ``welch`` px tiles (at most half the image's shorter side), with the noise floor of its own
    noise estimate, as the whole-image fit has."""
    x = np.asarray(image, np.float64)
    power = welch_spectrum(x, max(MIN_TILE // 2, min(welch, min(x.shape) // 2)))
    fy, fx, _, p = _binned(power)
    return _fit_isotropic(fy, fx, p, "gaussian", white_noise_floor(x))[0]


def scaled(psf: PSF, factor: float) -> PSF:
    """``psf`` with its widths multiplied by ``factor`` (its family, axis ratio and angle kept)."""
    if psf.family == "none":
        return psf
    if psf.family == "astigmatic":
        return PSF("astigmatic", psf.sigma_px * factor, float(psf.sigma_minor_px or 0.0) * factor, psf.angle_deg)
    return PSF(psf.family, psf.sigma_px * factor)


def estimate_tiles(image: np.ndarray, spans: list[Span], whole: PSF) -> list[TileEstimate]:
    """`TileEstimate` of each ``span`` of a grey float image in [0, 1] (see the module docstring).

    ``whole``: the whole-image PSF (`midnet.psf.estimate_blur`); when it is ``none`` (a constant
    image) every tile gets ``none``. Tiles smaller than `MIN_TILE` on a side are refused.
    """
    x = np.asarray(image, np.float64)
    if x.ndim != 2:
        raise ValueError(f"estimate_tiles: expected a grey (H, W) image, got shape {x.shape}")
    for span in spans:
        if min(span[1] - span[0], span[3] - span[2]) < MIN_TILE:
            raise ValueError(f"tile {span} is smaller than {MIN_TILE} px; use tiles of at least {MIN_TILE} px")
    welch = min([TILE] + [min(y1 - y0, x1 - x0) // 2 for y0, y1, x0, x1 in spans])
    reference = None if whole.family == "none" or float(np.ptp(x)) == 0.0 else gaussian_width(x, welch)
    out = []
    for span in spans:
        y0, y1, x0, x1 = span
        tile = x[y0:y1, x0:x1]
        if reference is None or float(np.ptp(tile)) == 0.0:
            out.append(TileEstimate(span, 0.0, 1.0, PSF("none")))
            continue
        sigma = gaussian_width(tile, welch)
        focus = in_focus_probability(PSF("gaussian", max(sigma, 1e-3)))
        psf = PSF("none") if focus >= IN_FOCUS_CUTOFF else scaled(whole, sigma / max(reference, 1e-3))
        out.append(TileEstimate(span, sigma, focus, psf))
    return out


__all__ = ["IN_FOCUS_CUTOFF", "MIN_TILE", "TileEstimate", "estimate_tiles", "gaussian_width", "scaled"]
