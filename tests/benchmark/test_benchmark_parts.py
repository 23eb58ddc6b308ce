"""The benchmark's parts: configuration checks, one training config per row, scoring, tables,
loading official checkpoints. Fast: no training here (the end-to-end run is in tests/cli)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from midnet.benchmark import load_benchmark_config
from midnet.benchmark.report import Column, Table
from midnet.benchmark.runner import load_pretrained, split_groups
from midnet.benchmark.scoring import load_test_images, score_method
from midnet.benchmark.training_runs import training_config
from midnet.config import ConfigError
from midnet.config.benchmark import BenchmarkConfig, LossWeights, ModelRow
from midnet.data import list_pairs
from midnet.data.synthetic import write_synthetic_pairs
from midnet.metrics import psnr, rows_mask, ssim


@pytest.fixture(scope="module")
def pairs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 source images (1-1 .. 4-1) x 2 crops of 40x40 with a 6-row data bar."""
    return write_synthetic_pairs(tmp_path_factory.mktemp("bench_pairs"), groups=4, per_group=2,
                                 size=(40, 40), databar_rows=6)


def _cfg(root: Path, *extra: str) -> BenchmarkConfig:
    return load_benchmark_config(None, [f"data.root={root}", "data.train_groups=[1-1, 2-1]",
                                        "data.test_groups=[4-1]", *extra])


# -- configuration -------------------------------------------------------------------------------

def test_defaults_are_cpu_scale_and_valid(pairs_root: Path) -> None:
    cfg = _cfg(pairs_root)
    assert cfg.tables == [1, 2, 3]
    assert set(cfg.table3.variants) == {"L1", "L1+edge", "L1+FFT", "L1+edge+FFT"}
    assert [m.name for m in cfg.table2.models] == ["midnet-small", "nafnet-small"]


