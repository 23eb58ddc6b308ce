"""`midnet train` end to end on tiny synthetic pairs (in process, one CPU device)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from PIL import Image
import numpy as np

from midnet.cli.main import cli
from midnet.data.synthetic import write_synthetic_pairs


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, Path]:
    root = write_synthetic_pairs(tmp_path / "pairs", groups=2, per_group=2, size=(40, 40))
    cfg = {"name": "cli", "model": {"name": "nafnet-tiny"},
           "data": {"root": str(root), "crop_size": 32, "batch_size": 2, "val_groups": ["2-1"]},
           "train": {"max_steps": 50, "val_every": 2, "log_every": 1, "accelerator": "cpu",
                     "progress_bar": False}}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    return tmp_path / "cfg.yaml", root


def test_train_writes_run_folder_and_resolved_config(tmp_path: Path, setup) -> None:
    cfg, _ = setup
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["train", "--config", str(cfg), "--max-steps", "2", "--out", str(out),
                                   "--set", "optim.lr=5e-4"])
    assert res.exit_code == 0, res.output
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["train"]["max_steps"] == 2 and resolved["optim"]["lr"] == 5e-4
    assert resolved["model"]["name"] == "nafnet-tiny" and resolved["optim"]["betas"] == [0.9, 0.999]
    assert (out / "best.safetensors").is_file() and "best weights" in res.output
    # the same --out again without --resume is refused, nothing overwritten
    again = CliRunner().invoke(cli, ["train", "--config", str(cfg), "--max-steps", "2", "--out", str(out)])
    assert again.exit_code != 0 and "--resume" in again.output


def test_bad_data_stops_before_training_and_lists_every_pair(tmp_path: Path, setup) -> None:
    cfg, root = setup
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "blur" / "lonely.png")
    Image.fromarray(np.zeros((41, 40), np.uint8)).save(root / "sharp" / "1-1_s002.png")
    (root / "sharp" / "2-1_s001.png").write_bytes(b"not an image")
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["train", "--config", str(cfg), "--out", str(out)])
    assert res.exit_code != 0
    assert "3 bad image pair(s)" in res.output
    for needle in ("lonely.png: no partner", "1-1_s002: size mismatch", "2-1_s001.png: unreadable"):
        assert needle in res.output
    assert not out.exists()  # nothing started


def test_unknown_override_is_a_usage_error_before_any_work(tmp_path: Path, setup, monkeypatch) -> None:
    cfg, _ = setup
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["train", "--config", str(cfg), "--set", "train.max_step=3"])
    assert res.exit_code == 2 and "train.max_step: unknown key" in res.output
    assert not (tmp_path / "runs").exists()


def test_shipped_config_by_name_in_any_folder_then_resume_needs_nothing_else(tmp_path: Path, setup,
                                                                           monkeypatch) -> None:
    _, root = setup
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    small = ["--set", "model.name=midnet-tiny", "--set", "data.crop_size=32", "--set", "data.batch_size=2",
             "--set", "train.val_every=0", "--set", "train.progress_bar=false", "--set", "data.val_groups=[2-1]"]
    res = CliRunner().invoke(cli, ["train", "--config", "cpu-small", "--set", f"data.root={root}", *small,
                                   "--max-steps", "2", "--out", "run"])
    assert res.exit_code == 0, res.output
    saved = (elsewhere / "run" / "config.yaml").read_text()
    # changing what the run computes is refused on resume; hardware keys may change
    bad = CliRunner().invoke(cli, ["train", "--resume", "run", "--set", "optim.lr=1e-5"])
    assert bad.exit_code == 2 and "optim.lr: cannot change on --resume" in bad.output
    bad = CliRunner().invoke(cli, ["train", "--resume", "run", "--config", "cpu-small"])
    assert bad.exit_code == 2 and "--config: not allowed with --resume" in bad.output
    res = CliRunner().invoke(cli, ["train", "--resume", "run"])
    assert res.exit_code == 0, res.output
    assert (elsewhere / "run" / "config.yaml").read_text() == saved
    assert (elsewhere / "run" / "best.safetensors").is_file()


def test_config_list_and_show() -> None:
    res = CliRunner().invoke(cli, ["config", "list"])
    assert res.exit_code == 0 and "cpu-small" in res.output and "benchmark-cpu" in res.output
    res = CliRunner().invoke(cli, ["config", "show", "cpu-small"])
    assert res.exit_code == 0 and "name: cpu-small" in res.output
    res = CliRunner().invoke(cli, ["config", "show", "cpu-small", "--resolved"])
    assert res.exit_code == 0
    doc = yaml.safe_load(res.output)
    assert doc["model"]["name"] == "midnet-small" and doc["optim"]["weight_decay"] == 0.0
    res = CliRunner().invoke(cli, ["config", "show", "benchmark-cpu", "--resolved"])
    assert res.exit_code == 0 and yaml.safe_load(res.output)["budget"]["max_steps"] == 2000
    res = CliRunner().invoke(cli, ["config", "show", "nope"])
    assert res.exit_code == 2 and "no shipped config of that name" in res.output
