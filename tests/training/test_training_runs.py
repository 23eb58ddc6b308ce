"""Real (tiny) training runs: loss goes down, resume reproduces the curve, fine-tuning freezes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import Callback

from midnet import models
from midnet.data import PairStore, list_pairs, split_pairs
from midnet.losses import MultiLoss
from midnet.training import TrainConfig
from midnet.training.run import train


def _train_losses(out: Path) -> dict[int, float]:
    """step -> training loss from every CSV log of the run (a resumed run adds a version)."""
    losses: dict[int, float] = {}
    for path in sorted((out / "logs" / "csv").glob("version_*/metrics.csv")):
        for row in csv.DictReader(path.open()):
            if row.get("train/loss"):
                losses[int(row["step"])] = float(row["train/loss"])
    return losses


def _val_loss(model: torch.nn.Module, cfg: TrainConfig) -> float:
    d = cfg.data
    pairs = list_pairs(Path(d.root) / "blur", Path(d.root) / "sharp")
    store = PairStore(split_pairs(pairs, val_groups=d.val_groups)["val"])
    loss = MultiLoss()
    with torch.no_grad():
        vals = [float(loss(model(torch.from_numpy(x)[None]), torch.from_numpy(y)[None],
                           torch.from_numpy(m)[None])[0]) for x, y, m in (store.load(i) for i in range(len(store)))]
    return sum(vals) / len(vals)


def test_short_run_lowers_validation_loss_and_exports(tmp_path: Path, tiny_config: TrainConfig) -> None:
    cfg = tiny_config.updated("train.max_steps=15", "train.val_every=15", "optim.lr=2e-3")
    torch.manual_seed(cfg.train.seed)
    import lightning as L

    L.seed_everything(cfg.train.seed, verbose=False)
    before = _val_loss(models.create("midnet-tiny").eval(), cfg)  # the run's own initial weights
    result = train(cfg, tmp_path / "run")
    after = _val_loss(models.load_model(result.exported).eval(), cfg)
    assert after < 0.9 * before
    for name in ("config.yaml", "split.json", "checkpoints/last.ckpt", "checkpoints/best.ckpt"):
        assert (tmp_path / "run" / name).is_file()
    assert {"val/psnr", "val/ssim", "val/psnr_input"} <= set(result.metrics)


class _Crash(Callback):
    """Simulates a killed job: raises when the given step is about to start."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise KeyboardInterrupt("simulated kill")


def test_kill_and_resume_matches_uninterrupted_run(tmp_path: Path, tiny_config: TrainConfig) -> None:
    cfg = tiny_config.updated("data.val_groups=[]")  # losses only; validation is not part of the curve
    train(cfg, tmp_path / "full")
    with pytest.raises((KeyboardInterrupt, SystemExit)):
        train(cfg, tmp_path / "killed", callbacks=[_Crash(3)])
    assert set(_train_losses(tmp_path / "killed")) == {0, 1, 2}
    longer = cfg.updated("train.max_steps=9")
    with pytest.raises(ValueError, match="changed train.max_steps"):
        train(longer, tmp_path / "killed", resume=True)
    train(cfg, tmp_path / "killed", resume=True)
    full, resumed = _train_losses(tmp_path / "full"), _train_losses(tmp_path / "killed")
    assert sorted(full) == sorted(resumed) == list(range(6))
    for step in range(6):
        assert resumed[step] == pytest.approx(full[step], rel=1e-5, abs=1e-7), step


def test_run_folder_is_never_overwritten(tmp_path: Path, tiny_config: TrainConfig) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="--resume"):
        train(tiny_config, tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="last.ckpt"):
        train(tiny_config, tmp_path / "run", resume=True)


def test_fine_tuning_starts_from_checkpoint_and_freezes(tmp_path: Path, tiny_config: TrainConfig) -> None:
    start = models.create("midnet-tiny")
    models.save_model(start, tmp_path / "start.safetensors", name="midnet-tiny")
    cfg = tiny_config.updated("data.val_groups=[]", "train.max_steps=3",
                              f"model.checkpoint={tmp_path / 'start.safetensors'}", "model.freeze=[intro, encoders]")
    result = train(cfg, tmp_path / "ft")
    tuned = dict(models.load_model(result.exported).named_parameters())
    for name, p in start.named_parameters():
        same = torch.equal(p, tuned[name])
        assert same == (name.startswith("intro.") or name.startswith("encoders.")), name
