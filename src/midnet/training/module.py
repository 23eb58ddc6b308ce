"""The Lightning module: one deblurring network, the multi-term loss, the paper's optimiser.

Adam(0.9, 0.999) with per-iteration cosine annealing from 1e-3 to 1e-7 (paper, section 4.1),
or over a wall-time budget (``train.max_time_min``).
Validation scores each validation pair exactly as `midnet evaluate` does
(:mod:`midnet.evaluation.scoring`: restored through a `Deblurrer`, the file's dtype, the data
bar left out), so the best checkpoint is picked by the number a user will later measure. Real
pairs are scored after registering their captures (`midnet.evaluation.score_registered`), the
headline `midnet evaluate` prints; the as-captured score is logged beside it.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

import lightning as L
import numpy as np
import torch

from midnet import models
from midnet.data import degrade_torch, to_model_channels
from midnet.evaluation import EvalPair, register_pair, restore, score_pair, score_registered
from midnet.inference.deblurrer import Deblurrer
from midnet.losses import MultiLoss
from midnet.config.train import TrainConfig, TrainSection
from midnet.training.finetune import freeze_prefixes


def _loss_from_config(cfg: TrainConfig) -> MultiLoss:
    kwargs = {k: v for k, v in cfg.loss.model_dump().items() if v is not None}
    return MultiLoss(**kwargs)


#: ``train.compile: auto`` compiles runs of at least this many steps of networks with at least
#: COMPILE_MIN_PARAMS parameters. Measured with benchmarks/train_variants.py
#: (docs/results/speed-cpu.md), batch 8 of 128-px crops on 2 CPU cores: midnet-small (1.5 M
#: parameters) steps 1.3-1.4x faster compiled on a quiet machine (2.2x under load), and
#: compiling (one to three minutes) pays back within a few hundred steps; midnet-tiny (0.3 M)
#: was 0.82x under load (1.47x on a quiet machine, measured after this threshold was set).
#: Short runs (smoke tests, CI) stay eager.
COMPILE_MIN_STEPS = 1000
COMPILE_MIN_PARAMS = 1_000_000


#: Lightning precisions that run under autocast (its MixedPrecision plugin), which refuses gradient
#: clipping with an optimiser that unscales gradients itself (a fused one)
AMP_PRECISIONS = frozenset({"16-mixed", "bf16-mixed", "16", "bf16"})


def make_optimizer(cls: type[torch.optim.Optimizer], params: list[torch.nn.Parameter], *, fused: bool = True,
                   **kwargs: Any) -> torch.optim.Optimizer:
    """``cls(params, fused=True, **kwargs)`` where torch has a fused kernel for the parameters' device.

    Why: one fused kernel per step instead of several foreach passes over the parameters; on
    2 CPU cores midnet-small steps faster with it (docs/results/speed-cpu.md). torch builds its
    CPU kernel from 2.4 on (CUDA earlier) and raises at construction where it has none, so
    that is the test; elsewhere (older torch, other devices) this is the default optimiser.
    """
    opt = None
    if fused:
        try:
            opt = cls(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):
            pass
    opt = opt if opt is not None else cls(params, **kwargs)
    if hasattr(opt, "register_load_state_dict_pre_hook"):
        opt.register_load_state_dict_pre_hook(_keep_fused_choice)
    return opt


def _keep_fused_choice(optimizer: torch.optim.Optimizer, state_dict: dict[str, Any]) -> dict[str, Any]:
    """Loading a state (``--resume``) keeps this optimiser's fused choice.

    Why: saved param groups carry the flag they were saved with, and loading would replace this
    one's: a checkpoint from before fusing would resume unfused (and, under a gradient scaler,
    fail: the optimiser was built to unscale in its step), a fused one would resume fused where
    torch has no fused kernel."""
    groups = [{**saved, "fused": current.get("fused")}
              for saved, current in zip(state_dict["param_groups"], optimizer.param_groups)]
    return {**state_dict, "param_groups": groups}


def net_and_loss(model: torch.nn.Module, loss_fn: MultiLoss, x: torch.Tensor, target: torch.Tensor,
                 mask: torch.Tensor, psf: torch.Tensor | None = None,
                 noise_sigma: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The training loss of one batch: ``loss_fn(model(x), target, mask)``, i.e. (total, terms).
    A PSF-aware model is also given ``psf`` and ``noise_sigma`` when the batch has them.

    A free function taking the modules as arguments (not a bound method) so that its compiled
    form holds no reference to one `DeblurModule`: a copy of the module trains its own weights."""
    out = model(x) if psf is None and noise_sigma is None else model(x, psf=psf, noise_sigma=noise_sigma)
    return loss_fn(out, target, mask)


