"""Which PSF a PSF-aware model gets: parsing ``auto``/spec/``none``/`PSF`, the estimate, the record."""

from __future__ import annotations

import numpy as np
import pytest

from midnet.inference.psf_choice import AUTO, PSFUsed, choose_psf, parse_psf
from midnet.psf import PSF
from specimens import degrade, textured


def test_parse_accepts_auto_specs_none_and_psf_objects() -> None:
    assert parse_psf("auto") == AUTO and parse_psf(" AUTO ") == AUTO
    assert parse_psf(None) is None
    assert parse_psf("gaussian:2.0") == PSF("gaussian", 2.0)
    assert parse_psf("astigmatic:2.5,1.2,30") == PSF("astigmatic", 2.5, 1.2, 30.0)
    assert parse_psf("none") == PSF("none")
    given = PSF("lorentzian", 1.5)
    assert parse_psf(given) is given


@pytest.mark.parametrize("bad, why", [("gaussian:x", "expected gaussian:2.0"), ("blurry:1", "unknown PSF family 'blurry'"),
                                      ("astigmatic:2,1", "expected astigmatic"), ("gaussian:-1", "> 0")])
def test_a_bad_spec_is_one_line_with_the_syntax(bad: str, why: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_psf(bad)
    message = str(err.value)
    assert "\n" not in message and repr(bad) in message and why in message
    assert "accepted: auto, none, gaussian:σ" in message


def test_a_sampled_kernel_is_refused_with_the_fix() -> None:
    with pytest.raises(TypeError, match="describe it as a spec"):
        parse_psf(np.ones((5, 5)) / 25)  # type: ignore[arg-type]


def test_auto_estimates_a_blurred_image_and_records_it() -> None:
    image = degrade(textured(seed=2), PSF("gaussian", 2.5), 2.0)
    used = choose_psf(image, AUTO)
    assert used.source == "estimated" and used.psf.family in ("gaussian", "astigmatic")
    assert used.psf.sigma_px == pytest.approx(2.5, rel=0.25)
    assert used.estimate == used.psf and used.in_focus is not None and used.in_focus < 0.1
    assert used.noise_sigma * 255 == pytest.approx(2.0, rel=0.5)
    line = used.describe()
    assert line.startswith(f"PSF {used.psf.family} σ ") and line.endswith("px (estimated)")
    assert used.note() == f"psf {used.psf} estimated"


def test_auto_gives_none_to_an_in_focus_image_and_keeps_the_estimate() -> None:
    """The network was trained to get ``none`` for in-focus images: a small estimated width
    would make it sharpen noise."""
    used = choose_psf(degrade(textured(seed=3), PSF("none"), 1.0), AUTO)
    assert used.psf == PSF("none") and used.source == "estimated"
    assert used.in_focus >= 0.5 and used.estimate is not None and used.estimate.family != "none"
    assert "denoise only" in used.describe() and "in focus P=" in used.describe()


def test_a_given_psf_is_used_as_given() -> None:
    image = degrade(textured(seed=4), PSF("gaussian", 1.5), 3.0)
    used = choose_psf(image, PSF("astigmatic", 2.5, 1.2, 30.0))
    assert used == PSFUsed(PSF("astigmatic", 2.5, 1.2, 30.0), "given", used.noise_sigma)
    assert used.noise_sigma > 0
    assert used.describe() == "PSF astigmatic σ 2.5×1.2 px at 30° (given)"
    assert choose_psf(image, PSF("disc", 3.0 * 0.5315)).describe().startswith("PSF disc R ")
