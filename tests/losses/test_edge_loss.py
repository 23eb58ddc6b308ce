"""EdgeLoss / charbonnier / laplacian against an independent NumPy + SciPy computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from loss_references import reference_edge_loss, reference_laplacian

from midnet.losses import EdgeLoss, charbonnier, laplacian


@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (1, 3, 33, 47), (2, 4, 16, 21)])
def test_edge_loss_matches_scipy(shape):
    rng = np.random.default_rng(0)
    pred, target = rng.random(shape), rng.random(shape)
    got = EdgeLoss()(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert got == pytest.approx(reference_edge_loss(pred, target), rel=1e-10)


def test_laplacian_matches_scipy_float32():
    rng = np.random.default_rng(1)
    img = rng.random((1, 2, 20, 25)).astype(np.float32)
    got = laplacian(torch.from_numpy(img)).numpy()
    ref = np.stack([reference_laplacian(img[0, c].astype(np.float64)) for c in range(2)])[None]
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_laplacian_of_constant_is_zero_away_from_the_border():
    """Even and odd taps of g each sum to 1/2, so ×4 zero-insertion preserves a constant inside;
    the replicate-padded border keeps MPRNet's artefact (checked against SciPy above)."""
    const = torch.full((1, 1, 16, 16), 0.7, dtype=torch.float64)
    lap = laplacian(const)
    assert lap[..., 3:-3, 3:-3].abs().max().item() < 1e-12
    assert lap[..., 0, :].abs().max().item() > 0.1


def test_charbonnier_formula_and_identical_inputs():
    d = torch.tensor([0.0, 1e-3, -0.5, 2.0], dtype=torch.float64)
    expected = np.mean(np.sqrt(np.array([0.0, 1e-3, -0.5, 2.0]) ** 2 + 1e-6))
    assert charbonnier(d).item() == pytest.approx(expected, rel=1e-12)
    x = torch.rand(1, 1, 16, 16, dtype=torch.float64)
    assert EdgeLoss()(x, x).item() == pytest.approx(1e-3, rel=1e-12)  # sqrt(0 + eps²)


def test_edge_loss_gradcheck():
    pred = torch.rand(1, 2, 6, 7, dtype=torch.float64, requires_grad=True)
    target = torch.rand(1, 2, 6, 7, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda p: EdgeLoss()(p, target), (pred,), fast_mode=True)


def test_edge_loss_mask_ignores_masked_content_and_averages_counted_pixels():
    rng = np.random.default_rng(2)
    pred = torch.from_numpy(rng.random((1, 1, 24, 24)))
    target = torch.from_numpy(rng.random((1, 1, 24, 24)))
    mask = torch.ones(1, 1, 24, 24, dtype=torch.float64)
    mask[..., 18:, :] = 0
    other_target = target.clone()
    other_target[..., 18:, :] = torch.from_numpy(rng.random((1, 1, 6, 24)))
    loss = EdgeLoss()
    assert loss(pred, target, mask).item() == pytest.approx(loss(pred, other_target, mask).item(), rel=1e-12)
    # Reference: zero the difference on masked rows, Laplacian, Charbonnier over counted rows only.
    d = (pred - target).numpy()[0, 0]
    d[18:] = 0
    lap = reference_laplacian(d)[:18]
    assert loss(pred, target, mask).item() == pytest.approx(np.mean(np.sqrt(lap**2 + 1e-6)), rel=1e-10)


def test_edge_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        EdgeLoss()(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
