"""``midnet deblur --psf auto|SPEC|none [--psf-map]``: the PSF-aware model by default, the PSF
printed per file and kept in the output's note, bad specs and blind models refused up front."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from midnet.cli.main import cli
from midnet.psf import PSF
from specimens import degrade, textured


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    """in/a.tif blurred by a Gaussian σ = 2.5 px (256 × 320), in/b.png in focus (200 × 240)."""
    root = tmp_path / "in"
    root.mkdir()
    blurred = degrade(textured((256, 320), seed=3), PSF("gaussian", 2.5), 2.0)
    tifffile.imwrite(root / "a.tif", np.rint(blurred * 255).astype(np.uint8))
    sharp = degrade(textured((200, 240), seed=4), PSF("none"), 1.0)
    Image.fromarray(np.rint(sharp * 255).astype(np.uint8)).save(root / "b.png")
    return root


@pytest.fixture()
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Usage errors must be caught before a model is loaded."""
    from midnet.inference.deblurrer import Deblurrer

    def refuse(*_args, **_kwargs):
        raise AssertionError("the model was loaded although the options could not work")

    monkeypatch.setattr(Deblurrer, "from_pretrained", classmethod(refuse))


def _run(*args: str):
    return CliRunner().invoke(cli, ["deblur", *args, "--device", "cpu"])


def test_a_given_psf_uses_the_psf_aware_model_and_is_recorded(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(str(inputs / "a.tif"), "--out", str(out), "--psf", "gaussian:2")
    assert result.exit_code == 0, result.output
    assert f"{inputs / 'a.tif'}: PSF gaussian σ 2 px (given)" in result.output
    assert "with sem-psf-preview" in result.output
    with tifffile.TiffFile(out / "a.tif") as tif:
        assert tif.pages[0].tags[11].value.endswith("(model: sem-psf-preview; psf gaussian:2 given)")


def test_auto_estimates_each_file(inputs: Path, tmp_path: Path) -> None:
    result = _run(str(inputs), "--out", str(tmp_path / "out"), "--psf", "auto")
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ": PSF " in ln]
    assert len(lines) == 2
    blurred = next(ln for ln in lines if "a.tif" in ln)
    sharp = next(ln for ln in lines if "b.png" in ln)
    assert blurred.split(": ", 1)[1].startswith("PSF gaussian σ ") and blurred.endswith("(estimated)")
    assert "PSF none, denoise only (estimated, in focus P=" in sharp
    assert "psf none estimated" in Image.open(tmp_path / "out" / "b.png").text["Software"]


def test_psf_map_restores_per_tile_and_quiet_prints_no_psf(inputs: Path, tmp_path: Path) -> None:
    result = _run(str(inputs / "a.tif"), "--out", str(tmp_path / "out"), "--psf-map")
    assert result.exit_code == 0, result.output
    assert "a.tif: PSF per tile: gaussian σ " in result.output and "over 2 tiles (estimated)" in result.output
    with tifffile.TiffFile(tmp_path / "out" / "a.tif") as tif:
        assert "psf per tile gaussian:" in tif.pages[0].tags[11].value
    quiet = _run(str(inputs / "a.tif"), "--out", str(tmp_path / "quiet"), "--psf", "none", "-q")
    assert quiet.exit_code == 0 and "PSF" not in quiet.output


@pytest.mark.parametrize("spec, why", [("gaussian:abc", "expected gaussian:2.0"), ("bokeh:2", "unknown PSF family 'bokeh'")])
def test_a_bad_spec_is_a_usage_error_with_the_syntax(inputs: Path, tmp_path: Path, no_model, spec: str, why: str) -> None:
    result = _run(str(inputs), "--out", str(tmp_path / "out"), "--psf", spec)
    assert result.exit_code == 2
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert why in line and "accepted: auto, none, gaussian:σ, astigmatic:major,minor,angle" in line
    assert not (tmp_path / "out").exists()


def test_psf_map_with_a_given_psf_is_a_usage_error(inputs: Path, tmp_path: Path, no_model) -> None:
    result = _run(str(inputs), "--out", str(tmp_path / "out"), "--psf", "none", "--psf-map")
    assert result.exit_code == 2 and "--psf-map estimates a PSF per tile" in result.output


def test_a_blind_model_refuses_a_psf_and_names_the_psf_aware_one(inputs: Path, tmp_path: Path) -> None:
    result = _run(str(inputs), "--out", str(tmp_path / "out"), "--psf", "gaussian:2", "--model", "sem-general")
    assert result.exit_code == 2
    assert "sem-general is blind" in result.output and "--model sem-psf-preview" in result.output
    auto = _run(str(inputs / "b.png"), "--out", str(tmp_path / "auto"), "--psf", "auto", "--model", "sem-general")
    assert auto.exit_code == 0 and "sem-general is a blind model; --psf auto changes nothing" in auto.output
    assert ": PSF " not in auto.output


def test_a_given_noise_is_printed_and_recorded(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(str(inputs / "a.tif"), "--out", str(out), "--psf", "gaussian:2", "--noise", "2")
    assert result.exit_code == 0, result.output
    assert f"{inputs / 'a.tif'}: PSF gaussian σ 2 px (given); noise 2/255 given" in result.output
    with tifffile.TiffFile(out / "a.tif") as tif:
        assert "psf gaussian:2 given noise 0.007843 given" in tif.pages[0].tags[11].value


def test_a_negative_noise_is_a_usage_error(inputs: Path, tmp_path: Path, no_model) -> None:
    result = _run(str(inputs), "--out", str(tmp_path / "out"), "--noise", "-1")
    assert result.exit_code == 2 and "--noise" in result.output
