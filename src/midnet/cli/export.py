"""`midnet export`: a trained model as ONNX, TorchScript or a bioimage.io package.

Usage errors (an existing output, a wrong suffix, an unknown model) exit with 2 before any
work is done; a missing optional dependency names the pip extra that brings it.
"""

from __future__ import annotations

from pathlib import Path

import click

FORMAT_CHOICES = ["onnx", "torchscript", "bioimageio"]


@click.command(name="export")
@click.option("--model", default=None,
              help="Model name or checkpoint file (default: the shipped default model).")
@click.option("--format", "fmt", required=True, type=click.Choice(FORMAT_CHOICES),
              help="onnx (opset 18+, any image size), torchscript (deepImageJ), or bioimageio "
                   "(a model-zoo package for Fiji/deepImageJ, ilastik, napari).")
@click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (.onnx, .pt, or .zip for bioimageio).")
@click.option("--bit-depth", default=8, show_default=True, type=click.Choice(["8", "16"]),
              help="bioimageio only: the images' bit depth, which preprocessing scales to [0, 1].")
@click.option("--test/--no-test", "run_test", default=True, show_default=True,
              help="Check the export: onnxruntime against PyTorch (onnx), the traced module on an "
                   "untraced size (torchscript), bioimageio.core's model test (bioimageio).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
def command(model: str | None, fmt: str, out: Path, bit_depth: str, run_test: bool, overwrite: bool) -> None:
    """Export a trained model (default: the shipped one) as ONNX, TorchScript or a bioimage.io package."""
    from midnet.export import FORMATS, MissingExtra, load_for_export, require

    if out.exists() and not overwrite:
        raise click.UsageError(f"{out}: output exists; pass --overwrite to replace it or choose another --out")
    if out.suffix.lower() != FORMATS[fmt]:
        raise click.UsageError(f"{out}: a {fmt} export is written to a {FORMATS[fmt]} file; "
                               f"use e.g. --out model{FORMATS[fmt]}")
    try:
        if fmt in ("onnx", "bioimageio"):
            require("onnx", "export")
            require("onnxscript", "export")
            require("onnxruntime", "export")
        if fmt == "bioimageio":
            require("bioimageio.spec", "export")
            if run_test:
                require("bioimageio.core", "export")
    except MissingExtra as exc:
        raise click.ClickException(str(exc)) from None
    try:
        network, name = load_for_export(model)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise click.BadParameter(str(exc).strip("'\""), param_hint="--model") from None

    try:
        if fmt == "onnx":
            _onnx(network, out, overwrite, run_test)
        elif fmt == "torchscript":
            _torchscript(network, out, overwrite, run_test)
        else:
            _bioimageio(network, name, out, int(bit_depth), overwrite, run_test)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None


def _onnx(network, out: Path, overwrite: bool, run_test: bool) -> None:
    from midnet.export.onnx import export_onnx, max_difference, onnx_opset

    export_onnx(network, out, overwrite=overwrite)
    click.echo(f"wrote {out} (ONNX opset {onnx_opset(out)}, dynamic batch/height/width)")
    if run_test:
        diff = max_difference(network, out)
        click.echo(f"onnxruntime vs PyTorch on a 256x320 input: max |difference| {diff:.2e}")
        if diff > 1e-4:
            raise click.ClickException(f"{out}: ONNX output differs from PyTorch by {diff:.2e} (> 1e-4)")


def _torchscript(network, out: Path, overwrite: bool, run_test: bool) -> None:
    import numpy as np
    import torch

    from midnet.export.torchscript import export_torchscript

    export_torchscript(network, out, overwrite=overwrite)
    click.echo(f"wrote {out} (TorchScript, torch.jit.load reads it)")
    if run_test:
        from midnet.inference.deblurrer import model_in_channels

        x = torch.rand(1, model_in_channels(network), 250, 333, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            diff = float(np.abs((torch.jit.load(str(out))(x) - network(x)).numpy()).max())
        click.echo(f"TorchScript vs PyTorch on a 250x333 input: max |difference| {diff:.2e}")
        if diff > 1e-4:
            raise click.ClickException(f"{out}: TorchScript output differs from PyTorch by {diff:.2e}")


def _bioimageio(network, name: str, out: Path, bit_depth: int, overwrite: bool, run_test: bool) -> None:
    from midnet.export.bioimageio import export_bioimageio, check_package

    export_bioimageio(network, out, name=name, bit_depth=bit_depth, overwrite=overwrite)
    click.echo(f"wrote {out} (bioimage.io model package, spec 0.5; weights: pytorch_state_dict, "
               "torchscript, onnx)")
    if run_test:
        passed, report = check_package(out)
        click.echo(f"bioimageio.core test: {'passed' if passed else 'FAILED'}")
        if not passed:
            raise click.ClickException(f"{out}: bioimageio.core's test failed:\n{report}")
