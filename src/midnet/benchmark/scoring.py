"""Scoring every row of every table under the one rule of :mod:`midnet.evaluation.scoring`.

Why one scorer for every row: the comparison is only fair if the blurry input, classical
methods, official checkpoints and retrained networks are measured on the same pixels with the
same rule, and that rule is the one `midnet evaluate`, `demo` and training validation use: the
test files restored as `midnet deblur` would (the data bar passed through), 8-bit data rounded
and scored as the paper's code does, the data bar rows left out.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from midnet.data import ImagePair
from midnet.data.synthetic import synthetic_pair
from midnet.evaluation import (DisplacementField, EvalPair, Score, load_pair, mean_score, register_pair, restore,
                               restore_with, score_pair, score_registered)
from midnet.inference.deblurrer import Deblurrer

#: a grey float (H, W) image in [0, 1] -> its restoration, same shape, values in [0, 1]
RestoreFn = Callable[[np.ndarray], np.ndarray]


#: a restoration of one test image (the file `midnet deblur` would write) -> named numbers
ImageRule = Callable[[np.ndarray, EvalPair], dict[str, float]]


def _as_captured(restored: np.ndarray, image: EvalPair) -> dict[str, float]:
    s = score_pair(restored, image)
    return {"psnr": s.psnr, "ssim": s.ssim}


@dataclass
class TestImage(EvalPair):
    """A test pair with the displacement field between its two captures, measured once.

    Why stored: the field belongs to the pair (blurry capture against sharp re-take), never to a
    restoration, so every method is registered by the same field, and measuring it once per
    image instead of once per method keeps rescoring cheap."""

    field: DisplacementField | None = None


def _registered(restored: np.ndarray, image: EvalPair) -> dict[str, float]:
    field = image.field if isinstance(image, TestImage) else None
    s = score_registered(restored, image, field)
    return {"reg_psnr": s.psnr, "reg_ssim": s.ssim}


#: The per-image numbers every method gets, in column order: name -> (title, Markdown format).
#: Why one place: the tables, per_image.csv and the means are all built from the rules below, so a
#: new way of scoring is one more rule and one more pair of entries here, and every row of every
#: table gets it on the same pixels. As captured: the files as they are (the paper's number);
#: registered: after resampling the restoration by the field measured between the two captures
#: (:func:`midnet.evaluation.register_pair`), which the published pairs need (moved by up to
#: ~20 px, unevenly across a frame), so that smoothing that hides the move is not rewarded.
METRICS: dict[str, tuple[str, str]] = {"psnr": ("PSNR (dB)", "{:.2f}"), "ssim": ("SSIM", "{:.4f}"),
                                       "reg_psnr": ("reg. PSNR (dB)", "{:.2f}"), "reg_ssim": ("reg. SSIM", "{:.4f}")}
RULES: list[ImageRule] = [_as_captured, _registered]


@dataclass
class MethodScore:
    """One method on one test image (a row of per_image.csv): every metric of :data:`METRICS`."""

    method: str
    image: str
    values: dict[str, float] = field(default_factory=dict)

    @property
    def psnr(self) -> float:
        return self.values["psnr"]

    @property
    def ssim(self) -> float:
        return self.values["ssim"]


def load_test_images(pairs: list[ImagePair], databar: int | str, *, max_images: int | None = None,
                     register: bool = True) -> list[EvalPair]:
    """Read the test pairs as files with their data bars (``"auto"``: the io detector), each with
    its captures' displacement field when ``register`` (test images; training pairs need none)."""
    images = [load_pair(p.input_path, p.target_path, databar=databar, name=p.name)
              for p in (pairs[:max_images] if max_images else pairs)]
    if not images:
        raise ValueError("no test images: check data.test_groups against the groups in the data folder")
    if not register:
        return images
    return [TestImage(**{f.name: getattr(im, f.name) for f in fields(EvalPair)}, field=register_pair(im))
            for im in images]


def score_image(restored: np.ndarray, image: EvalPair, method: str) -> MethodScore:
    """Every rule of :data:`RULES` on one restoration (all through :mod:`midnet.evaluation`)."""
    values: dict[str, float] = {}
    for rule in RULES:
        values.update(rule(restored, image))
    return MethodScore(method, image.name, values)


