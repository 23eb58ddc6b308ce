"""The PSF families: normalised kernels, the σ-equivalent (MTF50 match) and the ``--psf`` syntax."""

from __future__ import annotations

import math

import numpy as np
import pytest

from midnet.psf.kernels import DISC_SIGMA_PER_RADIUS, LORENTZ_SIGMA_PER_GAMMA, PSF, mtf50_sigma

SPECS = ["gaussian:2", "astigmatic:2.5,1.2,30", "lorentzian:1.5", "disc:3", "gaussian:0.7", "lorentzian:4"]


@pytest.mark.parametrize("spec", SPECS)
def test_kernels_are_normalised_and_non_negative(spec: str) -> None:
    k = PSF.parse(spec).kernel()
    assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
    assert k.sum() == pytest.approx(1.0, abs=1e-9)
    assert (k >= 0).all()


@pytest.mark.parametrize("spec", ["gaussian:1", "gaussian:3", "lorentzian:1", "lorentzian:3", "disc:4", "disc:8"])
def test_sigma_equivalent_is_the_mtf50_of_the_rendered_kernel(spec: str) -> None:
    """The width written is the width rendered: MTF50 of the kernel gives back sigma_px
    (Lorentzian within 3 %: its kernel keeps 98 % of the energy; disc within 3 %: pixels)."""
    psf = PSF.parse(spec)
    assert mtf50_sigma(psf.kernel()) == pytest.approx(psf.sigma_px, rel=0.03)


def test_mtf_is_one_half_at_the_gaussian_mtf50_for_every_family() -> None:
    sigma = 2.0
    f50 = math.sqrt(math.log(2) / 2) / (math.pi * sigma)
    for family in ("gaussian", "lorentzian", "disc"):
        assert float(PSF(family, sigma).mtf(np.array(f50), np.array(0.0))) == pytest.approx(0.5, abs=1e-4)
    assert LORENTZ_SIGMA_PER_GAMMA == pytest.approx(1.699, abs=1e-3)
    assert DISC_SIGMA_PER_RADIUS == pytest.approx(0.5315, abs=1e-3)


def test_astigmatic_angle_is_counter_clockwise_from_horizontal() -> None:
    """0°: major axis along the rows' direction (horizontal); 90°: vertical; 45°: up-right."""
    k0 = PSF("astigmatic", 3.0, 1.0, 0.0).kernel()
    k90 = PSF("astigmatic", 3.0, 1.0, 90.0).kernel()
    c = k0.shape[0] // 2
    assert k0[c, c + 3] > k0[c + 3, c]
    np.testing.assert_allclose(k90, k0.T, atol=1e-12)
    k45 = PSF("astigmatic", 3.0, 1.0, 45.0).kernel()
    assert k45[c - 2, c + 2] > 10 * k45[c - 2, c - 2]  # up (row − 2) and right (col + 2)


@pytest.mark.parametrize("spec", SPECS + ["none", "disc:2.5", "astigmatic:3,1,179.5"])
def test_syntax_round_trips(spec: str) -> None:
    psf = PSF.parse(spec)
    assert PSF.parse(str(psf)) == psf
    assert str(psf) == spec


def test_parse_accepts_a_bare_width_and_folds_the_angle() -> None:
    assert PSF.parse("2") == PSF("gaussian", 2.0)
    assert PSF.parse("astigmatic:2,1,210").angle_deg == pytest.approx(30.0)
    assert PSF.parse("none").sigma_px == 0.0


@pytest.mark.parametrize("bad, words", [("gauss:2", "unknown PSF"), ("gaussian", "expected gaussian:2.0"),
                                        ("gaussian:-1", "> 0"), ("astigmatic:1,2,0", "major"),
                                        ("lorentzian:nan", "expected"), ("astigmatic:2,1", "angle")])
def test_parse_errors_say_what_is_expected(bad: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        PSF.parse(bad)


def test_blur_is_mean_preserving_and_none_is_identity() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((64, 80))
    for spec in SPECS:
        y = PSF.parse(spec).blur(x)
        assert y.shape == x.shape
        assert y.mean() == pytest.approx(x.mean(), abs=0.02)
        assert y.std() < x.std()
    np.testing.assert_array_equal(PSF.parse("none").blur(x), x)


def test_one_gaussian_kernel_with_the_cut_each_caller_states() -> None:
    """Synthetic defocus (±4σ) and the classical baselines (±3σ) use the one Gaussian kernel."""
    from midnet.baselines.classical import TRUNCATE as BASELINE_CUT
    from midnet.data.defocus import TRUNCATE as TRAINING_CUT, psf_for_width
    from midnet.psf.kernels import gaussian_kernel

    np.testing.assert_allclose(psf_for_width("gaussian", 2.0), PSF("gaussian", 2.0).kernel(truncate=4.0), atol=1e-7)
    assert gaussian_kernel(2.0, truncate=TRAINING_CUT).shape == (17, 17)
    assert gaussian_kernel(2.0, truncate=BASELINE_CUT).shape == (13, 13)
    np.testing.assert_allclose(gaussian_kernel(3.0, 1.0, 0.0, truncate=4.0),
                               PSF("astigmatic", 3.0, 1.0, 90.0).kernel(truncate=4.0), atol=1e-12)
    with pytest.raises(ValueError, match="> 0"):
        gaussian_kernel(0, truncate=3.0)
