"""``midnet deblur`` never exits 0 having done nothing, never wastes a run on a bad output folder,
and names every bad file (issue 11, point 5)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from midnet.cli.main import cli

FAST = ["--model", "sem-general", "--device", "cpu", "--tile", "64", "--overlap", "32"]


def _frame(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 200, (80, 96), dtype=np.uint8)
    img[-16:] = 0
    img[-12:-7, 5:60:6] = 255
    return img


def _run(*args: str):
    return CliRunner().invoke(cli, ["deblur", *args])


@pytest.fixture()
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Usage errors must be caught before the model is even loaded."""
    from midnet.inference.deblurrer import Deblurrer

    def refuse(*_args, **_kwargs):
        raise AssertionError("the model was loaded although the run could not do anything")

    monkeypatch.setattr(Deblurrer, "from_pretrained", classmethod(refuse))


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_empty_folder_is_a_usage_error(tmp_path: Path, no_model) -> None:
    (tmp_path / "empty").mkdir()
    result = _run(str(tmp_path / "empty"), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 2
    assert "empty" in _one_error_line(result.output)
    assert "restored 0" not in result.output


def test_folder_without_images_is_a_usage_error(tmp_path: Path, no_model) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("no images here")
    (folder / "scan.gif").write_bytes(b"GIF89a")
    result = _run(str(folder), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 2
    assert "no image files (2 other files)" in _one_error_line(result.output)


def test_inputs_without_a_readable_image_are_a_usage_error(tmp_path: Path, no_model) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.tif").write_bytes(b"")
    (folder / "b.png").write_bytes(b"<html>not found</html>")
    result = _run(str(folder), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert "no readable image among the 2 input file(s)" in line and "a.tif" in line


def test_missing_input_is_a_usage_error(tmp_path: Path, no_model) -> None:
    result = _run(str(tmp_path / "nothing.tif"), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 2 and "nothing.tif: no such file or folder" in _one_error_line(result.output)


def test_output_folder_equal_to_input_folder(tmp_path: Path, no_model) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(_frame()).save(folder / "a.png")
    before = (folder / "a.png").read_bytes()
    result = _run(str(folder), "-o", str(folder), "--overwrite", *FAST)
    assert result.exit_code == 2 and "is the input folder" in _one_error_line(result.output)
    assert (folder / "a.png").read_bytes() == before and len(list(folder.iterdir())) == 1


def test_unwritable_output_is_found_before_restoring(tmp_path: Path, no_model) -> None:
    Image.fromarray(_frame()).save(tmp_path / "a.png")
    (tmp_path / "plain-file").write_text("a file, not a folder")
    result = _run(str(tmp_path / "a.png"), "-o", str(tmp_path / "plain-file" / "out"), *FAST)
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert "cannot create the output folder" in line and ".tmp" not in line


def test_read_only_output_is_found_before_restoring(tmp_path: Path, monkeypatch, no_model) -> None:
    """The write probe itself failing (a read-only mount; faked, as tests may run as root)."""
    import builtins

    real_open = builtins.open
    out = tmp_path / "out"
    out.mkdir()  # an existing folder on a read-only mount

    def read_only_open(file, mode="r", *args, **kwargs):
        if "w" in mode and Path(file).parent == out:
            raise PermissionError(13, "Read-only file system")
        return real_open(file, mode, *args, **kwargs)

    Image.fromarray(_frame()).save(tmp_path / "a.png")
    monkeypatch.setattr(builtins, "open", read_only_open)
    result = _run(str(tmp_path / "a.png"), "-o", str(out), *FAST)
    assert result.exit_code == 2 and "not writable (Read-only file system)" in _one_error_line(result.output)


def test_skipped_files_are_counted_and_listed_with_verbose(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(_frame()).save(folder / "a.png")
    (folder / "a.txt").write_text("$CM_FULL_SIZE 96 64")  # a sidecar: not counted as skipped
    (folder / "notes.docx").write_bytes(b"PK")
    result = _run(str(folder), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 0, result.output
    assert "restored 1 of 1" in result.output and "1 other file(s) skipped" in result.output
    assert "notes.docx" not in result.output
    verbose = _run(str(folder), "-o", str(tmp_path / "out2"), "--verbose", *FAST)
    assert verbose.exit_code == 0 and "skipped (not an image type):" in verbose.output
    assert "notes.docx" in verbose.output


def test_bmp_named_png_is_read_by_its_content(tmp_path: Path) -> None:
    src = tmp_path / "in" / "scan.png"
    src.parent.mkdir()
    buffer = io.BytesIO()
    Image.fromarray(_frame()).save(buffer, "BMP")
    src.write_bytes(buffer.getvalue())
    result = _run(str(src), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "scan.png"
    assert out.read_bytes()[:2] == b"BM"  # written back in the format it really is
    restored = np.asarray(Image.open(out))
    assert restored.shape == (80, 96)
    np.testing.assert_array_equal(restored[-16:], _frame()[-16:])


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"],
                         ids=["zero-bytes", "truncated"])
def test_empty_or_truncated_file_is_named(tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(_frame()).save(folder / "good.png")
    (folder / "cut.png").write_bytes(content)
    result = _run(str(folder), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 1
    assert "restored 1 of 2" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cut.png" in errors[0]
    assert "BytesIO" not in result.output and "<_io" not in result.output


def test_linked_folders_are_entered_and_broken_links_named(tmp_path: Path) -> None:
    """A folder of links (to the microscope's share, say) is restored, not skipped in silence."""
    import os

    share = tmp_path / "share"
    share.mkdir()
    Image.fromarray(_frame(1)).save(share / "a.png")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.symlink(share, inputs / "linked")
    os.symlink(share, share / "loop")  # a link back up is entered once, not forever
    os.symlink(tmp_path / "gone.png", inputs / "dangling.png")
    result = _run(str(inputs), "--recursive", "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "linked" / "a.png").is_file()
    assert "restored 1 of 1" in result.output
    assert "1 broken link(s) skipped" in result.output
    assert f"skipped (broken link to {tmp_path / 'gone.png'}): {inputs / 'dangling.png'}" in result.output
