"""`midnet evaluate`: per-image CSV/JSON with input baseline, means and panels."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from midnet import models
from midnet.cli.main import cli
from midnet.data.synthetic import write_synthetic_pairs


@pytest.fixture()
def pairs(tmp_path: Path) -> Path:
    return write_synthetic_pairs(tmp_path / "pairs", groups=1, per_group=3, size=(48, 40), databar_rows=8)


def test_evaluate_writes_scores_and_panels(tmp_path: Path, pairs: Path) -> None:
    models.save_model(models.create("midnet-tiny"), tmp_path / "m.safetensors", name="midnet-tiny")
    out = tmp_path / "eval"
    args = ["evaluate", "--model", str(tmp_path / "m.safetensors"), "--input-dir", str(pairs / "blur"),
            "--target-dir", str(pairs / "sharp"), "--out", str(out), "--panels", "2"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["name"] for r in rows] == ["1-1_s001", "1-1_s002", "1-1_s003", "mean"]
    doc = json.loads((out / "results.json").read_text())
    assert doc["count"] == 3 and doc["images"][0]["databar_rows"] == 8
    # the input baseline is the 8-bit PSNR of the untouched blurry image on the image area
    blur = np.asarray(Image.open(pairs / "blur" / "1-1_s001.png")).astype(np.float64)
    sharp = np.asarray(Image.open(pairs / "sharp" / "1-1_s001.png")).astype(np.float64)
    expected = 10 * np.log10(255.0**2 / np.mean((blur[:-8] - sharp[:-8]) ** 2))
    assert doc["images"][0]["input_psnr"] == pytest.approx(expected, abs=1e-9)
    assert doc["mean"]["psnr"] == pytest.approx(np.mean([i["psnr"] for i in doc["images"]]), abs=1e-6)
    panels = sorted(out.glob("*_panel.png"))
    assert len(panels) == 2
    assert np.asarray(Image.open(panels[0])).shape == (48, 3 * 40 + 2 * 8)
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "--overwrite" in again.output


def test_weightless_name_is_refused(tmp_path: Path, pairs: Path) -> None:
    res = CliRunner().invoke(cli, ["evaluate", "--model", "midnet-paper", "--input-dir", str(pairs / "blur"),
                                   "--target-dir", str(pairs / "sharp"), "--out", str(tmp_path / "e")])
    assert res.exit_code == 2 and "has no trained weights; pass a checkpoint or train one" in res.output
    assert not (tmp_path / "e").exists()


def test_evaluate_by_registry_name_and_fixed_bar(tmp_path: Path, pairs: Path) -> None:
    res = CliRunner().invoke(cli, ["evaluate", "--model", "sem-general", "--input-dir", str(pairs / "blur"),
                                   "--target-dir", str(pairs / "sharp"), "--out", str(tmp_path / "e"),
                                   "--panels", "0", "--databar", "4"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "e" / "results.json").read_text())
    assert {i["databar_rows"] for i in doc["images"]} == {4}
    assert not list((tmp_path / "e").glob("*.png"))


def _evaluate_one_pair(root: Path, blurry: np.ndarray, sharp: np.ndarray, *flags: str):
    """`midnet evaluate` on one pair a.png written under root/blur and root/sharp, results in root/e."""
    for sub, image in (("blur", blurry), ("sharp", sharp)):
        (root / sub).mkdir()
        Image.fromarray(image).save(root / sub / "a.png")
    return CliRunner().invoke(cli, ["evaluate", "--model", "sem-general", "--input-dir", str(root / "blur"),
                                    "--target-dir", str(root / "sharp"), "--out", str(root / "e"), "--panels", "0",
                                    "--databar", "none", *flags])


def test_evaluate_registered_undoes_a_moved_capture(tmp_path: Path) -> None:
    """A 'blurry' capture that is the sharp one moved by 5 px: registered, the input matches."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(3)
    sharp = np.clip(gaussian_filter(rng.random((96, 128)), 2) * 4 - 1.5, 0, 1)
    sharp = np.rint(sharp * 255).astype(np.uint8)
    out = tmp_path / "e"
    res = _evaluate_one_pair(tmp_path, np.roll(sharp, 5, axis=1), sharp, "--registered")
    assert res.exit_code == 0, res.output
    headline, captured = [line for line in res.output.splitlines() if "PSNR" in line][:2]
    assert "registered: PSNR" in headline and "as captured: PSNR" in captured
    image = json.loads((out / "results.json").read_text())["images"][0]
    assert image["registered"]["median_shift_x"] == pytest.approx(5, abs=0.3)     # moved[x] = sharp[x - 5]
    assert image["registered"]["median_shift_y"] == pytest.approx(0, abs=0.3)
    assert image["registered"]["input_registered_psnr"] > image["input_psnr"] + 15
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {"registered_psnr", "input_registered_ssim", "median_shift_x", "spread_x", "tiles_left_out"} <= set(rows[0])


def test_evaluate_as_captured_skips_registration(tmp_path: Path) -> None:
    """--as-captured: only the plain score, no registration columns."""
    rng = np.random.default_rng(4)
    sharp = np.rint(rng.random((64, 64)) * 255).astype(np.uint8)
    out = tmp_path / "e"
    res = _evaluate_one_pair(tmp_path, sharp, sharp, "--as-captured")
    assert res.exit_code == 0, res.output
    assert "registered" not in res.output
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert "registered_psnr" not in rows[0]
