"""FFTLoss against independent NumPy FFT computations; crop-size independence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from loss_references import reference_l1, reference_weighted_l2

from midnet.losses import DEFAULT_FFT_MODE, FFTLoss


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
