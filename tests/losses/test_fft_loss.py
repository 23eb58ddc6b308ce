"""FFTLoss against independent NumPy FFT computations; crop-size independence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from midnet.losses import DEFAULT_FFT_MODE, FFTLoss


def reference_weight(h: int, w: int, gain: float) -> np.ndarray:
    """|frequency| in cycles/pixel from integer indices (min(u, H−u)/H), divided by Nyquist 0.5."""
    fy = np.array([min(u, h - u) / h for u in range(h)])
    fx = np.array([min(v, w - v) / w for v in range(w)])
    rho = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2) / 0.5
    return 1 + gain * rho


def reference_weighted_l2(pred: np.ndarray, target: np.ndarray, gain: float) -> float:
    """Eq. 12 with an unnormalised DFT, 1/(W·H), and one more 1/(W·H); averaged over images and channels."""
    h, w = pred.shape[-2:]
    weight = reference_weight(h, w, gain)
    values = []
    for plane_p, plane_t in zip(pred.reshape(-1, h, w), target.reshape(-1, h, w)):
        f = np.fft.fft2(plane_p) - np.fft.fft2(plane_t)
        values.append(np.sum(weight * np.abs(f) ** 2) / (w * h) / (w * h))
    return float(np.mean(values))


def reference_l1(pred: np.ndarray, target: np.ndarray) -> float:
    h, w = pred.shape[-2:]
    f = (np.fft.rfft2(pred) - np.fft.rfft2(target)) / np.sqrt(h * w)
    return float(np.mean(np.concatenate([np.abs(f.real).ravel(), np.abs(f.imag).ravel()])))


@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (1, 3, 17, 24)])
@pytest.mark.parametrize("gain", [0.0, 1.0, 2.5])
def test_weighted_l2_matches_numpy(shape, gain):
    rng = np.random.default_rng(0)
    pred, target = rng.random(shape), rng.random(shape)
    got = FFTLoss("weighted_l2", gain)(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert got == pytest.approx(reference_weighted_l2(pred, target, gain), rel=1e-5)


def test_weighted_l2_without_emphasis_is_mse_by_parseval():
    rng = np.random.default_rng(1)
    pred, target = rng.random((2, 2, 20, 30)), rng.random((2, 2, 20, 30))
    got = FFTLoss("weighted_l2", 0.0)(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert got == pytest.approx(np.mean((pred - target) ** 2), rel=1e-5)


@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (1, 3, 17, 25)])
def test_l1_matches_numpy(shape):
    rng = np.random.default_rng(2)
    pred, target = rng.random(shape), rng.random(shape)
    got = FFTLoss("l1")(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert got == pytest.approx(reference_l1(pred, target), rel=1e-5)


@pytest.mark.parametrize("mode", ["l1", "weighted_l2"])
def test_value_does_not_depend_on_crop_size(mode):
    """Same residual statistics (smooth image + noise of σ = 5 grey levels) at 64² and 256²."""
    gen = torch.Generator().manual_seed(3)
    values = {}
    for size in (64, 256):
        target = torch.rand(4, 1, size, size, generator=gen)
        pred = target + torch.randn(4, 1, size, size, generator=gen) * (5 / 255)
        values[size] = FFTLoss(mode)(pred, target).item()
    assert values[256] == pytest.approx(values[64], rel=0.1)


@pytest.mark.parametrize("mode", ["l1", "weighted_l2"])
def test_gradcheck(mode):
    pred = torch.rand(1, 2, 6, 7, dtype=torch.float64, requires_grad=True)
    target = torch.rand(1, 2, 6, 7, dtype=torch.float64)
    # The loss computes in float32 (see module doc), so compare against float32-level tolerance.
    assert torch.autograd.gradcheck(lambda p: FFTLoss(mode)(p, target), (pred,), eps=1e-3, atol=1e-3, rtol=1e-2, fast_mode=True)


@pytest.mark.parametrize("mode", ["l1", "weighted_l2"])
def test_mask_replaces_masked_target_by_prediction(mode):
    rng = np.random.default_rng(4)
    pred = torch.from_numpy(rng.random((2, 1, 16, 16)))
    target = torch.from_numpy(rng.random((2, 1, 16, 16)))
    mask = torch.ones(2, 1, 16, 16, dtype=torch.float64)
    mask[..., 12:, :] = 0
    replaced = torch.where(mask.bool(), target, pred)
    loss = FFTLoss(mode)
    expected = loss(pred, replaced).item() * 16 / 12  # rescaled to the counted rows
    assert loss(pred, target, mask).item() == pytest.approx(expected, rel=1e-5)


def test_default_mode_and_bad_mode():
    assert FFTLoss().mode == DEFAULT_FFT_MODE == "l1"
    with pytest.raises(ValueError, match="unknown mode"):
        FFTLoss("l3")
