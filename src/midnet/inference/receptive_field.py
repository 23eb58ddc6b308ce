"""The effective receptive field: how far from a pixel the input still changes its output.

Why: tiles overlap so that each output pixel is taken from a tile that saw enough context
around it. The overlap only needs to be as wide as the network's *effective* receptive field
(Luo et al., NeurIPS 2016): the gradient of one output pixel with respect to the input falls off
quickly, far inside the theoretical field of a 4-level U-Net (hundreds of pixels).

Measurement (`effective_radius`): the absolute input gradient of the centre output pixel of a
``probe`` x ``probe`` smooth random image. NAFNet blocks' channel attention averages over the
whole input, which adds a small gradient that is the same everywhere; a tile cannot capture it
whatever its overlap (that is what TLC is for), so the median gradient of the outer ring is
taken as that global floor and removed. The radius is the half-width of the smallest square
around the centre holding ``mass`` (99 %) of what remains. `benchmarks/receptive_field.py`
prints the radius per model and the tiled-vs-whole error at several overlaps, which is what
justifies the choice (docs/results/speed-cpu.md).
"""

from __future__ import annotations

import torch
from torch import nn


def gradient_map(model: nn.Module, in_channels: int, probe: int = 192, seed: int = 0) -> torch.Tensor:
    """|d out[centre] / d input| summed over channels: a (probe, probe) map."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(1, in_channels, probe // 4, probe // 4, generator=gen)
    x = torch.nn.functional.interpolate(x, size=(probe, probe), mode="bilinear", align_corners=False)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    x = x.to(device).requires_grad_(True)
    with torch.enable_grad():
        out = model(x)
        out[0, :, probe // 2, probe // 2].sum().backward()
    return x.grad[0].abs().sum(0).detach().cpu()


def effective_radius(model: nn.Module, in_channels: int, *, probe: int = 192, mass: float = 0.99) -> int:
    """Half-width (px) of the square around a pixel holding ``mass`` of its local input gradient."""
    was_training = model.training
    model.eval()
    try:
        grad = gradient_map(model, in_channels, probe)
    finally:
        model.train(was_training)
    centre = probe // 2
    ring = torch.ones_like(grad, dtype=torch.bool)
    ring[probe // 8: probe - probe // 8, probe // 8: probe - probe // 8] = False
    local = (grad - grad[ring].median()).clamp_min(0)
    total = float(local.sum())
    if total <= 0:
        return 0
    for radius in range(0, centre):
        window = local[centre - radius: centre + radius + 1, centre - radius: centre + radius + 1]
        if float(window.sum()) >= mass * total:
            return radius
    return centre
