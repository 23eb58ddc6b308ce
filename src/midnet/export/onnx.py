"""ONNX export with dynamic batch, height and width, checked against PyTorch with onnxruntime.

The TorchDynamo exporter (``torch.onnx.export(dynamo=True)``) is used: it is PyTorch's
supported path and writes opset 18+, which has LayerNorm-free primitives for everything
MIDNet uses (LayerNorm2d is reductions and arithmetic, the gates are 1x1 convolutions and a
sigmoid, the channel attention a global average pool). Height and width are symbolic, so one
file restores images of any size; the network pads to its 2**levels grid inside the graph.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from midnet.io.atomic import atomic_write

#: the oldest opset midnet writes (the issue's floor; the exporter's default is newer)
MIN_OPSET = 17


def in_channels(model: nn.Module) -> int:
    from midnet.inference.deblurrer import model_in_channels

    return model_in_channels(model)


def export_onnx(model: nn.Module, path: str | Path, *, opset: int | None = None, overwrite: bool = False,
                example_size: tuple[int, int] = (64, 64)) -> Path:
    """Write ``model`` to ``path`` as ONNX (input ``input``, output ``output``, N x C x H x W).

    ``opset`` None keeps the exporter's default (18 or later), which needs no version
    conversion; an older target is converted by onnx and refused below `MIN_OPSET`.
    """
    if opset is not None and opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is too old; midnet exports opset {MIN_OPSET} or later")
    model = model.eval().cpu()
    example = torch.rand(1, in_channels(model), *example_size)
    batch = torch.export.Dim("batch", min=1, max=1024)
    height = torch.export.Dim("height", min=16, max=65536)
    width = torch.export.Dim("width", min=16, max=65536)

    def write(tmp: Path) -> None:
        # the exporter prints progress and version-conversion notes; keep the CLI quiet
        noisy = logging.getLogger("torch.onnx")
        level = noisy.level
        noisy.setLevel(logging.ERROR)
        try:
            with contextlib.redirect_stdout(io.StringIO()), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # exporter-internal deprecations
                program = torch.onnx.export(
                    model, (example,), dynamo=True, opset_version=opset, input_names=["input"],
                    output_names=["output"], dynamic_shapes=({0: batch, 2: height, 3: width},),
                    external_data=False, verbose=False)
        finally:
            noisy.setLevel(level)
        program.save(str(tmp), external_data=False)

    return atomic_write(path, write, overwrite=overwrite)


def onnx_opset(path: str | Path) -> int:
    """The default-domain opset the file declares."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return max(op.version for op in proto.opset_import if op.domain in ("", "ai.onnx"))


def run_onnx(path: str | Path, array: np.ndarray) -> np.ndarray:
    """Run an exported file on an (N, C, H, W) float32 array with onnxruntime on the CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.ascontiguousarray(array, dtype=np.float32)})[0]


def max_difference(model: nn.Module, path: str | Path, size: tuple[int, int] = (256, 320),
                   seed: int = 0) -> float:
    """Largest absolute difference between PyTorch and onnxruntime on a random ``size`` input."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(1, in_channels(model), *size, generator=generator)
    with torch.no_grad():
        expected = model.eval().cpu()(x).numpy()
    got = run_onnx(path, x.numpy())
    if got.shape != expected.shape:
        raise ValueError(f"{path}: ONNX output shape {got.shape} differs from PyTorch's {expected.shape}")
    return float(np.abs(got - expected).max())