def score_method(fn: RestoreFn, images: list[EvalPair], method: str) -> list[MethodScore]:
    """A plain restore function (classical method, identity) on every test image."""
    return [score_image(restore_with(fn, im), im, method) for im in images]


def score_deblurrer(deblurrer: Deblurrer, images: list[EvalPair], method: str) -> list[MethodScore]:
    """A network, through the `Deblurrer` exactly as `midnet deblur` restores the files."""
    return [score_image(restore(deblurrer, im), im, method) for im in images]


def mean_values(scores: list[MethodScore]) -> dict[str, float]:
    """Mean of every metric over images (NaN-free values only, as :func:`mean_score` does)."""
    keys = [k for k in METRICS if any(k in s.values for s in scores)]
    out = {}
    for key in keys:
        finite = [s.values[key] for s in scores if key in s.values and math.isfinite(s.values[key])]
        out[key] = float(np.mean(finite)) if finite else float("nan")
    return out


def mean_scores(scores: list[MethodScore]) -> tuple[float, float]:
    """Mean PSNR (dB) and SSIM over images, as BasicSR averages per-image values."""
    m = mean_score([Score(s.psnr, s.ssim) for s in scores])
    return m.psnr, m.ssim


# -- networks -----------------------------------------------------------------------------------

def network_restorer(model: nn.Module, *, device: str | torch.device = "cpu", tile: int | None = None,
                     tlc: bool | int = False) -> RestoreFn:
    """A grey float-image restore function through `Deblurrer` (for timing).

    Eager fp32, whole images unless ``tile`` is given: the reference (a benchmark restores few
    images per model, so compiling each model would cost more than it saves).
    """
    deblurrer = Deblurrer(model, device=device, tile=tile or 0, tlc=tlc, backend="eager")

    def run(grey: np.ndarray) -> np.ndarray:
        return deblurrer(np.ascontiguousarray(grey, dtype=np.float32), databar=0)

    return run


def timing_image(size: int, seed: int = 0) -> np.ndarray:
    """A reproducible grey float (size, size) texture; speed does not depend on the content."""
    blurry, _ = synthetic_pair((size, size), seed=seed)
    return blurry.astype(np.float32) / 255.0


def seconds_per_megapixel(fn: RestoreFn, *, size: int, repeats: int = 1, warmup: np.ndarray | None = None,
                          sync: Callable[[], None] | None = None) -> float:
    """Median wall time of ``fn`` on a size x size image, per megapixel, after one warm-up call."""
    image = timing_image(size)
    fn(warmup if warmup is not None else image[: min(size, 64), : min(size, 64)])
    times = []
    for _ in range(max(1, repeats)):
        if sync:
            sync()
        start = time.perf_counter()
        fn(image)
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) / (size * size / 1e6)


def network_timings(model: nn.Module, timing: Any, *, tile: int | None) -> dict[str, float | None]:
    """CPU (and GPU when present and asked for) seconds per megapixel of `model`."""
    out: dict[str, float | None] = {"cpu_s_per_mp": None, "gpu_s_per_mp": None}
    size, repeats = int(timing.size), int(timing.repeats)
    if timing.cpu:
        out["cpu_s_per_mp"] = seconds_per_megapixel(network_restorer(model, device="cpu", tile=tile),
                                                    size=size, repeats=repeats)
    want_gpu = timing.gpu
    if (want_gpu == "auto" and torch.cuda.is_available()) or want_gpu is True:
        if not torch.cuda.is_available():
            raise ValueError("timing.gpu is true but no CUDA GPU is available; set timing.gpu=auto")
        fn = network_restorer(model, device="cuda", tile=tile)
        out["gpu_s_per_mp"] = seconds_per_megapixel(fn, size=size, repeats=repeats, warmup=timing_image(size),
                                                    sync=torch.cuda.synchronize)
        model.to("cpu")
    return out


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("eval.device is cuda but no CUDA GPU is available; use --set eval.device=cpu")
    return name


__all__ = ["METRICS", "RULES", "TestImage", "MethodScore", "load_test_images", "score_image", "score_method", "score_deblurrer",
           "mean_scores", "mean_values",
           "network_restorer", "network_timings", "seconds_per_megapixel", "resolve_device"]
