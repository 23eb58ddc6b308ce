"""The Lightning module: one deblurring network, the multi-term loss, the paper's optimiser.

Adam(0.9, 0.999) with per-iteration cosine annealing from 1e-3 to 1e-7 (paper, section 4.1);
validation runs on whole images with data-bar rows masked out of loss and metrics.
"""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
import numpy as np
import torch

from midnet import models
from midnet.training.finetune import freeze_prefixes


def _loss_from_config(cfg: dict[str, Any]) -> torch.nn.Module:
    from midnet.losses import MultiLoss

    kwargs = {k: v for k, v in cfg.items() if v is not None}
    return MultiLoss(**kwargs)


def _to_hwc(x: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) tensor -> (H, W) or (H, W, C) float32 array for the metrics."""
    a = x[0].detach().float().cpu().numpy()
    return a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)


#: ``train.compile: auto`` compiles runs of at least this many steps of networks with at least
#: COMPILE_MIN_PARAMS parameters. Measured with benchmarks/train_throughput.py
#: (docs/results/speed-cpu.md), batch 8 of 128-px crops on 2 CPU cores: midnet-small (1.5 M
#: parameters) steps 2.2x faster compiled, and compiling (one to three minutes) pays back within
#: a hundred steps; midnet-tiny (0.3 M) was not faster compiled (0.82x, within the noise of
#: a loaded machine), as its steps are dominated by per-operation overheads compile does not
#: remove. Short runs (smoke tests, CI) stay eager.
COMPILE_MIN_STEPS = 1000
COMPILE_MIN_PARAMS = 1_000_000


def compile_enabled(train_cfg: dict[str, Any], params: int | None = None) -> bool:
    """Resolve ``train.compile`` (true, false or "auto") for a run's train section."""
    value = train_cfg.get("compile", False)
    if value == "auto":
        big = params is None or params >= COMPILE_MIN_PARAMS
        return big and int(train_cfg.get("max_steps", 0)) >= COMPILE_MIN_STEPS
    if not isinstance(value, bool):
        raise ValueError(f"train.compile must be true, false or auto, got {value!r}")
    return value


class DeblurModule(L.LightningModule):
    """Wraps `midnet.models` networks; the attribute is `model` so checkpoints read as ``model.*``."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        m = config["model"]
        self.model = models.create(m["name"], in_channels=int(m["in_channels"]),
                                   checkpoint=m["checkpoint"], **(m["options"] or {}))
        self.frozen = freeze_prefixes(self.model, m["freeze"] or [])
        # model_name/model_config let `midnet.models.load_model` rebuild the net from a .ckpt
        self.save_hyperparameters({"config": config, "model_name": m["name"],
                                   "model_config": dict(self.model.midnet_config)})
        self.config = config
        self.loss_fn = _loss_from_config(config["loss"])
        t = config.get("train", {})
        self.channels_last = bool(t.get("channels_last", False))
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        # kept out of the module tree (plain __dict__ entry) so checkpoints stay ``model.*``
        self.__dict__["_train_forward"] = self._compiled_forward() if compile_enabled(
            t, sum(p.numel() for p in self.model.parameters())) else None

    def _compiled_forward(self):
        """``torch.compile`` of the network for training crops (fixed size: one graph).

        Why only training: validation runs whole images of varying sizes, where recompiling
        per size would cost more than it saves. Falls back to eager (with a warning) where
        compiling is unavailable (no C++ compiler, unsupported platform).
        """
        import shutil
        import warnings

        if shutil.which("g++") is None and shutil.which("c++") is None and shutil.which("clang++") is None:
            warnings.warn("train.compile: no C++ compiler found; training eagerly", stacklevel=3)
            return None
        return torch.compile(self.model)

    @property
    def train_forward(self):
        """What training steps call: the compiled network when ``train.compile`` is on."""
        compiled = self.__dict__.get("_train_forward")
        return self.model if compiled is None else compiled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    # ---- training -------------------------------------------------------------------------
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        forward = self.train_forward
        pred = forward(self._prepare(batch["input"]))
        total, terms = self.loss_fn(pred, batch["target"], batch["mask"])
        bs = batch["input"].shape[0]
        self.log("train/loss", total, prog_bar=True, batch_size=bs)
        for name, value in terms.items():
            self.log(f"train/{name}", value, prog_bar=True, batch_size=bs)
        self.log("lr", self.optimizers().param_groups[0]["lr"], prog_bar=True, batch_size=bs)
        return total

    def configure_optimizers(self) -> dict[str, Any]:
        o, t = self.config["optim"], self.config["train"]
        params = [p for p in self.model.parameters() if p.requires_grad]
        cls = torch.optim.AdamW if o["name"] == "adamw" else torch.optim.Adam
        opt = cls(params, lr=float(o["lr"]), betas=tuple(o["betas"]), weight_decay=float(o["weight_decay"]))
        if t["max_time_min"]:
            sched = self._time_aware_cosine(opt, float(o["lr"]), float(o["min_lr"]))
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(t["max_steps"]),
                                                               eta_min=float(o["min_lr"]))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": 1}}

    def _time_aware_cosine(self, opt: torch.optim.Optimizer, lr: float, min_lr: float
                           ) -> torch.optim.lr_scheduler.LambdaLR:
        """Cosine from lr to min_lr over whichever budget ends first: max_steps or max_time_min.

        Why: on a lent GPU (or a laptop) the budget is wall time, and a cosine schedule cut off
        by a time limit would stop at a high learning rate. Progress is the larger of the step
        fraction and the time fraction, so the schedule always reaches min_lr as the run ends
        (Lightning's ``max_time`` stops it). Not bit-reproducible across resumes, by nature."""
        t = self.config["train"]
        budget_s, max_steps = 60.0 * float(t["max_time_min"]), int(t["max_steps"])
        start = time.monotonic()

        def factor(step: int) -> float:
            progress = min(1.0, max(step / max_steps, (time.monotonic() - start) / budget_s))
            return (min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))) / lr

        return torch.optim.lr_scheduler.LambdaLR(opt, factor)

    # ---- validation -----------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        if self.config["model"]["tlc"]:
            c = int(self.config["data"]["crop_size"])
            models.enable_tlc(self.model, train_size=(c, c))

    def on_validation_epoch_end(self) -> None:
        if self.config["model"]["tlc"]:
            models.disable_tlc(self.model)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        from midnet.metrics import psnr, ssim

        x, y, mask = batch["input"], batch["target"], batch["mask"]
        pred = self.model(x)
        total, _ = self.loss_fn(pred, y, mask)
        keep = mask[0, 0].detach().cpu().numpy() > 0.5
        p, t, i = _to_hwc(pred.clamp(0, 1)), _to_hwc(y), _to_hwc(x)
        values = {
            "val/loss": float(total),
            "val/psnr": psnr(p, t, data_range=1.0, mask=keep),
            "val/ssim": ssim(p, t, data_range=1.0, mask=keep),
            "val/psnr_input": psnr(i, t, data_range=1.0, mask=keep),
            "val/ssim_input": ssim(i, t, data_range=1.0, mask=keep),
        }
        group = batch.get("group")
        for key, value in values.items():
            self.log(key, value, prog_bar=key in ("val/psnr",), batch_size=1, sync_dist=True)
            if group:  # also per validation group (real pairs, synthetic defocus of held-out sources)
                self.log(f"{key}_{group[0]}", value, batch_size=1, sync_dist=True)
