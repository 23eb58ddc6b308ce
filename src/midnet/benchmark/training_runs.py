"""Training the benchmark's networks: one `midnet train` run per table row, same budget for all.

Why a separate module: each row's training configuration is derived from the benchmark
configuration in one place (so "same budget" is enforced by construction), and finished runs
are reused instead of retrained, both within one invocation (Table 3's full-loss row is the
Table 2 MIDNet run when their configurations are identical) and across invocations
(``--resume``), where a run interrupted after a checkpoint continues from it.
"""

from __future__ import annotations

import copy
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from midnet import config as configs
from midnet.config.benchmark import BenchmarkConfig, LossWeights, ModelRow
from midnet.config.train import TrainConfig, dump_config
from midnet.training.run import train


@dataclass
class TrainedRun:
    label: str
    folder: Path
    weights: Path
    seconds: float | None     # None when reused
    reused: bool


def training_config(bench: BenchmarkConfig, entry: ModelRow, *, label: str, input_dir: Path,
                    target_dir: Path, excluded_groups: list[str], loss: LossWeights | None = None,
                    group_regex: str | None = None) -> TrainConfig:
    """The full `midnet train` configuration of one benchmark row.

    Precedence: training defaults <- benchmark ``training`` <- the model entry's ``training``
    <- what the benchmark fixes for every row (model, data split, budget) <- the row's loss.
    ``excluded_groups`` are units of ``group_regex`` (default ``data.group_regex``): source
    images, or single pairs under the paper protocol, so the run's own split.json and config
    name exactly what it never trained on.
    """
    b, d = bench.budget, bench.data
    doc = configs.merge(bench.training, entry.training)
    doc = configs.merge(doc, {
        "name": label,
        "model": {"name": entry.name, "options": entry.options},
        "data": {"root": None, "input_dir": str(input_dir), "target_dir": str(target_dir),
                 "group_regex": group_regex or d.group_regex, "val_groups": list(d.val_groups), "test_groups": list(excluded_groups),
                 "databar_rows": d.databar_rows, "crop_size": b.crop_size, "batch_size": b.batch_size},
        "train": {"max_steps": b.max_steps, "val_every": b.checkpoint_every or max(1, b.max_steps // 10)},
    })
    if loss is not None:
        doc = configs.merge(doc, {"loss": loss.model_dump()})
    return configs.validate(TrainConfig, doc, source=f"benchmark row {label!r}").require_data()


def _comparable(cfg: TrainConfig | dict[str, Any]) -> str:
    """The configuration without its display name: two rows with equal keys train the same net."""
    doc = cfg.as_dict() if isinstance(cfg, TrainConfig) else copy.deepcopy(cfg)
    doc.pop("name", None)
    return yaml.safe_dump(doc, sort_keys=True)


class RunCache:
    """Trains rows into ``root/<label>`` or reuses an identical finished run."""

    def __init__(self, root: Path, *, reuse_existing: bool, log: Callable[[str], None]) -> None:
        self.root = root
        self.reuse_existing = reuse_existing
        self.log = log
        self._done: dict[str, TrainedRun] = {}

    def get(self, cfg: TrainConfig, label: str) -> TrainedRun:
        key = _comparable(cfg)
        if key in self._done:
            earlier = self._done[key]
            self.log(f"{label}: same configuration as {earlier.label}; reusing its weights")
            return TrainedRun(label, earlier.folder, earlier.weights, None, True)
        folder = self.root / _safe(label)
        resume = False
        if folder.exists() and any(folder.iterdir()):
            if not self.reuse_existing:
                shutil.rmtree(folder)   # --overwrite: this results folder's own run, regenerated
            else:
                old_cfg = folder / "config.yaml"
                old = yaml.safe_load(old_cfg.read_text(encoding="utf-8")) if old_cfg.is_file() else None
                if old is not None and _comparable(old) != key:
                    raise FileExistsError(f"{folder}: holds a training run with another configuration; "
                                          f"delete that folder or pass --overwrite to retrain everything")
                weights = folder / "best.safetensors"
                if old is not None and weights.is_file():
                    self.log(f"{label}: reusing the finished run in {folder}")
                    run = TrainedRun(label, folder, weights, None, True)
                    self._done[key] = run
                    return run
                if old is not None and (folder / "checkpoints" / "last.ckpt").is_file():
                    self.log(f"{label}: resuming the interrupted run in {folder}")
                    resume = True
                else:
                    shutil.rmtree(folder)   # interrupted before its first checkpoint: nothing to keep
        self.log(f"{label}: training {cfg.model.name} for {cfg.train.max_steps} steps "
                 f"(crop {cfg.data.crop_size}, batch {cfg.data.batch_size}) -> {folder}")
        start = time.perf_counter()
        result = train(cfg, folder, resume=resume)
        seconds = time.perf_counter() - start
        if result.exported is None or not Path(result.exported).is_file():
            raise RuntimeError(f"{folder}: training finished without exported weights (best.safetensors)")
        run = TrainedRun(label, folder, Path(result.exported), seconds, False)
        self._done[key] = run
        return run


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


__all__ = ["TrainedRun", "RunCache", "training_config", "dump_config"]
