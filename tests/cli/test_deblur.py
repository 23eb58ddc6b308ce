"""``midnet deblur`` end to end on generated files (tiny registry model, CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from midnet import models
from midnet.cli.main import cli

#: filled by the `tiny_weights` fixture: a saved (untrained) nafnet-tiny, CPU, small tiles
FAST: list[str] = []


@pytest.fixture(autouse=True, scope="module")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "nafnet-tiny.safetensors"
    models.save_model(models.create("nafnet-tiny"), path)
    FAST[:] = ["--model", str(path), "--device", "cpu", "--tile", "64", "--overlap", "32"]
    return path


def _frame(height: int = 80, width: int = 96, bar: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 200, (height, width), dtype=np.uint8)
    img[height - bar:] = 0
    img[height - bar + 4:height - bar + 9, 5:60:6] = 255
    return img


@pytest.fixture()
def batch(tmp_path: Path) -> Path:
    """in/a.png, in/b.tif (16-bit), in/sub/c.jpg, in/broken.tif (corrupt)."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    Image.fromarray(_frame()).save(root / "a.png")
    tifffile.imwrite(root / "b.tif", _frame(seed=1).astype(np.uint16) * 257)
    Image.fromarray(_frame(seed=2)).save(root / "sub" / "c.jpg")
    (root / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 20)
    return root


def _run(*args: str):
    return CliRunner().invoke(cli, ["deblur", *args])


def test_batch_with_a_corrupt_file_goes_on_and_fails(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(str(batch), "--out", str(out), "--recursive", *FAST)
    assert result.exit_code == 1, result.output
    assert "broken.tif" in result.output and "1 failed" in result.output
    assert sum("broken.tif" in line for line in result.output.splitlines() if line.startswith("error")) == 1
    assert "restored 3 of 4" in result.output
    for rel in ("a.png", "b.tif", "sub/c.jpg"):
        source, restored = (batch / rel), (out / rel)
        assert restored.is_file(), rel
        a, b = np.asarray(Image.open(source)), np.asarray(Image.open(restored))
        assert a.shape == b.shape and a.dtype == b.dtype
    b16 = tifffile.imread(out / "b.tif")
    assert b16.dtype == np.uint16
    np.testing.assert_array_equal(b16[-16:], tifffile.imread(batch / "b.tif")[-16:])
    assert not (out / "broken.tif").exists()


def test_refuses_existing_outputs_unless_overwrite(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = str(batch / "a.png")
    assert _run(src, "--out", str(out), *FAST).exit_code == 0
    (out / "a.png").write_bytes(b"user's file")
    again = _run(src, "--out", str(out), *FAST)
    assert again.exit_code == 1 and "--overwrite" in again.output
    assert (out / "a.png").read_bytes() == b"user's file"
    assert _run(src, "--out", str(out), "--overwrite", *FAST).exit_code == 0
    assert Image.open(out / "a.png").size == (96, 80)


def test_never_writes_over_an_input(batch: Path) -> None:
    before = (batch / "a.png").read_bytes()
    result = _run(str(batch / "a.png"), "--out", str(batch), "--overwrite", *FAST)
    assert result.exit_code == 2 and "is the input folder" in result.output
    assert (batch / "a.png").read_bytes() == before


def test_glob_and_databar_rows(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(str(batch / "*.png"), "--out", str(out), "--databar", "30", *FAST)
    assert result.exit_code == 0, result.output
    a, b = np.asarray(Image.open(batch / "a.png")), np.asarray(Image.open(out / "a.png"))
    np.testing.assert_array_equal(a[-30:], b[-30:])
    assert not np.array_equal(a[:-30], b[:-30])
    assert [p.name for p in out.iterdir()] == ["a.png"]


def test_databar_covering_the_image_is_a_one_line_error(batch: Path, tmp_path: Path) -> None:
    """``--databar 9999`` would restore nothing: the file fails with the fix, nothing is written."""
    out = tmp_path / "out"
    result = _run(str(batch / "a.png"), "--out", str(out), "--databar", "9999", *FAST)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "a.png" in errors[0] and "9999" in errors[0] and "--databar" in errors[0]
    assert "restored 0 of 1" in result.output
    assert not (out / "a.png").exists()


def test_folder_without_recursive_skips_subfolders(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(str(batch / "a.png"), str(batch / "sub"), "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.jpg"]


def test_bad_arguments_are_clear(batch: Path, tmp_path: Path) -> None:
    result = _run(str(batch / "a.png"), "--out", str(tmp_path / "o"), "--databar", "lots", *FAST)
    assert result.exit_code == 2 and "auto, none or a number" in result.output
    result = _run(str(tmp_path / "missing.tif"), "--out", str(tmp_path / "o"), *FAST)
    assert result.exit_code == 2 and "no such file or folder" in result.output
    result = _run(str(batch / "a.png"), "--out", str(tmp_path / "o"), "--model", "no-such-model")
    assert result.exit_code == 2 and "no-such-model" in result.output and "sem-general" in result.output


def test_an_architecture_without_weights_is_refused(batch: Path, tmp_path: Path) -> None:
    result = _run(str(batch / "a.png"), "--out", str(tmp_path / "o"), "--model", "midnet-paper")
    assert result.exit_code == 2
    assert "midnet-paper: has no trained weights; pass a checkpoint or train one" in result.output
    assert not (tmp_path / "o").exists()


def test_a_named_model_with_weights_restores_and_tlc_is_an_option(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = _run(str(batch / "a.png"), "--out", str(out), "--model", "sem-general", "--device", "cpu",
                  "--tlc", "128")
    assert result.exit_code == 0, result.output
    assert "with sem-general" in result.output and (out / "a.png").is_file()


def test_summary_and_quiet(batch: Path, tmp_path: Path) -> None:
    """A summary line with files, seconds and MP/s; --quiet prints nothing on success."""
    loud = _run(str(batch / "a.png"), str(batch / "b.tif"), "--out", str(tmp_path / "loud"), *FAST)
    assert loud.exit_code == 0, loud.output
    summary = [line for line in loud.output.splitlines() if line.startswith("restored 2 of 2 input(s)")]
    assert summary and " s (" in summary[0] and "MP/s" in summary[0]
    quiet = _run(str(batch / "a.png"), "--out", str(tmp_path / "quiet"), "--quiet", *FAST)
    assert quiet.exit_code == 0 and quiet.output.strip() == ""
    assert (tmp_path / "quiet" / "a.png").is_file()
