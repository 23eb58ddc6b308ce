"""Batch degradation in torch: each promise checked against an independent computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from midnet.data.degrade_torch import BatchRanges, degrade_batch, generator_for
from midnet.psf import PSF
from midnet.psf.render_torch import blur_batch, psf_from_params, psf_params, render_kernels

PSFS = [PSF("gaussian", 0.3), PSF("gaussian", 2.0), PSF("gaussian", 6.0), PSF("astigmatic", 2.5, 1.2, 30),
        PSF("astigmatic", 5.0, 1.0, 117), PSF("lorentzian", 0.3), PSF("lorentzian", 1.5), PSF("lorentzian", 6.0),
        PSF.disc(0.6), PSF.disc(3.0), PSF("disc", 6.0), PSF("none")]


def quiet(**kw) -> BatchRanges:
    """Ranges with nothing random but what a test asks for."""
    base = dict(flat_fraction=0.0, in_focus_fraction=0.0, contrast_fraction=0.0, scan_fraction=0.0,
                bits={16: 1.0}, noise_sigma=(0.0, 0.0), in_focus_noise_sigma=(0.0, 0.0))
    return BatchRanges.from_dict({**base, **kw})


def test_torch_kernels_equal_the_numpy_psf_kernels_for_every_family():
    radius = 48
    k = render_kernels(psf_params(PSFS, dtype=torch.float64), radius).numpy()
    for psf, got in zip(PSFS, k):
        r = min(psf.default_radius(), radius)
        want = np.zeros_like(got)
        want[radius - r:radius + r + 1, radius - r:radius + r + 1] = psf.kernel(radius=r)
        assert np.abs(got - want).max() < 1e-5, str(psf)
    k32 = render_kernels(psf_params(PSFS), radius).numpy()     # float32, as training uses
    assert np.abs(k32 - k).max() < 1e-5


def test_params_round_trip_to_psf():
    for psf in PSFS:
        assert str(psf_from_params(psf_params([psf], dtype=torch.float64)[0])) == str(psf)


def test_fft_blur_is_a_reflect_padded_convolution_without_wrap_around():
    rng = np.random.default_rng(0)
    img = rng.random((2, 1, 64, 80))
    k = render_kernels(psf_params([PSF("gaussian", 3.0), PSF("astigmatic", 4.0, 1.5, 60)], dtype=torch.float64), 12)
    got = blur_batch(torch.from_numpy(img), k).numpy()
    for i in range(2):  # torch's "reflect" padding is ndimage's "mirror"
        want = ndimage.convolve(img[i, 0], k[i].numpy()[::-1, ::-1], mode="mirror")
        np.testing.assert_allclose(got[i, 0], want, atol=1e-10)


def test_noise_std_at_mid_grey_is_the_requested_level():
    grey = torch.full((16, 1, 96, 96), 0.5)
    for shot in (0.0, 0.9):
        out = degrade_batch(grey, generator_for(1, 0), quiet(noise_sigma=(20.0, 20.0), shot_fraction=(shot, shot)))
        std = out.blurry.std(dim=(1, 2, 3)) * 255
        assert torch.allclose(std, torch.full_like(std, 20.0), rtol=0.1), (shot, std)
        assert torch.allclose(out.noise_sigma, torch.full((16,), 20.0))


def test_in_focus_samples_are_not_blurred_and_flat_ones_stay_flat():
    sharp = torch.rand(8, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    out = degrade_batch(sharp, generator_for(2, 0), quiet(in_focus_fraction=1.0))
    assert (out.kind == 1).all() and (out.psf[:, 0] == 4).all()          # family none
    assert torch.allclose(out.blurry, sharp, atol=1 / 65535)
    assert torch.equal(out.target, sharp)
    flat = degrade_batch(sharp, generator_for(2, 0), quiet(flat_fraction=1.0))
    assert (flat.kind == 2).all()
    assert (flat.target.amax(dim=(1, 2, 3)) == flat.target.amin(dim=(1, 2, 3))).all()
    blurred = degrade_batch(sharp, generator_for(2, 0), quiet(sigma=(2.0, 3.0)))
    assert (blurred.blurry - sharp).abs().mean() > 0.05                   # and blurred ones are


def test_quantisation_levels():
    sharp = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    for bits in (8, 12):
        out = degrade_batch(sharp, generator_for(3, 0), quiet(bits={bits: 1.0}, noise_sigma=(5.0, 5.0)))
        levels = out.blurry * (2**bits - 1)
        assert torch.allclose(levels, levels.round(), atol=1e-3) and (out.bits == bits).all()


def test_a_batch_is_a_function_of_seed_and_step():
    sharp = torch.rand(6, 1, 64, 64, generator=torch.Generator().manual_seed(4))
    a, b = (degrade_batch(sharp, generator_for(7, 11)) for _ in range(2))
    for f in ("blurry", "target", "psf", "given_psf", "noise_sigma", "kind"):
        assert torch.equal(getattr(a, f), getattr(b, f)), f
    c = degrade_batch(sharp, generator_for(7, 12))
    assert not torch.equal(a.blurry, c.blurry)


def test_given_psf_is_the_true_one_perturbed_within_the_ranges():
    sharp = torch.rand(64, 1, 32, 32, generator=torch.Generator().manual_seed(5))
    r = BatchRanges.from_dict({"in_focus_fraction": 0.2, "flat_fraction": 0.0})
    out = degrade_batch(sharp, generator_for(8, 0), r)
    true_fam, given_fam = out.psf[:, 0], out.given_psf[:, 0]
    blur = out.kind == 0
    same = blur & (true_fam == given_fam)
    rms = lambda p: torch.sqrt((p[:, 1] ** 2 + p[:, 2] ** 2) / 2)  # noqa: E731
    ratio = rms(out.given_psf[same]) / rms(out.psf[same])
    assert ((ratio >= 0.8 - 1e-5) & (ratio <= 1.2 + 1e-5)).all()
    assert 0 < (blur & (true_fam != given_fam)).sum() < blur.sum()        # sometimes the wrong family
    assert set(given_fam[out.kind == 1].tolist()) <= {0.0, 4.0}             # in focus: none or small Gaussian
    assert (out.given_noise_sigma >= 0.8 * out.noise_sigma - 1e-5).all()


def test_shapes_dtypes_and_devices():
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        sharp = torch.rand(3, 1, 40, 56, device=dev)
        out = degrade_batch(sharp, generator_for(0, 0, dev))
        assert out.blurry.shape == out.target.shape == sharp.shape
        assert out.psf.shape == out.given_psf.shape == (3, 4) and out.noise_sigma.shape == (3,)
        assert all(t.device.type == dev for t in (out.blurry, out.target, out.psf, out.given_psf, out.noise_sigma))
        assert out.blurry.dtype == sharp.dtype


def test_mixture_is_refused_and_unknown_settings_are_named():
    with pytest.raises(ValueError, match="mixture"):
        BatchRanges.from_dict({"families": {"gaussian": 1.0, "mixture": 0.5}})
    with pytest.raises(KeyError, match="astig_ratio"):
        BatchRanges.from_dict({"nope": 1})
