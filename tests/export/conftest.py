"""Exports of the shipped default model, made once per session through `midnet export`."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="install midnet[export] (CI installs midnet[all])")


def default_model_args() -> list[str]:
    """``--model NAME`` for the shipped default where the registry names it, else nothing (default)."""
    from midnet import models

    name = getattr(models, "DEFAULT_MODEL", None)
    return ["--model", name] if name else []


def run_cli(*args: str):
    from click.testing import CliRunner

    from midnet.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def cli():
    """Run `midnet ...` in-process; returns click's result (exit_code, output)."""
    return run_cli


@pytest.fixture(scope="session")
def onnx_export(tmp_path_factory) -> tuple[Path, str]:
    """`midnet export --format onnx` of the shipped default model (by its registry name where it has one)."""
    out = tmp_path_factory.mktemp("onnx") / "default.onnx"
    result = run_cli("export", *default_model_args(), "--format", "onnx", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="session")
def bioimageio_package(tmp_path_factory, sem_data) -> Path:
    """The default model's bioimage.io package; its test tensors come from the demo frame."""
    out = tmp_path_factory.mktemp("bioimageio") / "midnet-default.zip"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIDNET_DATA", str(sem_data))
        result = run_cli("export", *default_model_args(), "--format", "bioimageio", "--out", str(out),
                         "--no-test")
    assert result.exit_code == 0, result.output
    return out
