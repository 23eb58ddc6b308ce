"""MultiLoss: weighted sum, term switching, masks, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from loss_references import reference_edge_loss, reference_l1, reference_l1_term, reference_weighted_l2

from midnet.losses import MultiLoss


def _pair(shape=(2, 1, 24, 24), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=gen, dtype=torch.float64), torch.rand(shape, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("mode, fft_reference", [("weighted_l2", lambda p, t: reference_weighted_l2(p, t, 1.0)),
                                                  ("l1", reference_l1)])
def test_total_is_the_paper_weighted_sum_of_independently_computed_terms(mode, fft_reference):
    """Eq. 9 against NumPy/SciPy computations of each term (tests/losses/loss_references.py)."""
    pred, target = _pair((2, 3, 20, 22))
    total, terms = MultiLoss(1.0, 0.05, 0.01, fft_mode=mode)(pred, target)
    p, t = pred.numpy(), target.numpy()
    l1, edge, fft = reference_l1_term(p, t), reference_edge_loss(p, t), fft_reference(p, t)
    assert terms["l1"].item() == pytest.approx(l1, rel=1e-12)
    assert terms["edge"].item() == pytest.approx(edge, rel=1e-10)
    assert terms["fft"].item() == pytest.approx(fft, rel=1e-5)
    assert total.item() == pytest.approx(l1 + 0.05 * edge + 0.01 * fft, rel=1e-6)
    assert all(not t.requires_grad for t in terms.values())


class _MustNotRun(nn.Module):
    def forward(self, *args, **kwargs):
        raise AssertionError("a term with weight 0 was computed")


@pytest.mark.parametrize(
    "weights, present",
    [((1, 0, 0), {"l1"}), ((1, 0.05, 0), {"l1", "edge"}), ((1, 0, 0.01), {"l1", "fft"}), ((0, 0.05, 0.01), {"edge", "fft"})],
)
def test_zero_weight_switches_term_off_and_skips_it(weights, present):
    loss = MultiLoss(*weights)
    if not weights[1]:
        loss.edge = _MustNotRun()
    if not weights[2]:
        loss.fft = _MustNotRun()
    pred, target = _pair()
    total, terms = loss(pred, target)
    assert set(terms) == present
    p, t = pred.numpy(), target.numpy()
    reference = {"l1": reference_l1_term(p, t), "edge": reference_edge_loss(p, t), "fft": reference_l1(p, t)}
    expected = sum(w * reference[k] for w, k in zip(weights, ("l1", "edge", "fft")) if w)
    assert total.item() == pytest.approx(expected, rel=1e-5)


def test_gradient_reaches_prediction_only_on_counted_pixels():
    pred, target = _pair()
    pred.requires_grad_(True)
    mask = torch.ones(2, 1, 24, 24, dtype=torch.float64)
    mask[..., 20:, :] = 0
    total, _ = MultiLoss()(pred, target, mask)
    total.backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[..., :20, :].abs().sum() > 0
    assert pred.grad[..., 20:, :].abs().max().item() == 0.0


def test_mask_l1_is_mean_over_counted_pixels_and_ignores_masked_target():
    pred, target = _pair((2, 3, 16, 16))
    mask = torch.ones(2, 1, 16, 16, dtype=torch.float64)
    mask[0, :, 10:, :] = 0
    _, terms = MultiLoss()(pred, target, mask)
    d = np.abs(pred.numpy() - target.numpy())
    counted = np.concatenate([d[0, :, :10, :].ravel(), d[1].ravel()])
    assert terms["l1"].item() == pytest.approx(counted.mean(), rel=1e-12)
    changed = target.clone()
    changed[0, :, 10:, :] = 0.123
    _, terms2 = MultiLoss()(pred, changed, mask)
    for key in terms:
        assert terms2[key].item() == pytest.approx(terms[key].item(), rel=1e-12)


def test_all_ones_mask_equals_no_mask():
    pred, target = _pair()
    total, _ = MultiLoss()(pred, target)
    total_masked, _ = MultiLoss()(pred, target, torch.ones(2, 1, 24, 24, dtype=torch.float64))
    assert total_masked.item() == pytest.approx(total.item(), rel=1e-9)


def test_float32_training_step_decreases_loss():
    torch.manual_seed(0)
    target = torch.rand(2, 1, 16, 16)
    pred = nn.Parameter(torch.rand(2, 1, 16, 16))
    opt = torch.optim.Adam([pred], lr=1e-2)
    loss = MultiLoss()
    first = loss(pred, target)[0].item()
    for _ in range(10):
        opt.zero_grad()
        loss(pred, target)[0].backward()
        opt.step()
    assert loss(pred, target)[0].item() < 0.8 * first


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="must be >= 0"):
        MultiLoss(edge_weight=-1)
    with pytest.raises(ValueError, match="all weights are 0"):
        MultiLoss(0, 0, 0)
    pred, target = _pair()
    with pytest.raises(ValueError, match="mask"):
        MultiLoss()(pred, target, torch.ones(2, 1, 24, 23))
