"""``midnet estimate``: the JSON record, the table, the map and one-line errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from midnet.cli.main import cli
from midnet.psf import PSF

FIELDS = {"file", "sigma_px", "sigma_minor_px", "angle_deg", "family", "noise_sigma", "in_focus"}


def _specimen(seed: int = 0, shape: tuple[int, int] = (256, 320)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(shape[0])[:, None], np.fft.fftfreq(shape[1])[None, :]
    f = np.maximum(np.hypot(fy, fx), 1.0 / max(shape))
    field = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) / f))
    return np.clip(0.5 + 0.12 * (field - field.mean()) / field.std(), 0, 1)


def _write(path: Path, x: np.ndarray, bar: int = 0) -> Path:
    u8 = np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)
    if bar:  # a black data bar with white text marks, as microscopes write it
        u8 = np.concatenate([u8, np.zeros((bar, u8.shape[1]), np.uint8)])
        u8[-bar + 5:-5, 10:200:7] = 255
    Image.fromarray(u8).save(path)
    return path


def _run(*args: str):
    return CliRunner().invoke(cli, ["estimate", *args])


def _blurred(sigma: float, seed: int = 0) -> np.ndarray:
    x = PSF("gaussian", sigma).blur(_specimen(seed)) if sigma else _specimen(seed)
    return x + np.random.default_rng(seed + 9).normal(0, 3 / 255, x.shape)


def test_json_records_have_the_documented_fields(tmp_path: Path) -> None:
    _write(tmp_path / "a.png", _blurred(3.0))
    _write(tmp_path / "b.png", _blurred(0.0, seed=1), bar=40)
    result = _run(str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [Path(r["file"]).name for r in records] == ["a.png", "b.png"]
    for r in records:
        assert FIELDS <= set(r)
        assert 0.0 <= r["in_focus"] <= 1.0
        assert PSF.parse(r["psf"]).family == r["family"]
    assert records[0]["sigma_px"] == pytest.approx(3.0, rel=0.2)
    assert records[0]["noise_sigma"] == pytest.approx(3.0, rel=0.35)  # 8-bit grey levels
    assert records[0]["in_focus"] < 0.5 < records[1]["in_focus"]


def test_table_on_screen(tmp_path: Path) -> None:
    _write(tmp_path / "frame.png", _blurred(2.0))
    result = _run(str(tmp_path / "frame.png"))
    assert result.exit_code == 0, result.output
    assert "sigma_px" in result.output and "frame.png" in result.output


def test_map_is_written_once_and_not_overwritten(tmp_path: Path) -> None:
    src = _write(tmp_path / "wide.png", np.tile(_blurred(2.0, seed=2), (1, 2)))
    out = tmp_path / "maps"
    result = _run(str(src), "--map", str(out), "--json")
    assert result.exit_code == 0, result.output
    m = tifffile.imread(out / "wide_psf_sigma.tif")
    assert m.shape == (256, 640) and m.dtype == np.float32
    assert np.median(m) == pytest.approx(2.0, rel=0.3)
    again = _run(str(src), "--map", str(out))
    assert again.exit_code == 1 and "--overwrite" in again.output
    assert _run(str(src), "--map", str(out), "--overwrite").exit_code == 0


def test_empty_folder_and_missing_path_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _run(str(tmp_path / "empty"))
    assert result.exit_code == 2 and "holds no image files" in result.output
    result = _run(str(tmp_path / "nope.png"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_unreadable_file_is_one_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    result = _run(str(bad))
    assert result.exit_code == 1
    assert "broken.png" in result.output and len(result.output.strip().splitlines()) == 1


def test_nan_image_is_an_error_naming_the_file_and_others_go_on(tmp_path: Path) -> None:
    x = _specimen().astype(np.float32)
    x[10, 10] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", x)
    _write(tmp_path / "ok.png", _blurred(2.0))
    result = _run(str(tmp_path), "--json")
    assert result.exit_code == 1
    assert "nan.tif" in result.output and "NaN" in result.output
    assert "1 of 2 file(s) failed" in result.output
    assert '"ok.png"' in result.output or "ok.png" in result.output


def test_the_method_option_reaches_the_estimator(tmp_path) -> None:
    import json

    import numpy as np
    import tifffile
    from click.testing import CliRunner

    from midnet.cli.main import cli
    from midnet.psf import PSF
    from specimens import degrade, textured

    path = tmp_path / "b.tif"
    tifffile.imwrite(path, np.rint(degrade(textured((256, 256), seed=1), PSF("gaussian", 3.0), 2.0) * 255).astype(np.uint8))
    records = {}
    for method in ("spectral", "learned"):
        result = CliRunner().invoke(cli, ["estimate", str(path), "--json", "--method", method])
        assert result.exit_code == 0, result.output
        records[method] = json.loads(result.output)[0]
    assert records["spectral"] != records["learned"]  # two estimators, two answers
    bad = CliRunner().invoke(cli, ["estimate", str(path), "--method", "psychic"])
    assert bad.exit_code == 2
