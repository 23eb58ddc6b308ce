"""Synthetic SEM defocus: each property the degradation promises, checked independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from midnet.data.defocus import (PSF_FAMILIES, TRUNCATE, Degradation, DefocusRanges, degrade, disc_psf,
                                 lorentzian_psf, psf_for_width, psf_sigma, quantise, sample_degradation)
from midnet.psf.kernels import gaussian_kernel


def gaussian_psf(sigma_y: float, sigma_x: float | None = None, theta: float = 0.0) -> np.ndarray:
    """The training data's Gaussian kernel (cut at ±4σ, float32 as `psf_for_width` gives it)."""
    return gaussian_kernel(sigma_y, sigma_x, theta, truncate=TRUNCATE).astype(np.float32)


def second_moment_sigma(k: np.ndarray) -> float:
    """Independent computation: σ from the 2-D covariance of the kernel (trace / 2)."""
    k = k.astype(np.float64) / k.sum()
    r = (k.shape[0] - 1) / 2
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return math.sqrt(((k * yy**2).sum() + (k * xx**2).sum()) / 2)


@pytest.mark.parametrize("family", PSF_FAMILIES)
@pytest.mark.parametrize("sigma", [1.0, 2.0, 4.0, 6.0])
def test_psf_sums_to_one_and_has_the_requested_width(family, sigma):
    k = psf_for_width(family, sigma, np.random.default_rng(3))
    assert k.ndim == 2 and k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
    assert abs(float(k.sum()) - 1.0) < 1e-5
    assert (k >= 0).all()
    tolerance = {"gaussian": 0.01, "astigmatic": 0.01, "mixture": 0.02, "disc": 0.07, "lorentzian": 0.12}[family]
    assert second_moment_sigma(k) == pytest.approx(sigma, rel=tolerance)
    assert psf_sigma(k) == pytest.approx(second_moment_sigma(k), rel=1e-9)


