"""The PSF panel's estimate (`midnet.napari.estimate`) is `estimate_blur` of the plane shown, its data bar left out."""

from __future__ import annotations

import numpy as np
import pytest

from midnet.napari.estimate import estimate_layer, summary
from midnet.psf import PSF, estimate_blur
from specimens import degrade, textured


def _u8(x: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)


def test_the_estimate_leaves_the_bar_out_and_reads_the_chosen_plane() -> None:
    clean = textured((256, 256), seed=1)
    sharp, blurred = _u8(degrade(clean, PSF("none"), 1.0)), _u8(degrade(clean, PSF("gaussian", 3.0), 2.0))
    stack = np.stack([sharp, blurred])
    stack[:, -40:] = 0  # a black data bar with white text
    stack[:, -30:-20, 10:200:8] = 255
    est = estimate_layer(stack, rgb=False, databar=[40, 40], plane=1)
    expected = estimate_blur(blurred[:-40], with_map=False)
    assert est.psf == expected.psf and est.noise_sigma == pytest.approx(expected.noise_sigma)
    assert est.psf.sigma_px > 1.8  # σ = 3 reads low on a crop this small (2.2 px)
    assert estimate_layer(stack, rgb=False, databar="none", plane=1).psf != est.psf  # the bar would count
    assert estimate_layer(stack, rgb=False, databar=[40, 40], plane=0).in_focus > 0.5
    with pytest.raises(ValueError, match="plane 2 does not exist"):
        estimate_layer(stack, rgb=False, plane=2)


def test_summary_names_family_width_angle_noise_and_focus() -> None:
    image = _u8(degrade(textured((256, 256), seed=4), PSF("astigmatic", 4.0, 1.5, 30.0), 3.0))
    est = estimate_layer(image, rgb=False, databar="none")
    text = summary(est)
    assert text.startswith("astigmatic σ ") and " px at " in text and "°" in text
    assert f"noise {est.noise_sigma:.1f} grey levels" in text and text.endswith(f"in focus {100 * est.in_focus:.0f} %")
