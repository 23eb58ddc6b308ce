"""TorchScript export (what deepImageJ in Fiji runs), by tracing.

Tracing, not scripting: MIDNet picks its attention gate by decoder level, which TorchScript's
compiler cannot index. The tracer records the padding to the 2**levels grid and the final crop
as operations on the input's size, so the traced module restores any height and width; the
tests check that on a size it was not traced with.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from midnet.io.atomic import atomic_write


def trace(model: nn.Module, example_size: tuple[int, int] = (64, 64)) -> torch.jit.ScriptModule:
    from midnet.inference.deblurrer import model_in_channels

    model = model.eval().cpu()
    example = torch.rand(1, model_in_channels(model), *example_size)
    with warnings.catch_warnings(), torch.no_grad():
        # the tracer warns about Python ints taken from tensor sizes; the sizes stay dynamic
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return torch.jit.trace(model, example, check_trace=False)


def export_torchscript(model: nn.Module, path: str | Path, *, overwrite: bool = False,
                       example_size: tuple[int, int] = (64, 64)) -> Path:
    """Write ``model`` to ``path`` as a traced TorchScript module (``torch.jit.load`` reads it)."""
    traced = trace(model, example_size)
    return atomic_write(path, lambda tmp: torch.jit.save(traced, str(tmp)), overwrite=overwrite)
