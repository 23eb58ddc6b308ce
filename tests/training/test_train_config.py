"""Config loading, overrides and round trip; the shipped YAML files stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from midnet.training import load_config
from midnet.training.config import dump_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: the training configs (configs/ also holds other tools' files)
TRAINING_CONFIGS = ["midnet-paper", "nafnet-width32", "ablation-l1", "ablation-l1-edge",
                    "ablation-l1-fft", "ablation-all", "cpu-small"]


def test_round_trip_through_the_run_folder_file(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS / "cpu-small.yaml", ["data.root=/data", "optim.lr=5e-4", "data.val_groups=[6-1]"])
    assert cfg["optim"]["lr"] == 5e-4 and cfg["data"]["val_groups"] == ["6-1"]
    (tmp_path / "config.yaml").write_text(dump_config(cfg))
    assert load_config(tmp_path / "config.yaml") == cfg


def test_unknown_keys_and_missing_data_fail_clearly() -> None:
    with pytest.raises(KeyError, match="optim.lrr"):
        load_config(None, ["optim.lrr=1", "data.root=/x"])
    with pytest.raises(ValueError, match="data.root"):
        load_config(None, [])


@pytest.mark.parametrize("name", TRAINING_CONFIGS)
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config(CONFIGS / f"{name}.yaml", ["data.root=/x"])
    from midnet.models import available

    assert cfg["model"]["name"] in available()


def test_paper_recipe() -> None:
    cfg = load_config(CONFIGS / "midnet-paper.yaml", ["data.root=/x"])
    assert cfg["train"]["max_steps"] == 200_000 and cfg["data"]["crop_size"] == 256
    assert cfg["data"]["batch_size"] == 32  # NAFNet GoPro width32: 4 per GPU x 8 GPUs
    assert cfg["optim"] == {**cfg["optim"], "name": "adam", "lr": 1e-3, "min_lr": 1e-7, "betas": [0.9, 0.999]}
    assert cfg["loss"] == {"l1_weight": 1.0, "edge_weight": 0.05, "fft_weight": 0.01, "fft_mode": None}


def test_ablations_differ_only_in_loss() -> None:
    docs = {p.stem: yaml.safe_load(p.read_text()) for p in CONFIGS.glob("ablation-*.yaml")}
    assert set(docs) == {"ablation-l1", "ablation-l1-edge", "ablation-l1-fft", "ablation-all"}
    weights = {k: (d["loss"]["edge_weight"] > 0, d["loss"]["fft_weight"] > 0) for k, d in docs.items()}
    assert weights == {"ablation-l1": (False, False), "ablation-l1-edge": (True, False),
                       "ablation-l1-fft": (False, True), "ablation-all": (True, True)}
    stripped = [{k: v for k, v in d.items() if k not in ("loss", "name")} for d in docs.values()]
    assert all(s == stripped[0] for s in stripped)


def test_compile_option_resolves_and_keeps_checkpoint_keys() -> None:
    """train.compile: auto means long runs only; a compiled module still saves ``model.*`` keys."""
    import copy

    from midnet.training.config import DEFAULTS
    from midnet.training.module import COMPILE_MIN_STEPS, DeblurModule, compile_enabled

    assert compile_enabled({"compile": "auto", "max_steps": COMPILE_MIN_STEPS})
    assert not compile_enabled({"compile": "auto", "max_steps": 50})
    assert not compile_enabled({"compile": "auto", "max_steps": COMPILE_MIN_STEPS}, params=300_000)
    assert compile_enabled({"compile": True, "max_steps": 1}) and not compile_enabled({"compile": False})
    with pytest.raises(ValueError, match="train.compile"):
        compile_enabled({"compile": "yes"})
    cfg = copy.deepcopy(DEFAULTS)
    cfg["model"]["name"] = "midnet-tiny"
    cfg["train"].update(compile=True, channels_last=True)
    module = DeblurModule(cfg)
    assert module.train_forward is not module.model
    assert all(k.startswith(("model.", "loss_fn.")) for k in module.state_dict())
    assert module.model.intro.weight.is_contiguous(memory_format=torch.channels_last)
