"""Training of the learned blur estimator (`midnet.psf.learned.BlurNet`).

Why a plain loop and not the Lightning module the restoration networks use: the estimator is a
0.2 M-parameter CNN trained for minutes on one CPU core, with no validation images, no AMP and
no multi-device need; a loop of forty lines with progress lines and periodic weight files is all
it takes, and it runs anywhere the package does.

Each step draws `PATCH`-px crops of the non-held-out corpus sources (uniformly over images,
then over positions) and degrades them with `midnet.data.degrade_torch.degrade_batch`, the
degradation the restoration networks train on, so the estimator is trained on exactly what the
PSF-aware network is told about. Loss: cross-entropy on the family (``none`` for in-focus
samples), L1 on the log axis widths of blurred samples and L1 on the orientation vector
``(1 − minor/major)·(cos 2θ, sin 2θ)`` of astigmatic ones. Flat samples are left out, as the
estimator leaves out flat patches.

    scripts/train_psf_estimator.sh      # 25 minutes on one core
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from midnet.data.corpus import SharpImage
from midnet.data.degrade_torch import BatchRanges, degrade_batch, generator_for
from midnet.io.atomic import atomic_write_bytes
from midnet.psf.kernels import FAMILIES
from midnet.psf.learned import MIN_STD, PATCH, BlurNet, normalise
from midnet.psf.render_torch import ASTIGMATIC, NONE

#: the degradation drawn: widths uniform in 0.5–8 px (the estimator must cover the benchmark's
#: 1–6 px evenly), every family, a fifth in focus, noise up to 30 grey levels, no flat samples
RANGES = dict(sigma=(0.5, 8.0), sigma_power=1.0, in_focus_fraction=0.2, flat_fraction=0.0,
              in_focus_noise_sigma=(0.0, 8.0),
              families={"gaussian": 0.35, "astigmatic": 0.25, "lorentzian": 0.3, "disc": 0.1})


def crops(images: Sequence[SharpImage], n: int, rng: np.random.Generator, size: int = PATCH) -> torch.Tensor:
    """(n, 1, size, size) random crops, each from an image drawn uniformly."""
    out = np.empty((n, 1, size, size), np.float32)
    for i in range(n):
        im = images[int(rng.integers(len(images)))].image
        y = int(rng.integers(im.shape[0] - size + 1))
        x = int(rng.integers(im.shape[1] - size + 1))
        out[i, 0] = im[y:y + size, x:x + size]
    return torch.from_numpy(out)


def targets_loss(out: torch.Tensor, psf: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The loss of the module docstring for outputs ``out`` and true `PARAMS` rows ``psf``."""
    k = len(FAMILIES)
    family = psf[:, 0].round().long()
    ce = F.cross_entropy(out[valid, :k], family[valid])
    blurred = valid & (family != NONE)
    loss = ce
    if blurred.any():
        major, minor = psf[blurred, 1].clamp_min(1e-3), psf[blurred, 2].clamp_min(1e-3)
        loss = loss + (out[blurred, k] - major.log()).abs().mean() + (out[blurred, k + 1] - minor.log()).abs().mean()
    astig = valid & (family == ASTIGMATIC)
    if astig.any():
        a = 1 - psf[astig, 2] / psf[astig, 1]
        t = torch.deg2rad(2 * psf[astig, 3])
        vec = torch.stack([a * torch.cos(t), a * torch.sin(t)], dim=1)
        loss = loss + (out[astig, k + 2:] - vec).abs().sum(dim=1).mean()
    return loss


def save(net: BlurNet, path: Path) -> None:
    from safetensors.torch import save

    atomic_write_bytes(path, save({k: v.contiguous() for k, v in net.state_dict().items()}))


def train(images: Sequence[SharpImage], out: Path, *, steps: int = 20000, minutes: float = 25.0,
          batch: int = 32, lr: float = 2e-3, width: int = 16, seed: int = 0, log_every: int = 100,
          init: Path | None = None) -> Path:
    """Train and write ``out`` (safetensors) every 500 steps and at the end; returns ``out``.

    Stops at ``steps`` or after ``minutes``; the learning rate follows a cosine over ``steps``
    (so a run stopped by time ends at a higher rate: the time is stated with the result)."""
    if not images:
        raise ValueError("blur estimator: no training images")
    small = [im.name for im in images if min(im.image.shape) < PATCH]
    if small:
        raise ValueError(f"blur estimator: images smaller than {PATCH} px: {small[:3]}")
    torch.manual_seed(seed)
    net = BlurNet(width)
    if init is not None:
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(init)))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    ranges = BatchRanges.from_dict(RANGES)
    rng = np.random.default_rng(seed)
    t0, running = time.time(), 0.0
    out = Path(out)
    step = 0
    for step in range(1, steps + 1):
        sharp = crops(images, batch, rng)
        with torch.no_grad():
            b = degrade_batch(sharp, generator_for(seed, step), ranges)
            valid = b.blurry.std(dim=(1, 2, 3)) >= MIN_STD
        if not valid.any():
            continue
        loss = targets_loss(net(normalise(b.blurry)), b.psf, valid)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % log_every == 0:
            print(f"step {step}  loss {running:.4f}  lr {sched.get_last_lr()[0]:.2e}  "
                  f"{(time.time() - t0) / 60:.1f} min", flush=True)
        if step % 500 == 0:
            save(net, out)
        if time.time() - t0 > minutes * 60:
            print(f"stopped on the {minutes:g}-minute budget at step {step}", flush=True)
            break
    save(net, out)
    return out


__all__ = ["RANGES", "crops", "targets_loss", "train"]
