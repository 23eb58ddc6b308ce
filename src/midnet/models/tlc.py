"""NAFNet's Test-time Local Converter (TLC, Chu et al., ECCV 2022).

Channel attention pools over the whole feature map. A network trained on 256 px crops
therefore sees statistics of a 256 px window during training but of the whole 1280x1024 frame
at inference: a train/test mismatch. TLC swaps the global pool for a sliding local mean whose
window matches what training saw (1.5x the training crop, scaled to each level), exactly as
NAFNet's ``NAFNetLocal`` does, so a converted model reproduces the official outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from midnet.models.registry import in_channels


class LocalAvgPool2d(nn.Module):
    """Sliding-window mean with replicate padding back to the input size.

    The window is set once by :func:`enable_tlc` from a calibration pass at the training size:
    ``kernel = feature_size * base_size // train_size`` with ``base_size = int(1.5 * train)``.
    If the window covers the whole map, this is the global mean, as in training.
    """

    def __init__(self, base_size: tuple[int, int], train_size: tuple[int, int]) -> None:
        super().__init__()
        self.base_size = base_size
        self.train_size = train_size
        self.kernel_size: tuple[int, int] | None = None

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, base_size={self.base_size}, train_size={self.train_size}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if self.kernel_size is None:  # calibration pass at the training size
            self.kernel_size = (h * self.base_size[0] // self.train_size[0], w * self.base_size[1] // self.train_size[1])
        k1, k2 = self.kernel_size
        if k1 >= h and k2 >= w:
            return F.adaptive_avg_pool2d(x, 1)
        k1, k2 = min(h, k1), min(w, k2)
        out = F.avg_pool2d(x, (k1, k2), stride=1)
        _h, _w = out.shape[-2:]
        pad = ((w - _w) // 2, (w - _w + 1) // 2, (h - _h) // 2, (h - _h + 1) // 2)
        return F.pad(out, pad, mode="replicate")


def _replace(module: nn.Module, make) -> int:
    count = 0
    for name, child in module.named_children():
        new = make(child)
        if new is not None:
            setattr(module, name, new)
            count += 1
        else:
            count += _replace(child, make)
    return count


@torch.no_grad()
def enable_tlc(model: nn.Module, train_size: tuple[int, int] | int = 256) -> nn.Module:
    """Convert every global ``AdaptiveAvgPool2d(1)`` of ``model`` to a local pool, in place."""
    if isinstance(train_size, int):
        train_size = (train_size, train_size)
    disable_tlc(model)
    base = (int(train_size[0] * 1.5), int(train_size[1] * 1.5))

    def make(m: nn.Module):
        if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1)):
            return LocalAvgPool2d(base, tuple(train_size))
        return None

    if _replace(model, make) == 0:
        return model
    was_training = model.training
    model.eval()
    param = next(model.parameters())
    model(torch.rand(1, in_channels(model), *train_size, device=param.device, dtype=param.dtype))
    model.train(was_training)
    return model


def disable_tlc(model: nn.Module) -> nn.Module:
    """Undo :func:`enable_tlc`: back to global average pooling."""
    _replace(model, lambda m: nn.AdaptiveAvgPool2d(1) if isinstance(m, LocalAvgPool2d) else None)
    return model


def tlc_enabled(model: nn.Module) -> bool:
    return any(isinstance(m, LocalAvgPool2d) for m in model.modules())