@pytest.mark.parametrize("override, message", [
    ("budgett.max_steps=3", "budgett: unknown key; known keys here: budget, data"),
    ("budget.max_steps=0", "budget.max_steps: Input should be greater than 0"),
    ("table2.models=[no-such-net]", r"table2.models.0.name: unknown model 'no-such-net'"),
    ("data.test_groups=[1-1]", "both test groups and train/val groups"),
    ("tables=[4]", "tables.0: Input should be 1, 2 or 3"),
    ("training.optim.lrr=1", "optim.lrr: unknown key"),
    ("table2.classical=[median]", "table2.classical.0: Input should be 'unsharp-mask'"),
    ("table3.variants={L1: {l2_weight: 1}}", "table3.variants.L1.l2_weight: unknown key"),
    ("table3.model={name: hinet, options: {width: 3}}", r"table3.model.options: \['width'\] are not options of hinet"),
])
def test_bad_config_is_one_clear_error(pairs_root: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        _cfg(pairs_root, override)
    assert "\n" not in str(info.value)


def test_config_file_merges_over_defaults(tmp_path: Path, pairs_root: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("budget: {max_steps: 7}\ntable2: {models: [midnet-tiny, {name: nafnet-tiny, label: naf}]}\n")
    cfg = load_benchmark_config(path, [f"data.root={pairs_root}"])
    assert cfg.budget.max_steps == 7 and cfg.budget.crop_size == 128
    assert [m.label for m in cfg.table2.models] == ["midnet-tiny", "naf"]


# -- split and training configuration --------------------------------------------------------------

def test_split_keeps_unlisted_groups_out_of_training(pairs_root: Path) -> None:
    cfg = _cfg(pairs_root)
    split, excluded = split_groups(cfg.data, pairs_root / "blur", pairs_root / "sharp")
    assert {p.name[:3] for p in split["train"]} == {"1-1", "2-1"}
    assert {p.name[:3] for p in split["test"]} == {"4-1"}
    assert excluded == ["3-1", "4-1"]     # 3-1 is neither trained on nor tested


def test_every_row_gets_the_same_budget_and_split(pairs_root: Path) -> None:
    cfg = _cfg(pairs_root, "budget.max_steps=5", "budget.crop_size=32", "budget.batch_size=3")
    kwargs = dict(input_dir=pairs_root / "blur", target_dir=pairs_root / "sharp", excluded_groups=["3-1", "4-1"])
    a = training_config(cfg, cfg.table2.models[0], label="a", **kwargs)
    b = training_config(cfg, ModelRow(name="nafnet-tiny", training={"optim": {"lr": 5e-4}}),
                        label="b", loss=LossWeights(l1_weight=1.0), **kwargs)
    for c in (a, b):
        assert (c.train.max_steps, c.data.crop_size, c.data.batch_size) == (5, 32, 3)
        assert c.data.test_groups == ["3-1", "4-1"] and c.model.in_channels == 1
    assert b.optim.lr == 5e-4 and b.loss.edge_weight == 0.0 and a.loss.edge_weight == 0.05


# -- scoring ---------------------------------------------------------------------------------------

def test_blurry_score_equals_a_direct_computation(pairs_root: Path) -> None:
    pairs = [p for p in list_pairs(pairs_root / "blur", pairs_root / "sharp") if p.name.startswith("4-1")]
    images = load_test_images(pairs, "auto")
    assert [im.databar_rows for im in images] == [6, 6]
    for pair, im in zip(pairs, images):
        x, y = (np.asarray(Image.open(p)) for p in (pair.input_path, pair.target_path))
        keep = rows_mask(x.shape, slice(34, 40))
        (got,) = score_method(lambda z: z, [im], "blurry")
        assert got.psnr == pytest.approx(psnr(x, y, data_range=255, mask=keep), abs=1e-12)
        assert got.ssim == pytest.approx(ssim(x, y, data_range=255, mask=keep), abs=1e-12)


def test_registered_columns_are_midnet_evaluation_scores(sem_data: Path) -> None:
    """reg_psnr/reg_ssim are `midnet.evaluation.score_registered` with the captures' field, measured
    once per test image: the benchmark has no scoring rule of its own."""
    from midnet.benchmark.scoring import METRICS, TestImage
    from midnet.evaluation import register_pair, restore_with, score_registered

    pairs = [p for p in list_pairs(sem_data / "blur", sem_data / "sharp") if p.name == "7-1_s006"]
    (im,) = load_test_images(pairs, "auto")
    assert isinstance(im, TestImage) and im.field is not None
    (got,) = score_method(lambda z: z, [im], "blurry")
    assert list(got.values) == list(METRICS)
    direct = score_registered(restore_with(lambda z: z, im), im, register_pair(im))
    assert (got.values["reg_psnr"], got.values["reg_ssim"]) == pytest.approx((direct.psnr, direct.ssim), abs=1e-12)
    assert got.values["reg_psnr"] > got.psnr   # the published pairs are moved; registering recovers that


def test_restoration_leaves_the_data_bar_alone() -> None:
    from midnet.evaluation import EvalPair, restore_with

    image = EvalPair("a", np.full((10, 6), 128, np.uint8), np.zeros((10, 6), np.uint8), 3, 3)
    out = restore_with(lambda x: np.zeros_like(x), image)
    assert out.dtype == np.uint8 and np.all(out[:7] == 0) and np.all(out[7:] == 128)


def test_real_frames_bar_is_the_documented_rows(sem_data: Path) -> None:
    """On a published frame the detected bar is rows 960..1023 (SOURCE.md), so the scored
    blurry PSNR equals the metric with `rows_mask`'s default."""
    frames = sem_data / "frames"
    pairs = [p for p in list_pairs(frames / "blur", frames / "sharp", check=False) if p.name == "7-1"]
    (im,) = load_test_images(pairs, "auto")
    assert im.databar_rows == 64
    x, y = (np.asarray(Image.open(p).convert("L")) for p in (pairs[0].input_path, pairs[0].target_path))
    expected = psnr(x, y, data_range=255, mask=rows_mask(x.shape))
    assert score_method(lambda z: z, [im], "blurry")[0].psnr == pytest.approx(expected, abs=1e-9)


# -- tables ----------------------------------------------------------------------------------------

def test_table_markdown_and_csv() -> None:
    table = Table("t", "T", [Column("method", "Method"), Column("psnr", "PSNR", "{:.2f}")],
                  rows=[{"method": "a", "psnr": 21.456}, {"method": "b, c", "psnr": None},
                        {"method": "d", "psnr": math.nan}], notes=["note"])
    md = table.markdown().splitlines()
    assert md[2] == "| Method | PSNR |" and md[4] == "| a | 21.46 |" and md[5] == "| b, c | – |"
    assert md[6] == "| d | – |" and md[-1] == "- note"
    assert table.csv().splitlines() == ["method,psnr", "a,21.456", '"b, c",', "d,nan"]


# -- official checkpoints --------------------------------------------------------------------------

def test_official_nafnet_file_runs_on_grey_like_the_adapted_model(tmp_path: Path) -> None:
    """A 3-channel official-format .pth ({'params': ...}) on a grey image gives what the
    registry's exact 3 -> 1 channel adaptation gives."""
    from midnet import models
    from midnet.benchmark.scoring import network_restorer

    torch.manual_seed(0)
    official = models.create("nafnet-tiny", in_channels=3)
    path = tmp_path / "NAFNet-tiny.pth"
    torch.save({"params": official.state_dict()}, path)
    model = load_pretrained("nafnet-tiny", path)
    grey = np.random.default_rng(0).random((32, 40)).astype(np.float32)
    ours = network_restorer(model)(grey)
    adapted = models.create("nafnet-tiny", in_channels=1, checkpoint=path)
    assert adapted.midnet_config["in_channels"] == 1 and model.midnet_config["in_channels"] == 3
    np.testing.assert_allclose(ours, network_restorer(adapted)(grey), atol=1e-5)
    assert np.ptp(ours) > 0.1   # not a trivially constant output


def test_official_dmphn_folder_loads_strictly(tmp_path: Path) -> None:
    from midnet import models

    torch.manual_seed(0)
    source = models.create("dmphn-1-2-4", in_channels=3)
    folder = tmp_path / "DMPHN_1_2_4"
    folder.mkdir()
    for name, module in source.named_children():
        torch.save(module.state_dict(), folder / f"{name}.pkl")
    model = load_pretrained("dmphn-1-2-4", folder)
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)


def test_missing_checkpoint_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--pretrained hinet=PATH"):
        load_pretrained("hinet", tmp_path / "nope.pth")


@pytest.mark.parametrize("name", ["benchmark-cpu", "benchmark-paper"])
def test_shipped_configs_load(name: str, pairs_root: Path) -> None:
    cfg = load_benchmark_config(name, [f"data.root={pairs_root}"])
    assert cfg.data.test_groups == ["7-1"] and len(cfg.table3.variants) == 4
    assert {m.name for m in cfg.table2.models} >= {"hinet", "restormer", "dmphn-1-2-4"}


def test_a_bad_row_fails_before_any_training(pairs_root: Path) -> None:
    with pytest.raises(ConfigError, match="table2.models.1.training.*optim.lrr: unknown key"):
        _cfg(pairs_root, "table2.models=[midnet-tiny, {name: nafnet-tiny, training: {optim: {lrr: 1}}}]")


def test_overwrite_removes_tables_of_an_earlier_invocation(tmp_path):
    """`--overwrite --tables 2` must not leave an older table3 beside the new table2."""
    from midnet.benchmark.runner import prepare_out

    out = tmp_path / "results"
    out.mkdir()
    for name in ("table3.md", "table3.csv", "summary.md"):
        (out / name).write_text("old")
    (out / "notes.txt").write_text("the user's own file")
    with pytest.raises(FileExistsError, match="--overwrite"):
        prepare_out(out, overwrite=False, resume=False)
    prepare_out(out, overwrite=True, resume=False)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
