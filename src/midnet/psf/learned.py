"""Learned blur estimation: a small CNN reads the PSF family, width and astigmatism from patches.

Why a second estimator beside the spectral fit (`midnet.psf.estimate`): that fit sees only the
power spectrum, where the specimen's own fall-off (its power-law exponent) trades off against
the PSF's MTF. The trade is worst for the Lorentzian, whose exponential MTF a steeper power law
mimics, and for σ ≈ 1 px, where the MTF only bends where the noise floor begins (issue 18
measured 68 % and 95 % median error there). A network sees the phase as well (edges, grain
boundaries, the shape of blurred points) and learns, from the sharp corpus, how sharp SEM
specimens are: the prior the spectral fit lacks. Issue 18 asks to measure which wins
(``benchmarks/psf_estimation.py --method``).

**Input.** Patches of `PATCH` px, each normalised to zero mean and unit standard deviation, so
the answer does not depend on brightness or contrast. **Output** per patch: logits over
`midnet.psf.FAMILIES` (``none`` = in focus), log major and minor σ-equivalent widths, and the
astigmatism's orientation as ``(cos 2θ, sin 2θ)``. **Whole image:** the mean log-probability
and the median widths over up to `MAX_PATCHES` patches on a grid (flat patches left out); the
orientation is the mean of the orientation vectors.

Trained by `midnet.training.blur_estimator` on `midnet.data.degrade_torch` batches (the
degradation the restoration networks train on) of the non-held-out corpus sources.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from midnet.psf.kernels import FAMILIES, PSF

#: patch side (px): holds a σ = 6 px blur's footprint (±4σ within two patches), and cheap to train on one core
PATCH = 64
#: at most this many patches per image (evenly spread over the grid)
MAX_PATCHES = 192
#: patches flatter than this standard deviation (in [0, 1] units) carry no blur information
MIN_STD = 2.0 / 255.0
#: outputs: 5 family logits, log major σ, log minor σ, cos 2θ, sin 2θ
N_OUT = len(FAMILIES) + 4
#: the shipped weights (trained by `midnet.training.blur_estimator`)
WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "psf-estimator.safetensors"


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    # batch norm: without it, the nine plain convolutions' default initialisation shrinks the
    # signal layer by layer and the head sees nearly constant features (training stalled there)
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.GELU(),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.GELU())


class BlurNet(nn.Module):
    """A plain strided CNN: one full-resolution convolution (the finest detail decides σ ≈ 1 px),
    four halvings, global average pooling and a small head; 0.17 M parameters at width 16."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(nn.Sequential(nn.Conv2d(1, w, 3, padding=1), nn.GELU()),
                                      _block(w, 2 * w, 2), _block(2 * w, 3 * w, 2),
                                      _block(3 * w, 4 * w, 2), _block(4 * w, 4 * w, 2))
        self.head = nn.Sequential(nn.Linear(4 * w, 4 * w), nn.GELU(), nn.Linear(4 * w, N_OUT))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) normalised patches → (B, `N_OUT`)."""
        return self.head(self.features(x).mean(dim=(2, 3)))


def normalise(patches: torch.Tensor) -> torch.Tensor:
    """Each patch to zero mean and unit standard deviation (flat ones stay near zero)."""
    mean = patches.mean(dim=(1, 2, 3), keepdim=True)
    std = patches.std(dim=(1, 2, 3), keepdim=True)
    return (patches - mean) / std.clamp_min(MIN_STD)


def patch_grid(image: np.ndarray, patch: int = PATCH, limit: int = MAX_PATCHES) -> np.ndarray:
    """(N, patch, patch) non-overlapping patches on a grid over ``image``, at most ``limit``,
    evenly chosen, leaving out flat ones (all of them when every patch is flat)."""
    h, w = image.shape
    ys = range(0, h - patch + 1, patch)
    xs = range(0, w - patch + 1, patch)
    out = np.stack([image[y:y + patch, x:x + patch] for y in ys for x in xs])
    std = out.reshape(len(out), -1).std(axis=1)
    keep = std >= MIN_STD
    if keep.any():
        out = out[keep]
    if len(out) > limit:
        out = out[np.linspace(0, len(out) - 1, limit).round().astype(int)]
    return out


class LearnedBlurEstimator:
    """`BlurNet` with its weights, answering for whole grey images (float in [0, 1])."""

    def __init__(self, net: BlurNet) -> None:
        self.net = net.eval()

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> "LearnedBlurEstimator":
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: learned PSF estimator weights not found; reinstall midnet or "
                                    "train them with scripts/train_psf_estimator.sh")
        state = load_file(str(path))
        width = int(state["features.0.0.weight"].shape[0])
        net = BlurNet(width)
        net.load_state_dict(state)
        return cls(net)

    @torch.no_grad()
    def predict(self, image: np.ndarray) -> tuple[PSF, float]:
        """(PSF, probability that the image is in focus) for a grey image of at least `PATCH` px."""
        x = np.asarray(image, np.float32)
        if min(x.shape) < PATCH:
            raise ValueError(f"image {x.shape[1]}x{x.shape[0]} is smaller than the learned estimator's "
                             f"{PATCH} px patch")
        patches = torch.from_numpy(patch_grid(x))[:, None]
        out = self.net(normalise(patches))
        return aggregate(out)


@lru_cache(maxsize=1)
def shipped() -> LearnedBlurEstimator:
    """The shipped estimator, loaded once per process."""
    return LearnedBlurEstimator.load(WEIGHTS)


def aggregate(out: torch.Tensor) -> tuple[PSF, float]:
    """One image's (PSF, in-focus probability) from its patches' outputs (see the module docstring)."""
    logp = torch.log_softmax(out[:, :len(FAMILIES)], dim=1).mean(dim=0)
    prob = torch.softmax(logp, dim=0)
    family = FAMILIES[int(prob.argmax())]
    p_focus = float(prob[FAMILIES.index("none")])
    major = float(out[:, len(FAMILIES)].median().exp())
    minor = min(float(out[:, len(FAMILIES) + 1].median().exp()), major)
    c2, s2 = (float(v) for v in out[:, len(FAMILIES) + 2:].mean(dim=0))
    angle = math.degrees(0.5 * math.atan2(s2, c2)) % 180.0
    if family == "none":
        return PSF("none"), p_focus
    if family == "astigmatic":
        return PSF("astigmatic", major, minor, angle), p_focus
    # isotropic families: the σ-equivalent is one number; the two axis outputs estimate it twice
    return PSF(family, math.sqrt(major * minor)), p_focus  # type: ignore[arg-type]


__all__ = ["BlurNet", "LearnedBlurEstimator", "PATCH", "WEIGHTS", "aggregate", "normalise", "patch_grid", "shipped"]
