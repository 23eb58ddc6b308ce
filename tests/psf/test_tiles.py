"""Per-tile PSFs: the width follows the blur across the frame, the family and shape stay the
whole image's, in-focus and constant tiles get ``none``."""

from __future__ import annotations

import numpy as np
import pytest

from midnet.psf import PSF
from midnet.psf.estimate import estimate_array
from midnet.psf.tiles import MIN_TILE, estimate_tiles, gaussian_width, scaled
from specimens import degrade, textured

SPANS = [(0, 256, x, x + 256) for x in (0, 128, 256, 384, 512)]


def _two_halves() -> np.ndarray:
    """Left half blurred σ = 1 px, right half σ = 3 px, noise 2 grey levels, 256 × 768."""
    clean = textured((256, 768), seed=7)
    image = degrade(clean, PSF("gaussian", 1.0), 2.0)
    image[:, 384:] = degrade(clean, PSF("gaussian", 3.0), 2.0, seed=2)[:, 384:]
    return image


def test_the_width_follows_the_blur_across_the_frame() -> None:
    image = _two_halves()
    tiles = estimate_tiles(image, SPANS, estimate_array(image, with_map=False).psf)
    assert [t.span for t in tiles] == SPANS
    left, right = tiles[0], tiles[-1]
    assert left.sigma_px < 1.3 and right.sigma_px == pytest.approx(3.0, rel=0.2)
    assert right.psf.family == "gaussian" and right.psf.sigma_px == pytest.approx(right.sigma_px, rel=0.02)
    assert right.in_focus < 0.01


def test_a_uniform_blur_gives_every_tile_the_whole_image_psf() -> None:
    """Same Welch size for the whole image and the tiles: a Gaussian whole-image PSF is scaled by
    exactly 1 where the tile reads the same width, so uniform blur reads alike everywhere."""
    image = degrade(textured((256, 768), seed=8), PSF("gaussian", 2.5), 2.0)
    whole = estimate_array(image, with_map=False).psf
    tiles = estimate_tiles(image, SPANS, whole)
    widths = [t.psf.sigma_px for t in tiles]
    assert all(t.psf.family == whole.family for t in tiles)
    assert max(widths) / min(widths) < 1.3 and np.median(widths) == pytest.approx(2.5, rel=0.2)


def test_the_family_and_shape_come_from_the_whole_image() -> None:
    image = degrade(textured((256, 512), seed=9), PSF("gaussian", 2.0), 2.0)
    whole = PSF("astigmatic", 3.0, 1.5, 40.0)
    for tile in estimate_tiles(image, SPANS[:3], whole):
        assert tile.psf.family == "astigmatic" and tile.psf.angle_deg == pytest.approx(40.0)
        assert tile.psf.sigma_px / float(tile.psf.sigma_minor_px) == pytest.approx(2.0)
    assert scaled(PSF("none"), 3.0) == PSF("none")
    assert scaled(PSF("lorentzian", 1.5), 2.0) == PSF("lorentzian", 3.0)


def test_in_focus_and_constant_tiles_get_none() -> None:
    image = degrade(textured((256, 512), seed=3), PSF("none"), 1.0)
    image[:, 256:] = 0.4  # a constant right part
    tiles = estimate_tiles(image, SPANS[:3], PSF("gaussian", 0.5))
    assert tiles[0].psf == PSF("none") and tiles[0].in_focus >= 0.5
    assert tiles[2].psf == PSF("none") and tiles[2].sigma_px == 0.0
    flat = estimate_tiles(np.full((256, 256), 0.3), SPANS[:1], PSF("none"))
    assert flat[0].psf == PSF("none")


def test_tiles_too_small_to_estimate_are_refused() -> None:
    with pytest.raises(ValueError, match=f"smaller than {MIN_TILE} px"):
        estimate_tiles(np.random.default_rng(0).random((128, 128)), [(0, 32, 0, 128)], PSF("gaussian", 1.0))
    assert gaussian_width(degrade(textured((128, 128), seed=1), PSF("gaussian", 3.0), 1.0)) > 2.0
