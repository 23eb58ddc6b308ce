"""`Deblurrer(psf=...)`: the shipped PSF-aware preview is given the PSF (auto, spec, `PSF`, none),
says which one it used, writes it into the output's note; a blind model refuses a PSF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from midnet import Deblurrer, models
from midnet.evaluation import score
from midnet.inference.deblurrer import PSF_METADATA
from midnet.inference.psf_restore import PSFRestorer
from midnet.psf import PSF
from specimens import degrade, textured


@pytest.fixture(scope="module")
def preview() -> Deblurrer:
    return Deblurrer.from_pretrained("sem-psf-preview", device="cpu")


@pytest.fixture(scope="module")
def blurred() -> tuple[np.ndarray, np.ndarray]:
    """(clean, 8-bit blurred by a Gaussian σ = 2 px with noise 2), 192 × 256."""
    clean = textured((192, 256), seed=11)
    return clean, np.rint(degrade(clean, PSF("gaussian", 2.0), 2.0) * 255).astype(np.uint8)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)


def test_the_given_psf_reaches_the_network(preview: Deblurrer, blurred) -> None:
    """The Deblurrer passes the PSF and the noise exactly as `PSFRestorer` does (same output away
    from the border, which the tiler mirrors), and the right PSF restores better than none."""
    clean, image = blurred
    out = preview(image, psf="gaussian:2")
    used = preview.last_psf
    assert used.psf == PSF("gaussian", 2.0) and used.source == "given"
    direct = _u8(PSFRestorer(models.load_model("sem-psf-preview"))(image / 255.0, PSF("gaussian", 2.0),
                                                                  used.noise_sigma * 255))
    inner = (slice(32, -32), slice(32, -32))
    assert np.abs(out[inner].astype(int) - direct[inner]).max() <= 1
    denoised = preview(image, psf="none")
    assert preview.last_psf.psf == PSF("none")
    sharp = _u8(clean)
    assert score(out, sharp).psnr > score(denoised, sharp).psnr + 0.5
    assert score(out, sharp).psnr > score(image, sharp).psnr + 0.5


def test_auto_is_the_default_and_is_recorded(preview: Deblurrer, blurred) -> None:
    clean, image = blurred
    assert preview.psf == "auto"
    out = preview(image)
    used = preview.last_psf
    assert used.source == "estimated" and used.psf.family != "none"
    assert used.psf.sigma_px == pytest.approx(2.0, rel=0.3)
    assert score(out, _u8(clean)).psnr > score(image, _u8(clean)).psnr


def test_a_psf_object_and_a_per_call_override(blurred) -> None:
    _, image = blurred
    d = Deblurrer.from_pretrained("sem-psf-preview", device="cpu", psf=PSF("lorentzian", 1.5))
    d(image)
    assert d.last_psf.psf == PSF("lorentzian", 1.5) and d.last_psf.source == "given"
    d(image, psf="auto")
    assert d.last_psf.source == "estimated"
    assert d.psf == PSF("lorentzian", 1.5)  # the override was for that call only


def test_psf_without_a_model_name_loads_the_psf_aware_model() -> None:
    d = Deblurrer.from_pretrained(device="cpu", psf="none")
    assert d.model_name == "sem-psf-preview" and d.psf_aware and d.psf == PSF("none")
    assert Deblurrer.from_pretrained(device="cpu").model_name == "sem-general"


def test_a_blind_model_refuses_a_given_psf_and_names_the_psf_aware_model(blurred) -> None:
    _, image = blurred
    for psf in ("gaussian:2", "none", PSF("disc", 1.0)):
        with pytest.raises(ValueError, match=r"sem-general is blind .* use the PSF-aware model: --model sem-psf-preview"):
            Deblurrer.from_pretrained("sem-general", device="cpu", psf=psf)
    with pytest.raises(ValueError, match="sem-psf-preview"):
        Deblurrer.from_pretrained("sem-general", device="cpu", psf_map=True)
    blind = Deblurrer.from_pretrained("sem-general", device="cpu", psf="auto")  # accepted, changes nothing
    plain = Deblurrer.from_pretrained("sem-general", device="cpu")
    np.testing.assert_array_equal(blind(image), plain(image))
    assert blind.last_psf is None and not blind.psf_aware
    with pytest.raises(ValueError, match="blind"):
        blind(image, psf="gaussian:2")


def test_per_tile_psfs_need_auto() -> None:
    with pytest.raises(ValueError, match="psf_map .* needs psf='auto'"):
        Deblurrer.from_pretrained("sem-psf-preview", device="cpu", psf="gaussian:2", psf_map=True)


def test_psf_none_on_an_in_focus_image_changes_it_no_more_than_a_denoiser(preview: Deblurrer) -> None:
    """Issue 18's bar: ``--psf none`` on an in-focus frame with σ = 1 grey level of noise stays
    within 45 dB of the noisy input. The shipped sharp 7-1 crop (a real SEM frame, not trained
    on): measured 67.0 dB (docs/results/psf-steer/summary.md)."""
    from midnet.evaluation.demo import packaged_pair
    from midnet.io import read_image

    sharp = read_image(packaged_pair()[1]).array[:448]
    noisy = np.clip(np.rint(sharp + np.random.default_rng(0).normal(0, 1.0, sharp.shape)), 0, 255).astype(np.uint8)
    out = preview(noisy, psf="none")
    assert score(out, noisy).psnr >= 45.0
    assert not np.array_equal(out, noisy)  # it does run the network (it denoises a little)


def test_a_given_noise_level_steers_the_denoising_of_fine_texture() -> None:
    """Fine texture reads as noise (the textured specimen: about 11 grey levels estimated for 1
    added), so ``psf none`` alone smooths it away (38 dB against the noisy input); told the true
    noise, the network changes the image no more than a denoiser would (issue 18's 45 dB bar)."""
    clean = textured((192, 256), seed=3) * 255
    noisy = np.clip(np.rint(clean + np.random.default_rng(0).normal(0, 1.0, clean.shape)), 0, 255).astype(np.uint8)
    estimated = Deblurrer.from_pretrained("sem-psf-preview", device="cpu", psf="none")
    told = Deblurrer.from_pretrained(device="cpu", psf="none", noise=1.0)  # noise alone picks the PSF model
    assert told.model_name == models.PSF_MODEL
    loose = score(estimated(noisy), noisy).psnr
    tight = score(told(noisy), noisy).psnr
    assert estimated.last_psf.noise_sigma * 255 > 5 and not estimated.last_psf.noise_given
    assert told.last_psf.noise_sigma == pytest.approx(1 / 255) and told.last_psf.noise_given
    assert tight >= 45.0 > loose
    assert "noise 1/255 given" in told.last_psf.describe() and "noise" in told.last_psf.note()


def test_a_given_noise_is_in_grey_levels_of_the_images_white() -> None:
    """12-bit data in uint16: noise 16 is 16/4095 of white, as `midnet estimate` reports it."""
    image = (textured((128, 160), seed=5) * 4095).astype(np.uint16)
    d = Deblurrer.from_pretrained(device="cpu", psf="none", noise=16.0)
    d(image, max_value=4095)
    assert d.last_psf.noise_sigma == pytest.approx(16 / 4095)


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_a_bad_noise_level_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="noise must be a finite"):
        Deblurrer.from_pretrained("sem-psf-preview", device="cpu", noise=bad)


