"""Run one training job: run folder, checks, Lightning Trainer, checkpoints, export.

Run folder layout::

    OUT/config.yaml           fully resolved config
    OUT/split.json            which pairs (and source images) went to train/val/test
    OUT/checkpoints/last.ckpt latest state (weights, optimiser, scheduler, step) for --resume
    OUT/checkpoints/best.ckpt best validation PSNR
    OUT/logs/csv/, OUT/logs/tensorboard/
    OUT/best.safetensors      the best (or, without validation, last) weights for `midnet deblur`
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from midnet import config as configs
from midnet import models
from midnet.config.train import RESUMABLE_KEYS, TrainConfig, differences, dump_config, saved_config_path
from midnet.data.splits import write_split_json
from midnet.io.atomic import atomic_write_text
from midnet.training.datamodule import PairedDataModule, resolve_split
from midnet.training.module import DeblurModule


@dataclass
class RunResult:
    out: Path
    last_checkpoint: Path | None
    best_checkpoint: Path | None
    exported: Path | None
    metrics: dict[str, float]


def _is_rank_zero() -> bool:
    """True in the first process of a run (plain, Lightning-launched, torchrun or SLURM)."""
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK"):
        if int(os.environ.get(var, "0") or 0) != 0:
            return False
    return True


def prepare_run_folder(out: Path, *, resume: bool) -> Path | None:
    """Refuse to write into an existing run unless resuming; return the checkpoint to resume."""
    last = out / "checkpoints" / "last.ckpt"
    if resume:
        if not last.is_file():
            raise FileNotFoundError(f"{last}: nothing to resume; start without --resume or give the "
                                    f"--out folder of an earlier run")
        return last
    if not _is_rank_zero():  # other processes start while (or after) rank 0 sets the folder up
        return None
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: run folder exists and is not empty; use --resume to continue "
                              f"it or choose another --out")
    return None


def check_resume_compatible(out: Path, config: TrainConfig) -> None:
    """A resumed run computes what it started to compute: only :data:`RESUMABLE_KEYS` may differ
    from the run's saved ``config.yaml`` (the cosine schedule's length, the data, the loss... are
    part of the saved state)."""
    path = saved_config_path(out)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the run folder has no saved config; it cannot be resumed")
    saved = configs.compose(TrainConfig, path)
    changed = [k for k in differences(saved, config) if k not in RESUMABLE_KEYS]
    if changed:
        raise ValueError(f"{out}: resuming with changed {', '.join(changed)}; a resumed run keeps its saved "
                         f"config (only {', '.join(RESUMABLE_KEYS)} may change). To train differently, start "
                         f"a new run with --set model.checkpoint={out / 'checkpoints' / 'last.ckpt'}")


def train(config: TrainConfig, out: str | Path, *, resume: bool = False,
          callbacks: list[Callback] | None = None) -> RunResult:
    """Train with `config` into run folder `out`; see module docstring for what it writes.

    ``resume=True`` continues ``out`` from its last checkpoint; ``config`` must then be the run's
    saved config, changed at most in :data:`RESUMABLE_KEYS` (see :func:`resume_config`).
    """
    out = Path(out)
    config = config.require_data()
    ckpt_path = prepare_run_folder(out, resume=resume)
    if resume:
        check_resume_compatible(out, config)
    # every pair is checked here, before a model or a trainer exists
    split = resolve_split(config.data)
    t = config.train
    L.seed_everything(t.seed, workers=True, verbose=False)
    if _is_rank_zero():
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", dump_config(config))
        write_split_json(split, out / "split.json", config.data.group_regex)

    module = DeblurModule(config)
    data = PairedDataModule(config, split)
    if _is_rank_zero() and data.synthetic:  # which sharp sources trained and which validated
        atomic_write_text(out / "corpus_split.json", json.dumps(data.corpus_split(), indent=1))
    has_val = data.has_validation()
    ckdir = out / "checkpoints"
    every = min(t.val_every or t.max_steps, t.max_steps)
    last_cb = ModelCheckpoint(dirpath=ckdir, filename="last", monitor=None, save_top_k=1,
                              every_n_train_steps=every, save_on_train_epoch_end=True,
                              enable_version_counter=False)
    cbs: list[Callback] = [last_cb]
    best_cb = None
    if has_val:
        best_cb = ModelCheckpoint(dirpath=ckdir, filename="best", monitor="val/psnr", mode="max",
                                  save_top_k=1, enable_version_counter=False, auto_insert_metric_name=False)
        cbs.append(best_cb)
    cbs.extend(callbacks or [])
    loggers = [CSVLogger(out / "logs", name="csv"), TensorBoardLogger(out / "logs", name="tensorboard")]
    trainer = L.Trainer(
        accelerator=t.accelerator, devices=t.devices, num_nodes=t.num_nodes,
        strategy=t.strategy, precision=t.precision, max_steps=t.max_steps, max_epochs=-1,
        max_time={"minutes": t.max_time_min} if t.max_time_min else None,
        val_check_interval=every if has_val else None, check_val_every_n_epoch=None if has_val else 1,
        limit_val_batches=1.0 if has_val else 0, num_sanity_val_steps=0,
        log_every_n_steps=t.log_every, callbacks=cbs, logger=loggers,
        gradient_clip_val=config.optim.grad_clip, gradient_clip_algorithm="norm",
        enable_progress_bar=t.progress_bar, deterministic=t.deterministic,
        use_distributed_sampler=False, default_root_dir=out, enable_model_summary=False,
    )
    if has_val and t.val_at_start and ckpt_path is None:
        trainer.validate(module, datamodule=data, verbose=False)
    trainer.fit(module, datamodule=data, ckpt_path=str(ckpt_path) if ckpt_path else None)

    last = ckdir / "last.ckpt"
    best = Path(best_cb.best_model_path) if best_cb and best_cb.best_model_path else None
    exported = None
    source = best if t.export == "best" and best and best.is_file() else last
    if source == last:  # the weights as training ended (a time budget may stop between checkpoints)
        trainer.save_checkpoint(last)  # on every process: it synchronises them
    if trainer.is_global_zero:
        net = models.load_model(source)
        exported = models.save_model(net, out / "best.safetensors", name=net.midnet_name,
                                     extra_metadata={"midnet_source_checkpoint": source.name,
                                                     # TLC's window at inference (models.train_size)
                                                     "midnet_train_size": str(config.data.crop_size)})
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    return RunResult(out, last if last.is_file() else None, best, exported, metrics)
