"""The typed training config: shipped configs by name, dotted updates, one-line errors, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from midnet import config as configs
from midnet.config import ConfigError
from midnet.config.train import BatchOverrides, DefocusOverrides, TrainConfig, dump_config, load_config, resume_config
from midnet.data.defocus import DefocusRanges
from midnet.data.degrade_torch import BatchRanges
from midnet.models import available

#: the training configs (the package also ships benchmark configs)
TRAINING_CONFIGS = ["midnet-paper", "nafnet-width32", "ablation-l1", "ablation-l1-edge", "ablation-l1-fft",
                    "ablation-all", "cpu-small", "sem-default", "sem-default-finetune"]


def test_round_trip_through_the_run_folder_file(tmp_path: Path) -> None:
    cfg = load_config("cpu-small", ["data.root=/data", "optim.lr=5e-4", "data.val_groups=[6-1]"])
    assert isinstance(cfg, TrainConfig)
    assert cfg.optim.lr == 5e-4 and cfg.data.val_groups == ["6-1"] and cfg.model.name == "midnet-small"
    (tmp_path / "config.yaml").write_text(dump_config(cfg))
    assert load_config(tmp_path / "config.yaml") == cfg


def test_a_path_works_as_well_as_a_name(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("model: {name: nafnet-tiny}\ndata: {root: /x}\n")
    assert load_config(tmp_path / "mine.yaml").model.name == "nafnet-tiny"
    assert load_config(str(tmp_path / "mine.yaml")).model.name == "nafnet-tiny"


def test_yaml_1_1_number_strings_become_numbers_for_every_float_key() -> None:
    cfg = load_config(None, ["data.root=/x", "optim.betas=[9e-1, 99e-2]", "optim.lr=1e-3", "loss.fft_weight=1e-2"])
    assert cfg.optim.betas == (0.9, 0.99) and cfg.optim.lr == 1e-3 and cfg.loss.fft_weight == 0.01


@pytest.mark.parametrize("sets, message", [
    (["optim.lrr=1"], r"optim.lrr: unknown key; known keys here: betas, grad_clip, lr"),
    (["data.crop_size=abc"], r"data.crop_size: Input should be a valid integer"),
    (["data.crop_size=0"], r"data.crop_size: Input should be greater than 0"),
    (["optim.name=sgd"], r"optim.name: Input should be 'adam' or 'adamw'"),
    (["optim.betas=[1.5, 0.9]"], r"optim.betas: .*both betas must lie in \[0, 1\)"),
    (["model.name=no-such-net"], r"model.name: .*unknown model 'no-such-net'"),
    (["data.databar_rows=-1"], r"data.databar_rows"),
    (["model.options={widht: 8}"], r"model.options: \['widht'\] are not options of midnet-small; its options: .*width"),
    (["model.options={width: wide}"], r"model.options: width: Input should be a valid integer.*\(got 'wide'\)"),
    (["loss.l1_weight=0", "loss.edge_weight=0", "loss.fft_weight=0"], "all loss weights are 0"),
    (["optim.lr"], r"--set 'optim.lr': write KEY=VALUE"),
])
def test_bad_values_fail_in_one_line_naming_the_key(sets: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_config("cpu-small", ["data.root=/x", *sets])
    assert "\n" not in str(info.value)


def test_a_set_is_validated_again_after_it_is_applied() -> None:
    cfg = load_config("cpu-small", ["data.root=/x"])
    assert cfg.updated("train.max_steps=7").train.max_steps == 7
    with pytest.raises(ConfigError, match="train.max_steps"):
        cfg.updated("train.max_steps=-1")
    with pytest.raises(ConfigError, match="train.max_step: unknown key"):
        cfg.updated("train.max_step=3")


def test_missing_data_names_the_key_and_fix() -> None:
    with pytest.raises(ConfigError, match=r"data.root: no training data; pass --set data.root="):
        load_config("cpu-small")
    assert load_config("cpu-small", require_data=False).data.root is None


def test_unknown_config_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="cpu-smal: no shipped config of that name; choose one of .*cpu-small"):
        load_config("cpu-smal", ["data.root=/x"])


def test_every_shipped_config_is_listed_and_valid() -> None:
    shipped = configs.available()
    assert set(TRAINING_CONFIGS) | {"benchmark-cpu", "benchmark-paper"} <= set(shipped)
    for name in TRAINING_CONFIGS:
        assert load_config(name, ["data.root=/x"]).model.name in available()


def test_paper_recipe() -> None:
    cfg = load_config("midnet-paper", ["data.root=/x"])
    assert cfg.train.max_steps == 200_000 and cfg.data.crop_size == 256
    assert cfg.data.batch_size == 32  # NAFNet GoPro width32: 4 per GPU x 8 GPUs
    assert (cfg.optim.name, cfg.optim.lr, cfg.optim.min_lr, cfg.optim.betas) == ("adam", 1e-3, 1e-7, (0.9, 0.999))
    assert cfg.loss.model_dump() == {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.01, "fft_mode": None}


def test_ablations_differ_only_in_loss() -> None:
    docs = {name: configs.read_yaml(configs.find(name)) for name in configs.available() if name.startswith("ablation-")}
    assert set(docs) == {"ablation-l1", "ablation-l1-edge", "ablation-l1-fft", "ablation-all"}
    weights = {k: (d["loss"]["edge_weight"] > 0, d["loss"]["fft_weight"] > 0) for k, d in docs.items()}
    assert weights == {"ablation-l1": (False, False), "ablation-l1-edge": (True, False),
                       "ablation-l1-fft": (False, True), "ablation-all": (True, True)}
    stripped = [{k: v for k, v in d.items() if k not in ("loss", "name")} for d in docs.values()]
    assert all(s == stripped[0] for s in stripped)


def test_compile_option_resolves_and_keeps_checkpoint_keys() -> None:
    """train.compile: auto means long runs only; a compiled module still saves ``model.*`` keys."""
    from midnet.training.module import COMPILE_MIN_STEPS, DeblurModule, compile_enabled, net_and_loss

    base = TrainConfig().train
    assert base.compile == "auto" and base.channels_last is False
    assert compile_enabled(base.model_copy(update={"max_steps": COMPILE_MIN_STEPS}))
    assert not compile_enabled(base.model_copy(update={"max_steps": 50}))
    assert not compile_enabled(base.model_copy(update={"max_steps": COMPILE_MIN_STEPS}), params=300_000)
    assert compile_enabled(TrainConfig().updated("train.compile=true", "train.max_steps=1").train)
    assert not compile_enabled(TrainConfig().updated("train.compile=false").train)
    for bad in ("always", "1"):  # (YAML reads yes/no as booleans)
        with pytest.raises(ConfigError, match="train.compile: must be true, false or auto"):
            TrainConfig().updated(f"train.compile={bad}")
    cfg = TrainConfig().updated("model.name=midnet-tiny", "train.compile=true", "train.channels_last=true")
    module = DeblurModule(cfg)
    assert module.train_loss.func is not net_and_loss  # compiled
    assert all(k.startswith(("model.", "loss_fn.")) for k in module.state_dict())
    assert module.model.intro.weight.is_contiguous(memory_format=torch.channels_last)


def test_resume_reads_the_saved_config_and_allows_only_resumable_keys(tmp_path: Path) -> None:
    cfg = load_config("cpu-small", ["data.root=/x", "optim.lr=5e-4"])
    (tmp_path / "config.yaml").write_text(dump_config(cfg))
    assert resume_config(tmp_path) == cfg
    assert resume_config(tmp_path, ["train.devices=2"]).train.devices == 2
    with pytest.raises(ConfigError, match="--set optim.lr: cannot change on --resume"):
        resume_config(tmp_path, ["optim.lr=1e-4"])
    with pytest.raises(ConfigError, match="config.yaml: not found"):
        resume_config(tmp_path / "nope")
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["optim"]["lr"] == 5e-4


def test_saved_configs_carry_their_version_and_a_newer_one_is_refused(tmp_path) -> None:
    from midnet.config.train import CONFIG_VERSION

    cfg = load_config("cpu-small", require_data=False)
    assert cfg.version == CONFIG_VERSION and f"version: {CONFIG_VERSION}" in dump_config(cfg)
    old = tmp_path / "old.yaml"  # written before the field existed: read as version 1
    old.write_text("name: old\nmodel: {name: midnet-tiny}\n")
    assert load_config(old, require_data=False).version == 1
    with pytest.raises(ConfigError, match="written by a newer midnet"):
        load_config("cpu-small", [f"version={CONFIG_VERSION + 1}"], require_data=False)


def test_the_package_re_exports_the_schemas() -> None:
    assert configs.TrainConfig is TrainConfig and configs.load_config is load_config
    assert configs.BenchmarkConfig.__module__ == "midnet.config.benchmark"
    assert all(path.parent.name == "presets" for path in map(configs.find, configs.available()))


@pytest.mark.parametrize("sets, message", [
    (["synthetic.degradation={sigmaa: [1, 2]}"],
     r"^cpu-small with --set: synthetic.degradation.sigmaa: unknown key; known keys here: .*sigma, sigma_power"),
    (["synthetic.on_device=true", "synthetic.degradation={kernel_radiuss: 32}"],
     r"synthetic.degradation.kernel_radiuss: unknown key; known keys here: .*kernel_radius"),
    (["synthetic.degradation={kernel_radius: 32}"],
     r"degradation.kernel_radius: a setting of the on-device degradation \(BatchRanges\); set synthetic.on_device=true"),
    (["synthetic.degradation={sigma: [one, 2]}"], r"synthetic.degradation.sigma.0: Input should be a valid number"),
    (["synthetic.degradation={families: {gausian: 1}}"], r"unknown PSF families \['gausian'\]"),
])
def test_a_degradation_typo_fails_in_one_line_naming_the_key(sets: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_config("cpu-small", ["data.root=/x", *sets])
    assert "\n" not in str(info.value)


def test_degradation_is_typed_by_on_device_and_saves_only_its_overrides(tmp_path: Path) -> None:
    cfg = load_config("sem-general", ["data.root=/x"])
    assert isinstance(cfg.synthetic.degradation, DefocusOverrides)
    assert cfg.synthetic.degradation.sigma == (0.3, 10.0) and cfg.synthetic.ranges().sigma == (0.3, 10.0)
    assert cfg.synthetic.ranges() == DefocusRanges.from_dict(
        {"sigma": [0.3, 10.0], "sigma_power": 0.5, "in_focus_fraction": 0.25, "contrast_in_target": True})
    saved = yaml.safe_load(dump_config(cfg))["synthetic"]["degradation"]
    assert saved == {"sigma": [0.3, 10.0], "sigma_power": 0.5, "in_focus_fraction": 0.25, "contrast_in_target": True}
    on = cfg.updated("synthetic.on_device=true", "synthetic.degradation.kernel_radius=16")
    assert isinstance(on.synthetic.degradation, BatchOverrides)
    assert isinstance(on.synthetic.ranges(), BatchRanges) and on.synthetic.ranges().kernel_radius == 16
    (tmp_path / "config.yaml").write_text(dump_config(on))
    assert load_config(tmp_path / "config.yaml") == on
    assert TrainConfig().synthetic.ranges() == DefocusRanges()