def test_astigmatic_psf_is_elliptical_at_the_requested_angle():
    k = gaussian_psf(3.0, 1.0, theta=0.0)
    var_y = (k.sum(axis=1) * (np.arange(k.shape[0]) - k.shape[0] // 2) ** 2).sum()
    var_x = (k.sum(axis=0) * (np.arange(k.shape[1]) - k.shape[1] // 2) ** 2).sum()
    assert var_y == pytest.approx(9.0, rel=0.01) and var_x == pytest.approx(1.0, rel=0.01)
    rotated = gaussian_psf(3.0, 1.0, theta=math.pi / 2)
    np.testing.assert_allclose(rotated, k.T, atol=1e-6)


def kurtosis(k: np.ndarray) -> float:
    r = (k.shape[0] - 1) / 2
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    rr = yy**2 + xx**2
    return float((k * rr**2).sum() / (k * rr).sum() ** 2)


def test_lorentzian_has_a_sharper_core_and_heavier_tails_than_a_gaussian_of_the_same_width():
    lor = lorentzian_psf(1.5)
    gau = gaussian_psf(psf_sigma(lor))
    assert lor.max() > gau.max()              # sharper core
    assert kurtosis(lor) > 1.5 * kurtosis(gau)  # and a longer skirt


def test_disc_is_flat_inside():
    k = disc_psf(4.0)
    c = k.shape[0] // 2
    assert k[c, c] == pytest.approx(k[c, c + 2], rel=1e-6)
    assert k[0, 0] == 0


def test_gaussian_blur_matches_scipy():
    rng = np.random.default_rng(0)
    image = rng.random((64, 64)).astype(np.float32)
    d = Degradation(kind="blur", kernel=gaussian_psf(2.0), bits=16)
    out = d.apply(image, rng)
    ref = ndimage.gaussian_filter(image.astype(np.float64), 2.0, mode="reflect", truncate=4.0)
    assert np.abs(out[8:-8, 8:-8] - ref[8:-8, 8:-8]).max() < 2e-4


@pytest.mark.parametrize("shot_fraction", [0.0, 0.5, 0.9])
def test_noise_variance_matches_the_request(shot_fraction):
    rng = np.random.default_rng(1)
    d = Degradation(kind="in_focus", noise_sigma=6.0, shot_fraction=shot_fraction, bits=16)
    for level in (0.2, 0.5, 0.8):
        flat = np.full((256, 256), level, np.float32)
        measured = d.apply(flat, rng).std()
        total = (6.0 / 255) ** 2
        expected = math.sqrt(2 * shot_fraction * total * level + (1 - shot_fraction) * total)
        assert measured == pytest.approx(expected, rel=0.03)


def test_quantisation_levels():
    x = np.linspace(0, 1, 1000, dtype=np.float32)
    for bits in (8, 12, 16):
        q = quantise(x, bits) * (2**bits - 1)
        np.testing.assert_allclose(q, np.rint(q), atol=1e-3)
    assert quantise(np.array([-0.5, 1.5], np.float32), 8).tolist() == [0.0, 1.0]


def test_sampling_is_deterministic_and_covers_every_kind():
    ranges = DefocusRanges()
    a = [sample_degradation(np.random.default_rng([5, k]), ranges) for k in range(400)]
    b = [sample_degradation(np.random.default_rng([5, k]), ranges) for k in range(400)]
    assert [(d.kind, d.family, d.sigma) for d in a] == [(d.kind, d.family, d.sigma) for d in b]
    kinds = {d.kind for d in a}
    assert kinds == {"blur", "in_focus", "flat"}
    assert {d.family for d in a if d.kind == "blur"} == set(PSF_FAMILIES)
    sigmas = [d.sigma for d in a if d.kind == "blur"]
    assert ranges.sigma[0] <= min(sigmas) and max(sigmas) <= ranges.sigma[1]
    assert max(sigmas) > 4.5  # the range up to ~6 px is really used
    assert {d.bits for d in a} == {8, 12, 16}


def test_in_focus_sample_is_only_lightly_noisy_and_targets_the_clean_image():
    rng = np.random.default_rng(0)
    sharp = np.clip(ndimage.gaussian_filter(rng.random((96, 96)), 1.0) * 2 - 0.5, 0, 1).astype(np.float32)
    ranges = DefocusRanges(in_focus_fraction=1.0, flat_fraction=0.0, in_focus_noise_sigma=(1.0, 1.0))
    blurry, target, d = degrade(sharp, np.random.default_rng(2), ranges)
    assert d.kind == "in_focus" and d.kernel is None
    np.testing.assert_array_equal(target, sharp)
    assert 0.5 / 255 < np.std(blurry - sharp) < 2.0 / 255


def test_flat_samples_are_constant_targets():
    ranges = DefocusRanges(flat_fraction=1.0, in_focus_fraction=0.0)
    sharp = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    for k in range(6):
        _, target, d = degrade(sharp, np.random.default_rng(k), ranges)
        assert d.kind == "flat" and np.ptp(target) == 0


def test_ranges_reject_unknown_keys_and_families():
    with pytest.raises(KeyError, match="unknown degradation setting"):
        DefocusRanges.from_dict({"sigmaa": [1, 2]})
    with pytest.raises(ValueError, match="unknown PSF families"):
        DefocusRanges.from_dict({"families": {"airy": 1.0}})
    r = DefocusRanges.from_dict({"sigma": [0.5, 3], "bits": {"8": 1}})
    assert r.sigma == (0.5, 3.0) and r.bits == {8: 1.0}


def test_contrast_in_target_gives_the_target_the_same_global_change():
    """``contrast_in_target``: the input's gain/offset/gamma change is the target's too, so the
    only thing left to undo is blur and noise; without it the target stays the clean image."""
    sharp = np.linspace(0.1, 0.9, 64 * 64, dtype=np.float32).reshape(64, 64)
    keep = DefocusRanges(contrast_in_target=True, contrast_fraction=1.0, in_focus_fraction=0.0,
                         flat_fraction=0.0, noise_sigma=(0.0, 0.0), scan_fraction=0.0, bits={16: 1.0})
    x, target, d = degrade(sharp, np.random.default_rng(4), keep)
    assert (d.gain, d.offset, d.gamma) != (1.0, 0.0, 1.0)
    expected = np.clip(d.gain * sharp**d.gamma + d.offset, 0, 1)
    np.testing.assert_allclose(target, expected, atol=1e-6)
    assert abs(float(x.mean()) - float(target.mean())) < 0.01      # blur keeps the mean away from borders
    restore = DefocusRanges(**{**keep.__dict__, "contrast_in_target": False})
    _, plain_target, d2 = degrade(sharp, np.random.default_rng(4), restore)
    assert (d2.gain, d2.gamma) == (d.gain, d.gamma)
    np.testing.assert_array_equal(plain_target, sharp)
