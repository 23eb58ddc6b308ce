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
    """Sliding-window mean with the window shifted inside the map near its border.

    The window is set once by :func:`enable_tlc` from a calibration pass at the training size:
    ``kernel = feature_size * base_size // train_size`` with ``base_size = int(1.5 * train)``.
    If the window covers the whole map, this is the global mean, as in training.

    Output ``i`` (per axis) is the mean over ``[s, s + k)`` with ``s = clamp(i - (k - 1) // 2,
    0, n - k)``: official NAFNet's ``avg_pool2d`` followed by replicate padding, computed from
    running sums (one subtraction per pixel) because ``avg_pool2d`` with a 192 px window sums
    37,000 values per pixel and made TLC cost minutes on a CPU. Each axis is summed separately,
    so a running sum spans one row or column, not the image (float32 stays exact to ~1e-6).
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
        rows, k1 = _window_sum(x, self.kernel_size[0], -2)
        sums, k2 = _window_sum(rows, self.kernel_size[1], -1)
        return sums / (k1 * k2)


def _window_sum(x: torch.Tensor, kernel: int, dim: int) -> tuple[torch.Tensor, int | torch.SymInt]:
    """Sum over a window of ``kernel`` along ``dim`` (-1 or -2), shifted inside near the ends;
    returns it with the window length used (``kernel``, or the whole axis when shorter).

    Window sums are differences of one running sum. Eagerly, the ``n - k + 1`` full windows are
    a slice and the ends repeat the first and last one (replicate padding), the fastest way. A
    traced model (``torch.export``, AOTInductor) gets the same numbers by indexing, so that
    no tensor has a size that could be 1: the tracer would fix such a size, and the exported
    model must accept every height and width.
    """
    n = x.shape[dim]
    k = torch.sym_min(kernel, n)  # a window larger than the map: all of it
    sums = torch.cat([torch.zeros_like(x.narrow(dim, 0, 1)), x.cumsum(dim)], dim)  # sums[j]: x[:j] summed
    if _tracing():
        start = (torch.arange(n, device=x.device) - (k - 1) // 2).clamp(min=0).clamp(max=n - k)
        return sums.index_select(dim, start + k) - sums.index_select(dim, start), k
    valid = sums.narrow(dim, k, n - k + 1) - sums.narrow(dim, 0, n - k + 1)
    left = (k - 1) // 2
    pad = (left, k - 1 - left, 0, 0) if dim == -1 else (0, 0, left, k - 1 - left)
    return F.pad(valid, pad, mode="replicate"), k


def _tracing() -> bool:
    compiler = getattr(torch, "compiler", None)
    return any(getattr(compiler, name, lambda: False)() for name in ("is_exporting", "is_compiling"))


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
