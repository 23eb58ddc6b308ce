"""``midnet benchmark`` end to end at a tiny budget: every table, the plot, the configuration,
reuse of finished runs, and the refusal to overwrite results.

The budget is 2 iterations of 32-px crops for tiny networks on 64x64 synthetic pairs, so the
numbers are meaningless; the checks are that every row is there, finite and consistent (the
blurry row equals a direct PSNR computation; the full-loss ablation row is the Table 2 run).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from PIL import Image

from midnet.cli.main import cli
from midnet.data.synthetic import write_synthetic_pairs
from midnet.metrics import psnr, rows_mask, ssim

BAR = 8
GRIDS = ("table2.classical_grids={unsharp-mask: {radius: [1.0], amount: [0.5, 1.0]}, "
         "wiener: {sigma: [1.0], balance: [0.1]}, richardson-lucy: {sigma: [1.0], num_iter: [2]}, "
         "unsupervised-wiener: {sigma: [1.0]}}")


def _args(data: Path, out: Path, official: Path) -> list[str]:
    return ["benchmark", "--data", str(data), "--out", str(out),
            "--budget-steps", "2", "--crop", "32", "--batch", "2", "--models", "midnet-tiny,nafnet-tiny",
            "--pretrained", f"nafnet-tiny={official}", "--tables", "1,2,3",
            "--set", "data.train_groups=[1-1, 2-1]", "--set", "data.test_groups=[3-1]",
            "--set", "table3.model=midnet-tiny", "--set", GRIDS,
            "--set", "table2.classical_patches=2", "--set", "table2.classical_patch_size=32",
            "--set", "timing.size=64", "--set", "training.train.accelerator=cpu"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("bench")
    data = write_synthetic_pairs(root / "data", groups=3, per_group=2, size=(64, 64), databar_rows=BAR)
    torch.manual_seed(0)
    from midnet import models

    official = root / "NAFNet-tiny-official.pth"   # the authors' layout: 3 channels under "params"
    torch.save({"params": models.create("nafnet-tiny", in_channels=3).state_dict()}, official)
    out = root / "results"
    result = CliRunner().invoke(cli, _args(data, out, official))
    assert result.exit_code == 0, result.output
    return {"data": data, "out": out, "official": official, "output": result.output}


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return {row[reader.fieldnames[0]]: row for row in reader}


def _direct_blurry_scores(data: Path) -> tuple[float, float]:
    p, s = [], []
    for name in ("3-1_s001", "3-1_s002"):
        x = np.asarray(Image.open(data / "blur" / f"{name}.png"))
        y = np.asarray(Image.open(data / "sharp" / f"{name}.png"))
        keep = rows_mask(x.shape, slice(x.shape[0] - BAR, x.shape[0]))
        p.append(psnr(x, y, data_range=255, mask=keep))
        s.append(ssim(x, y, data_range=255, mask=keep))
    return float(np.mean(p)), float(np.mean(s))


def test_every_output_file_exists(bench: dict) -> None:
    out = bench["out"]
    for name in ("table1", "table2", "table3"):
        assert (out / f"{name}.md").read_text().startswith(f"## Table {name[-1]}")
        assert (out / f"{name}.csv").is_file()
    assert (out / "psnr_vs_macs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![PSNR versus MACs]" in (out / "summary.md").read_text()
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["budget"]["max_steps"] == 2 and resolved["budget"]["crop_size"] == 32
    assert resolved["resolved"]["test_pairs"] == ["3-1_s001", "3-1_s002"]
    assert resolved["data"]["protocol"] == "by-source"     # the default, recorded
    split = json.loads((out / "split.json").read_text())
    assert split["protocol"] == "by-source" and split["test"]["groups"] == ["3-1"]
    assert split["groups_in_train_and_test"] == []
    header = (out / "per_image.csv").read_text().splitlines()[0]
    assert header == "method,image,psnr,ssim,reg_psnr,reg_ssim"
    assert "reg_psnr" in (out / "table2.csv").read_text().splitlines()[0]
    assert not list(out.glob(".*.tmp"))       # atomic writes leave no temporaries


def test_protocol_flag_sets_the_paper_split(bench: dict, tmp_path: Path) -> None:
    """--protocol paper: as many random test pairs as the test groups hold, recorded in config and split."""
    out = tmp_path / "paper"
    args = ["benchmark", "--data", str(bench["data"]), "--out", str(out), "--tables", "1", "--protocol", "paper",
            "--set", "data.train_groups=[1-1, 2-1]", "--set", "data.test_groups=[3-1]",
            "--set", "data.split_seed=5"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["data"]["protocol"] == "paper" and resolved["data"]["split_seed"] == 5
    split = json.loads((out / "split.json").read_text())
    assert split["protocol"] == "paper" and split["seed"] == 5
    assert split["test"]["count"] == 2 and split["train"]["count"] == 4
    assert split["test"]["pairs"] == resolved["resolved"]["test_pairs"]
    assert "Protocol paper: 2 test pairs drawn at random (seed 5)" in (out / "table1.md").read_text()
    bad = CliRunner().invoke(cli, [*args[:5], "--protocol", "paper", "--set", "data.val_groups=[1-1]"])
    assert bad.exit_code != 0 and "data.val_groups=[]" in bad.output


def test_blurry_row_equals_a_direct_computation(bench: dict) -> None:
    expected_psnr, expected_ssim = _direct_blurry_scores(bench["data"])
    for name in ("table1", "table2"):
        row = _rows(bench["out"] / f"{name}.csv")["blurry input"]
        assert float(row["psnr"]) == pytest.approx(expected_psnr, abs=1e-9)
        assert float(row["ssim"]) == pytest.approx(expected_ssim, abs=1e-9)


def test_table1_scores_the_given_checkpoint_and_lists_the_missing(bench: dict) -> None:
    rows = _rows(bench["out"] / "table1.csv")
    assert list(rows) == ["blurry input", "nafnet-tiny"]
    assert rows["nafnet-tiny"]["weights"] == bench["official"].name
    assert np.isfinite(float(rows["nafnet-tiny"]["psnr"])) and 0 < float(rows["nafnet-tiny"]["ssim"]) <= 1
    for name in ("restormer", "dmphn-1-2-4", "hinet", "nafnet-width32"):
        assert name in bench["output"] and name in (bench["out"] / "table1.md").read_text()


def test_table2_has_networks_classical_methods_and_costs(bench: dict) -> None:
    rows = _rows(bench["out"] / "table2.csv")
    assert list(rows) == ["blurry input", "midnet-tiny", "nafnet-tiny", "unsharp-mask", "wiener",
                          "richardson-lucy", "unsupervised-wiener"]
    from midnet import models
    from midnet.metrics import count_parameters

    for name in ("midnet-tiny", "nafnet-tiny"):
        row = rows[name]
        assert row["kind"] == "network"
        assert float(row["params_m"]) == pytest.approx(count_parameters(models.create(name)) / 1e6)
        assert float(row["macs_g"]) > 0 and float(row["cpu_s_per_mp"]) > 0 and float(row["train_s"]) > 0
        assert (bench["out"] / "runs" / name / "best.safetensors").is_file()
    assert float(rows["midnet-tiny"]["macs_g"]) > float(rows["nafnet-tiny"]["macs_g"])  # the gates cost
    for row in rows.values():
        assert np.isfinite(float(row["psnr"])) and 0 < float(row["ssim"]) <= 1
        assert 5 < float(row["psnr"]) < 60
    assert "sigma=1" in rows["wiener"]["notes"]        # the fitted parameters are reported


def test_table3_ablation_rows_and_reuse_of_the_full_loss_run(bench: dict) -> None:
    rows = _rows(bench["out"] / "table3.csv")
    assert list(rows) == ["L1", "L1+edge", "L1+FFT", "L1+edge+FFT"]
    assert [(float(r["edge_weight"]), float(r["fft_weight"])) for r in rows.values()] == \
        [(0, 0), (0.05, 0), (0, 0.01), (0.05, 0.01)]
    table2 = _rows(bench["out"] / "table2.csv")
    # same model, budget and loss as the Table 2 MIDNet row: the same weights, the same score
    assert rows["L1+edge+FFT"]["psnr"] == table2["midnet-tiny"]["psnr"] and rows["L1+edge+FFT"]["train_s"] == ""
    for row in rows.values():
        assert np.isfinite(float(row["psnr"]))


def test_existing_results_are_refused_then_reused(bench: dict) -> None:
    args = _args(bench["data"], bench["out"], bench["official"])
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0 and "--overwrite" in refused.output and "--resume" in refused.output
    before = (bench["out"] / "runs" / "midnet-tiny" / "best.safetensors").stat().st_mtime_ns
    scores = {k: r["psnr"] for k, r in _rows(bench["out"] / "table2.csv").items()}
    again = CliRunner().invoke(cli, [*args, "--resume", "--tables", "2"])
    assert again.exit_code == 0, again.output
    assert "reusing the finished run" in again.output
    assert (bench["out"] / "runs" / "midnet-tiny" / "best.safetensors").stat().st_mtime_ns == before
    rows = _rows(bench["out"] / "table2.csv")
    assert rows["midnet-tiny"]["train_s"] == "" and rows["midnet-tiny"]["notes"] == "reused finished run"
    assert {k: r["psnr"] for k, r in rows.items()} == scores   # same weights, same scores


def test_bad_pretrained_argument_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["benchmark", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                                      "--pretrained", "hinet"])
    assert result.exit_code != 0 and "NAME=PATH" in result.output


def test_published_frames_are_the_default_layout(sem_data: Path, tmp_path: Path) -> None:
    """--data at the published folder uses frames/: train 1-1..6-1, test the whole 7-1 frame."""
    out = tmp_path / "t1"
    result = CliRunner().invoke(cli, ["benchmark", "--data", str(sem_data), "--out", str(out), "--tables", "1"])
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load((out / "config.yaml").read_text())["resolved"]
    assert resolved["test_pairs"] == ["7-1"] and resolved["train_pairs"] == [f"{g}-1" for g in range(1, 7)]
    x = np.asarray(Image.open(sem_data / "frames" / "blur" / "7-1.png").convert("L"))
    y = np.asarray(Image.open(sem_data / "frames" / "sharp" / "7-1.png").convert("L"))
    row = _rows(out / "table1.csv")["blurry input"]
    assert float(row["psnr"]) == pytest.approx(psnr(x, y, data_range=255, mask=rows_mask(x.shape)), abs=1e-9)
    assert "not given" in result.output and not (out / "table2.csv").exists()


def test_an_interrupted_run_is_resumed_from_its_checkpoint(bench: dict) -> None:
    """A run folder with last.ckpt but no exported weights (killed before the end) continues."""
    run = bench["out"] / "runs" / "nafnet-tiny"
    (run / "best.safetensors").unlink()
    args = _args(bench["data"], bench["out"], bench["official"])
    result = CliRunner().invoke(cli, [*args, "--resume", "--tables", "2", "--set", "table2.classical=[]"])
    assert result.exit_code == 0, result.output
    assert "resuming the interrupted run" in result.output and (run / "best.safetensors").is_file()
    rows = _rows(bench["out"] / "table2.csv")
    assert list(rows) == ["blurry input", "midnet-tiny", "nafnet-tiny"]


@pytest.mark.parametrize("tile, tlc, expected, noted", [
    (0, None, {"tile": 0, "tlc": False}, "whole images"),    # as deblur's --tile 0 (it was "default" here)
    (128, 384, {"tile": 128, "tlc": 384}, None),             # --tlc is a crop size, as in deblur
    (None, 1, {"tile": None, "tlc": True}, "deprecated"),    # the old on switch, with a note
    (None, 0, {"tile": None, "tlc": False}, None),
])
def test_tile_and_tlc_mean_what_they_mean_in_deblur(tile, tlc, expected, noted) -> None:
    from midnet.benchmark import load_benchmark_config
    from midnet.cli.benchmark import restore_sets

    sets, notes = restore_sets(tile, tlc)
    cfg = load_benchmark_config(None, sets)
    assert {"tile": cfg.eval.tile, "tlc": cfg.eval.tlc} == expected
    assert (noted is None and not notes) or (noted is not None and noted in notes[0])
