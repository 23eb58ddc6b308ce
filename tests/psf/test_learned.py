"""The learned blur estimator (`midnet.psf.learned`): patches, aggregation, the shipped weights
and the ``method`` switch of `estimate_array`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from midnet.psf import PSF, estimate_array
from midnet.psf.kernels import FAMILIES
from midnet.psf.learned import MIN_STD, PATCH, WEIGHTS, aggregate, patch_grid
from specimens import degrade, textured


def _out(family: str, major: float, minor: float, angle: float = 0.0, n: int = 5) -> torch.Tensor:
    logits = torch.full((n, len(FAMILIES)), -5.0)
    logits[:, FAMILIES.index(family)] = 5.0
    t = math.radians(2 * angle)
    rest = torch.tensor([math.log(major), math.log(minor), math.cos(t), math.sin(t)]).expand(n, -1)
    return torch.cat([logits, rest], dim=1)


def test_aggregate_reads_family_width_and_angle() -> None:
    psf, focus = aggregate(_out("astigmatic", 3.0, 1.5, angle=30.0))
    assert psf.family == "astigmatic" and psf.sigma_px == pytest.approx(3.0) and psf.sigma_minor_px == pytest.approx(1.5)
    assert psf.angle_deg == pytest.approx(30.0, abs=1e-3) and focus < 0.01
    iso, _ = aggregate(_out("lorentzian", 2.0, 2.0))
    assert iso == PSF("lorentzian", 2.0)
    none, focus = aggregate(_out("none", 1.0, 1.0))
    assert none.family == "none" and focus > 0.99


def test_patches_leave_out_flat_ones() -> None:
    image = np.zeros((3 * PATCH, 2 * PATCH))
    image[:PATCH, :PATCH] = np.random.default_rng(0).random((PATCH, PATCH))
    patches = patch_grid(image)
    assert patches.shape == (1, PATCH, PATCH) and patches[0].std() >= MIN_STD
    assert patch_grid(np.zeros((2 * PATCH, 2 * PATCH))).shape == (4, PATCH, PATCH)  # all flat: keep all


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown estimation method"):
        estimate_array(np.random.default_rng(0).random((64, 64)), method="psychic")


@pytest.mark.skipif(not WEIGHTS.is_file(), reason="no shipped learned-estimator weights in this checkout")
@pytest.mark.parametrize("method", ["learned", "hybrid"])
def test_the_shipped_estimator_tells_blur_from_focus(method: str) -> None:
    clean = textured((384, 384), seed=2)
    blurred = estimate_array(degrade(clean, PSF("gaussian", 3.0), 2.0), method=method, with_map=False)
    sharp = estimate_array(degrade(clean, PSF("none"), 1.0), method=method, with_map=False)
    assert blurred.psf.family != "none" and 1.5 <= blurred.psf.sigma_px <= 6.0
    assert sharp.in_focus > blurred.in_focus
