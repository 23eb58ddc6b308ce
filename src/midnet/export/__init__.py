"""Export a trained model where microscopists already work: ONNX, TorchScript, bioimage.io.

``midnet export --model NAME --format onnx|torchscript|bioimageio --out PATH`` calls
:func:`export_model`. The heavy libraries (onnx, onnxruntime, bioimageio.spec/core) come with
``pip install midnet[export]`` and are imported only by the format that needs them, so the
base install stays light and TorchScript needs nothing beyond torch.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

#: export format -> the file suffix its output gets by default
FORMATS: dict[str, str] = {"onnx": ".onnx", "torchscript": ".pt", "bioimageio": ".zip"}

__all__ = ["FORMATS", "MissingExtra", "export_model", "load_for_export"]


class MissingExtra(ImportError):
    """An optional dependency of an export format (or napari) is not installed."""


def require(module: str, extra: str) -> None:
    """Import ``module`` or raise `MissingExtra` naming the pip extra that provides it."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(f"{module} is not installed; install it with `pip install 'midnet[{extra}]'` "
                           f"({type(exc).__name__}: {exc})") from exc


def load_for_export(model: str | Path | None = None) -> tuple[nn.Module, str]:
    """The model to export, by registry name or checkpoint (``None``: the shipped default), on CPU.

    Goes through `Deblurrer.from_pretrained` so that export accepts exactly the names
    `midnet deblur` accepts, and returns ``(model, name)``; a checkpoint's name is its file stem.
    """
    from midnet.inference.deblurrer import Deblurrer

    # global channel-attention pooling (tlc=False): the exported graph restores whole images, as
    # `midnet deblur --tlc 0` does; TLC's window sizes are set by a calibration pass, not traced
    deblurrer = Deblurrer.from_pretrained(model, device="cpu", tile=None, tlc=False)
    name = deblurrer.model_name
    return deblurrer.model.eval(), Path(name).stem if Path(name).suffix else name


def export_model(model: str | Path | None, fmt: str, out: str | Path, *, overwrite: bool = False,
                 **options) -> Path:
    """Export ``model`` (name, checkpoint or ``None`` for the default) as ``fmt`` into ``out``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out}: output exists; pass --overwrite to replace it")
    if fmt == "onnx":
        require("onnx", "export")
        require("onnxscript", "export")
    elif fmt == "bioimageio":
        require("bioimageio.spec", "export")
    network, name = load_for_export(model)
    if fmt == "onnx":
        from midnet.export.onnx import export_onnx

        return export_onnx(network, out, overwrite=overwrite, **options)
    if fmt == "torchscript":
        from midnet.export.torchscript import export_torchscript

        return export_torchscript(network, out, overwrite=overwrite, **options)
    from midnet.export.bioimageio import export_bioimageio

    return export_bioimageio(network, out, name=name, overwrite=overwrite, **options)
