"""Shared checks and masked averaging for the loss terms.

A *mask* is a float tensor (B, 1, H, W) (or (B, C, H, W)) with 1 where a pixel counts and 0
where it must not (the SEM data bar). Every term averages over counted pixels only, so a crop
that is one quarter data bar is not down-weighted, and a batch with no counted pixel gives 0
(instead of NaN) so that a training loop never crashes on a degenerate crop.
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_pair(pred: Tensor, target: Tensor, mask: Tensor | None) -> None:
    """Raise ``ValueError`` unless pred/target are equal-shape (B, C, H, W) and mask fits them."""
    if pred.ndim != 4 or pred.shape != target.shape:
        raise ValueError(
            f"loss: pred {tuple(pred.shape)} and target {tuple(target.shape)} must both be "
            "(B, C, H, W) of the same shape; crop or pad one to match the other"
        )
    if mask is None:
        return
    b, c, h, w = pred.shape
    if mask.ndim != 4 or mask.shape[0] != b or mask.shape[1] not in (1, c) or mask.shape[2:] != (h, w):
        raise ValueError(
            f"loss: mask {tuple(mask.shape)} must be (B, 1, H, W) = ({b}, 1, {h}, {w}) "
            "(or one channel per image channel); build it with the same crop as the images"
        )


def counted_elements(pred: Tensor, mask: Tensor | None) -> Tensor:
    """Number of counted scalar elements (pixels × channels), at least a tiny positive value."""
    if mask is None:
        return torch.tensor(float(pred.numel()), device=pred.device, dtype=pred.dtype)
    total = mask.to(pred.dtype).expand_as(pred).sum()
    return total.clamp_min(torch.finfo(pred.dtype).tiny)


def masked_mean(values: Tensor, mask: Tensor | None) -> Tensor:
    """``mean(values)`` over counted pixels: sum(values·mask) / (C · sum(mask))."""
    if mask is None:
        return values.mean()
    weights = mask.to(values.dtype).expand_as(values)
    return (values * weights).sum() / counted_elements(values, mask)


def masked_difference(pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
    """``mask · (pred − target)``.

    Equivalent to replacing the target's masked pixels by the prediction's values: masked
    pixels then contribute nothing and receive no gradient, also in the terms that mix
    neighbouring pixels (Laplacian, Fourier transform).
    """
    diff = pred - target
    if mask is None:
        return diff
    return diff * mask.to(diff.dtype)
