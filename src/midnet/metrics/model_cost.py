"""Model size and compute: parameter count and MACs from PyTorch's own FLOP counter.

MACs (multiply–accumulates) = FLOPs / 2 as counted by ``torch.utils.flop_counter.FlopCounterMode``
for one forward pass at the stated input size. That counter covers matrix products and
convolutions (including transposed ones and attention), i.e. the operations that dominate
these networks; element-wise work (normalisation, activations, gating, bias additions, pooling)
is not counted, as in most papers' MAC figures. Always quote MACs with the input size.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameter elements (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _input_channels(model: nn.Module) -> int:
    """The first layer's input width: metrics sit below the model registry, so count_macs works
    on any module; callers that know the registry entry pass ``input_size`` instead."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            return module.in_channels if isinstance(module, nn.Conv2d) else module.in_features
    raise ValueError("count_macs: cannot infer the input channels (no Conv2d/Linear); pass input_size")


def count_macs(model: nn.Module, input_size: tuple[int, ...] | None = None) -> int:
    """MACs of one forward pass on a zero tensor of ``input_size`` (default (1, C, 256, 256), C = the
    first convolution's input channels). Runs in eval mode without gradients and restores the mode.
    """
    if input_size is None:
        input_size = (1, _input_channels(model), 256, 256)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(torch.zeros(input_size, device=device, dtype=dtype))
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2