def compile_enabled(train: TrainSection, params: int | None = None) -> bool:
    """Resolve ``train.compile`` (true, false or "auto", validated by the config) for a run."""
    if train.compile == "auto":
        big = params is None or params >= COMPILE_MIN_PARAMS
        return big and train.max_steps >= COMPILE_MIN_STEPS
    return bool(train.compile)


def _compiler_available() -> bool:
    """Whether torch.compile can build kernels here (it needs a C++ compiler on CPU); warns if not.

    Why training only compiles: training crops have one size (one graph), while validation runs
    whole images of varying sizes, where recompiling per size would cost more than it saves."""
    import shutil
    import warnings

    if any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        return True
    warnings.warn("train.compile: no C++ compiler found; training eagerly", stacklevel=3)
    return False


class DeblurModule(L.LightningModule):
    """Wraps `midnet.models` networks; the attribute is `model` so checkpoints read as ``model.*``."""

    #: a fused Adam/AdamW where torch has one (`make_optimizer`); benchmarks/train_variants.py
    #: turns it off to measure what it gains
    fused_optimizer: bool = True

    def __init__(self, config: TrainConfig | dict[str, Any]) -> None:
        super().__init__()
        if not isinstance(config, TrainConfig):  # Lightning hands back the saved dict
            config = TrainConfig.model_validate(config)
        m = config.model
        self.model = models.create(m.name, in_channels=m.in_channels, checkpoint=m.checkpoint, **m.options)
        self.frozen = freeze_prefixes(self.model, m.freeze)
        # model_name/model_config let `midnet.models.load_model` rebuild the net from a .ckpt
        self.save_hyperparameters({"config": config.as_dict(), "model_name": self.model.midnet_name,
                                   "model_config": dict(self.model.midnet_config)})
        self.config = config
        self.loss_fn = _loss_from_config(config)
        self._val_deblurrer: Deblurrer | None = None
        self.channels_last = config.train.channels_last
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        # kept out of the module tree (plain __dict__ entries) so checkpoints stay ``model.*``;
        # torch.compile is lazy: nothing compiles before the first call
        compiled = (compile_enabled(config.train, sum(p.numel() for p in self.model.parameters()))
                    and _compiler_available())
        self.__dict__["_train_loss"] = torch.compile(net_and_loss) if compiled else None

    @property
    def train_loss(self):
        """What training steps call: ``(x, target, mask) -> (total, terms)``, the loss of the
        network's output (`MultiLoss`: the total and the unweighted terms, detached).

        With ``train.compile`` on this is ``torch.compile`` of network and loss as one function:
        one graph for forward and loss, one for their backward (on 2 CPU cores as fast as
        compiling the network alone, within noise: docs/results/speed-cpu.md). Otherwise the
        eager network and loss."""
        fn = self.__dict__.get("_train_loss") or net_and_loss
        return functools.partial(fn, self.model, self.loss_fn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    # ---- training -------------------------------------------------------------------------
    @property
    def psf_aware(self) -> bool:
        """Whether the network takes ``psf=`` and ``noise_sigma=`` (`midnet.models.psf_aware`)."""
        return bool(getattr(self.model, "psf_aware", False))

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """With ``synthetic.on_device``: degrade the flagged rows of a training batch here, on the
        training device (`midnet.data.degrade_torch.degrade_batch`), so the loader only crops.

        Reproducible and resumable: the generator is seeded from (train.seed, global step, rank),
        so a resumed run degrades exactly as an uninterrupted one would (on the same kind of
        device). Rows that are real pairs pass unchanged (a PSF-aware model never sees them:
        `TrainConfig.require_data` refuses real pairs for it)."""
        trainer = self._trainer
        if not (isinstance(batch, dict) and "synthetic" in batch and trainer is not None and trainer.training):
            return batch
        t = self.config.train
        gen = degrade_torch.generator_for(t.seed + 1_000_003 * trainer.global_rank, trainer.global_step, self.device)
        sharp = batch["target"].float()
        d = degrade_torch.degrade_batch(sharp, gen, self._batch_ranges())
        syn = batch.pop("synthetic").to(torch.bool)
        rows = syn.reshape(-1, 1, 1, 1)
        batch["input"] = torch.where(rows, d.blurry, batch["input"].float())
        batch["target"] = torch.where(rows, d.target, sharp)
        if self.psf_aware:
            batch["psf"] = d.given_psf
            batch["noise_sigma"] = d.given_noise_sigma.to(sharp.dtype) / 255.0
        return batch

    def _batch_ranges(self) -> degrade_torch.BatchRanges:
        ranges = self.__dict__.get("_ranges")
        if ranges is None:
            ranges = degrade_torch.BatchRanges.from_dict(self.config.synthetic.degradation.overrides())
            self.__dict__["_ranges"] = ranges
        return ranges

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        cond = {k: batch[k] for k in ("psf", "noise_sigma") if k in batch}
        total, terms = self.train_loss(self._prepare(batch["input"]), batch["target"], batch["mask"], **cond)
        bs = batch["input"].shape[0]
        self.log("train/loss", total, prog_bar=True, batch_size=bs)
        for name, value in terms.items():
            self.log(f"train/{name}", value, prog_bar=True, batch_size=bs)
        self.log("lr", self.optimizers().param_groups[0]["lr"], prog_bar=True, batch_size=bs)
        return total

    def configure_optimizers(self) -> dict[str, Any]:
        o, t = self.config.optim, self.config.train
        params = [p for p in self.model.parameters() if p.requires_grad]
        cls = torch.optim.AdamW if o.name == "adamw" else torch.optim.Adam
        # Lightning refuses to clip gradients under autocast with a fused optimiser
        # (it unscales gradients inside its step), so clipped mixed-precision runs stay unfused
        fused = self.fused_optimizer and not (o.grad_clip and str(t.precision) in AMP_PRECISIONS)
        opt = make_optimizer(cls, params, fused=fused, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)
        if t.max_time_min:
            sched = self._time_aware_cosine(opt, o.lr, o.min_lr)
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t.max_steps, eta_min=o.min_lr)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": 1}}

    def _time_aware_cosine(self, opt: torch.optim.Optimizer, lr: float, min_lr: float
                           ) -> torch.optim.lr_scheduler.LambdaLR:
        """Cosine from lr to min_lr over whichever budget ends first: max_steps or max_time_min.

        Why: on a lent GPU (or a laptop) the budget is wall time, and a cosine schedule cut off
        by a time limit would stop at a high learning rate. Progress is the larger of the step
        fraction and the time fraction, so the schedule always reaches min_lr as the run ends
        (Lightning's ``max_time`` stops it). Not bit-reproducible across resumes, by nature."""
        t = self.config.train
        budget_s, max_steps = 60.0 * float(t.max_time_min), t.max_steps
        start = time.monotonic()

        def factor(step: int) -> float:
            progress = min(1.0, max(step / max_steps, (time.monotonic() - start) / budget_s))
            return (min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))) / lr

        return torch.optim.lr_scheduler.LambdaLR(opt, factor)

    # ---- validation -----------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        crop = self.config.data.crop_size
        # eager: the weights change every validation, so a compiled copy (cached by its weights)
        # would be compiled anew each time; the Deblurrer restores with a copy of the weights
        self._val_deblurrer = Deblurrer(self.model, device=self.device, tlc=crop if self.config.model.tlc else False,
                                        backend="eager")

    def on_validation_epoch_end(self) -> None:
        self._val_deblurrer = None
        if self.config.model.tlc and models.tlc_enabled(self.model):
            models.disable_tlc(self.model)  # a safety net: the Deblurrer converts its own copy

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        group, pair = self.trainer.datamodule.val_pairs[int(batch[0])]
        assert self._val_deblurrer is not None
        restored = restore(self._val_deblurrer, pair)
        r, i = self._score(restored, pair, group), self._input_score(pair, group)
        channels = self.config.model.in_channels
        pred = torch.from_numpy(to_model_channels(restored, channels))[None]
        target = torch.from_numpy(to_model_channels(pair.sharp, channels))[None]
        mask = torch.from_numpy(pair.keep.astype(np.float32))[None, None]
        total, _ = self.loss_fn(pred, target, mask)
        values = {"val/loss": float(total), "val/psnr": r.psnr, "val/ssim": r.ssim,
                  "val/psnr_input": i.psnr, "val/ssim_input": i.ssim}
        if group == "real":
            captured = score_pair(restored, pair)
            values.update({"val/psnr_as_captured": captured.psnr, "val/ssim_as_captured": captured.ssim})
        for key, value in values.items():
            self.log(key, value, prog_bar=key in ("val/psnr",), batch_size=1, sync_dist=True)
            # also per validation group (real pairs, synthetic defocus of held-out sources)
            self.log(f"{key}_{group}", value, batch_size=1, sync_dist=True)

    @staticmethod
    def _score(restored: np.ndarray, pair: EvalPair, group: str):
        """Real pairs registered (the field measured once per pair, between the captures)."""
        if group != "real":
            return score_pair(restored, pair)
        moved = getattr(pair, "_field", None)
        if moved is None:
            moved = register_pair(pair)
            pair._field = moved  # type: ignore[attr-defined]
        return score_registered(restored, pair, moved)

    @classmethod
    def _input_score(cls, pair: EvalPair, group: str):
        cached = getattr(pair, "_input_score", None)
        if cached is None:
            cached = cls._score(pair.blurry, pair, group)
            pair._input_score = cached  # type: ignore[attr-defined]
        return cached
