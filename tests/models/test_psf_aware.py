"""The PSF-aware MIDNet: shapes, identity start, the Wiener maths, save/load."""

from __future__ import annotations

import math

import pytest
import torch

from midnet import models
from midnet.models.psf_aware import PSFAwareMIDNet
from midnet.models.wiener import wiener_deconvolve
from midnet.psf import PSF
from midnet.psf.render_torch import blur_batch, psf_params, render_kernels


def _scene(n: int = 96, seed: int = 0) -> torch.Tensor:
    """A (1, 1, n, n) SEM-like test image: rectangles and discs of several grey levels (edges at
    every scale, which a blur destroys and a deconvolution must bring back)."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(n, dtype=torch.float32), torch.arange(n, dtype=torch.float32),
                            indexing="ij")
    img = torch.full((n, n), 0.3)
    for _ in range(12):
        cy, cx, r = (torch.rand(3, generator=g) * torch.tensor([n, n, n / 6])).tolist()
        level = float(torch.rand(1, generator=g))
        img = torch.where((yy - cy) ** 2 + (xx - cx) ** 2 < (r + 2) ** 2, torch.tensor(level), img)
        y0, x0 = int(torch.randint(0, n - 8, (1,), generator=g)), int(torch.randint(0, n - 8, (1,), generator=g))
        img[y0:y0 + 6, x0:x0 + 10] = float(torch.rand(1, generator=g))
    return img[None, None]


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return -10 * math.log10(float(((a - b) ** 2).mean()))


@pytest.mark.parametrize("size", [(16, 16), (37, 53), (64, 40)])
def test_any_size_with_and_without_psf(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = models.create("midnet-psf-tiny")
    x = torch.rand(2, 1, *size)
    psf = psf_params([PSF("gaussian", 2.0), PSF("astigmatic", 3.0, 1.5, 30.0)])
    assert net(x).shape == x.shape
    out = net(x, psf=psf, noise_sigma=torch.tensor([0.01, 0.05]))
    assert out.shape == x.shape and torch.isfinite(out).all()


def test_identity_start_without_psf() -> None:
    """psf=None, noise 0: an untrained net returns the input exactly (zero-initialised last conv)."""
    net = models.create("midnet-psf-tiny")
    x = torch.rand(3, 1, 40, 48)
    assert torch.equal(net(x, psf=None, noise_sigma=torch.zeros(3)), x)
    # rows of family none (what in-focus training samples are given) take the same path
    none = psf_params([PSF("none")] * 3)
    assert torch.equal(net(x, psf=none, noise_sigma=torch.zeros(3)), x)
    assert getattr(net, "psf_aware", False) is True


def test_untrained_net_returns_middle_wiener() -> None:
    net = models.create("midnet-psf-tiny")
    x = torch.rand(2, 1, 32, 32)
    psf, noise = psf_params([PSF("gaussian", 1.5)] * 2), torch.full((2,), 0.01)
    wiener = net.estimates(x, psf, noise)
    assert wiener.shape == (2, 3, 32, 32)
    assert torch.allclose(net(x, psf=psf, noise_sigma=noise), wiener[:, 1:2])


@pytest.mark.parametrize("psf", [PSF("gaussian", 2.0), PSF("astigmatic", 2.5, 1.2, 30.0), PSF("lorentzian", 1.5)])
def test_wiener_with_true_psf_restores(psf: PSF) -> None:
    """The FFT maths, not the learned part: the true PSF and low noise give back far more than
    the blurry input had (measured +3.1 to +10.9 dB on this scene), and the mean stays
    (|D|² = 0 at zero frequency)."""
    sharp = _scene()
    rows = psf_params([psf])
    blurry = blur_batch(sharp, render_kernels(rows, 24))
    g = torch.Generator().manual_seed(1)
    noisy = blurry + 0.5 / 255 * torch.randn(blurry.shape, generator=g)
    out = wiener_deconvolve(noisy, rows, torch.tensor([0.5 / 255]), torch.tensor([60.0]), radius=24)
    cut = (..., slice(8, -8), slice(8, -8))  # the borders see reflected context, not the truth
    before, after = _psnr(noisy[cut], sharp[cut]), _psnr(out[cut], sharp[cut])
    assert after > before + 2.5, (before, after)
    assert abs(float(out.mean() - noisy.mean())) < 1e-3


def test_wiener_of_no_blur_is_a_smoothing_that_keeps_the_mean() -> None:
    x = torch.rand(1, 1, 32, 32)
    out = wiener_deconvolve(x, psf_params([PSF("none")]), torch.tensor([0.0]), torch.tensor([1e-6, 1e9]), radius=8)
    assert torch.allclose(out[:, 0], x[:, 0], atol=1e-4)                  # no regularisation: identity
    assert float(out[:, 1].std()) < 0.1 * float(x.std())                    # heavy: nearly flat
    # the padded image's mean is kept; the crop's differs from it only by the reflected margin
    assert abs(float(out[:, 1].mean() - x.mean())) < 0.02


def test_gradients_reach_strengths_and_backbone() -> None:
    net = models.create("midnet-psf-tiny")
    torch.nn.init.normal_(net.backbone.ending.weight, std=0.01)
    x = torch.rand(2, 1, 32, 32)
    out = net(x, psf=psf_params([PSF("disc", 2.0), PSF("gaussian", 1.0)]), noise_sigma=torch.full((2,), 0.02))
    out.square().mean().backward()
    assert net.log_strengths.grad is not None and net.log_strengths.grad.abs().sum() > 0
    assert net.backbone.intro.weight.grad.abs().sum() > 0


def test_save_load_round_trip(tmp_path) -> None:
    torch.manual_seed(0)
    net = models.create("midnet-psf-tiny")
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.02) if p.ndim > 1 else None
    path = models.save_model(net, tmp_path / "psf.safetensors")
    back = models.load_model(path)
    assert isinstance(back, PSFAwareMIDNet)
    x = torch.rand(1, 1, 32, 32)
    psf, noise = psf_params([PSF("gaussian", 2.0)]), torch.tensor([0.01])
    assert torch.allclose(back(x, psf=psf, noise_sigma=noise), net(x, psf=psf, noise_sigma=noise))


def test_registry_sizes() -> None:
    assert {"midnet-psf-tiny", "midnet-psf-small"} <= set(models.available())
    net = models.create("midnet-psf-small")
    assert models.size_multiple(net) == 16 and models.in_channels(net) == 1


def test_psf_restorer_is_a_psf_aware_callable(tmp_path, monkeypatch) -> None:
    """The benchmark's entry point: an untrained net given ``none`` returns the image."""
    from midnet.benchmark.heldout import psf_aware
    from midnet.inference import psf_restore

    path = models.save_model(models.create("midnet-psf-tiny"), tmp_path / "psf.safetensors")
    monkeypatch.setenv(psf_restore.MODEL_ENV, str(path))
    img = torch.rand(40, 56).numpy()
    assert psf_aware(psf_restore.restore)
    out = psf_restore.restore(img, psf=PSF("none"), noise_sigma=0.0)
    assert out.shape == img.shape and abs(out - img).max() < 1e-6
    assert psf_restore.restore(img, psf=PSF("gaussian", 1.5), noise_sigma=3.0).shape == img.shape


def test_wiener_base_callable_is_the_middle_estimate() -> None:
    from midnet.inference import psf_restore

    img = torch.rand(32, 32)
    out = psf_restore.wiener_base(img.numpy(), psf=PSF("gaussian", 1.5), noise_sigma=3.0)
    net = models.create("midnet-psf-tiny")
    want = net.estimates(img[None, None], psf_params([PSF("gaussian", 1.5)]), torch.tensor([3.0 / 255]))[0, 1]
    assert abs(out - want.detach().clamp(0, 1).numpy()).max() < 1e-5