def test_a_blind_model_is_not_told_the_noise() -> None:
    with pytest.raises(ValueError, match="blind model, which is not told the noise"):
        Deblurrer.from_pretrained("sem-general", device="cpu", noise=2.0)


def test_the_psf_goes_into_the_output_files_note(preview: Deblurrer, blurred, tmp_path: Path) -> None:
    _, image = blurred
    tifffile.imwrite(tmp_path / "a.tif", image)  # tifffile fills Software: the note goes to ProcessingSoftware
    Image.fromarray(image).save(tmp_path / "b.png")
    preview.deblur_file(tmp_path / "a.tif", tmp_path / "out" / "a.tif")
    preview.deblur_file(tmp_path / "b.png", tmp_path / "out" / "b.png")
    with tifffile.TiffFile(tmp_path / "out" / "a.tif") as tif:
        note = tif.pages[0].tags[11].value
    assert note.startswith("midnet ") and "(model: sem-psf-preview; psf gaussian:" in note and note.endswith(" estimated)")
    assert "; psf gaussian:" in Image.open(tmp_path / "out" / "b.png").text["Software"]


def test_each_page_of_a_stack_gets_its_own_psf(preview: Deblurrer, tmp_path: Path) -> None:
    clean = textured((160, 192), seed=5)
    pages = np.stack([_u8(degrade(clean, PSF("gaussian", s), 2.0)) for s in (1.5, 3.5)])
    tifffile.imwrite(tmp_path / "stack.tif", pages)
    image = preview.read_file(tmp_path / "stack.tif")
    restored = preview.restore_image(image, databar=0)
    used = restored.metadata[PSF_METADATA]
    assert [u.source for u in used] == ["estimated", "estimated"]
    assert used[1].psf.sigma_px > used[0].psf.sigma_px + 1.0
    assert PSF_METADATA not in image.metadata  # the input's metadata is not changed
    note = preview.processing_note(used)
    assert note.count("; psf ") == 2


def test_a_colour_image_gets_the_psf_of_its_luma(preview: Deblurrer, blurred) -> None:
    """One column blurs all channels alike: the PSF is estimated once, on the luma, and each
    channel is restored with it (grey model, channel rule)."""
    _, image = blurred
    rgb = np.stack([image, np.clip(image.astype(int) + 20, 0, 255).astype(np.uint8), image // 2], axis=2)
    out = preview(rgb)
    used = preview.last_psf
    luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255
    from midnet.inference.psf_choice import choose_psf

    assert used.psf.family == choose_psf(luma, "auto").psf.family
    assert used.psf.sigma_px == pytest.approx(choose_psf(luma, "auto").psf.sigma_px, rel=1e-5)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    red = preview.restore_float((image / np.float32(255))[None].astype(np.float32), used)[0]
    np.testing.assert_array_equal(out[..., 0], _u8(red))
