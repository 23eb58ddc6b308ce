"""Scoring every row of every table under the one rule of :mod:`midnet.evaluation.scoring`.

Why one scorer for every row: the comparison is only fair if the blurry input, classical
methods, official checkpoints and retrained networks are measured on the same pixels with the
same rule, and that rule is the one `midnet evaluate`, `demo` and training validation use: the
test files restored as `midnet deblur` would (the data bar passed through), 8-bit data rounded
and scored as the paper's code does, the data bar rows left out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from midnet.data import ImagePair
from midnet.data.synthetic import synthetic_pair
from midnet.evaluation import EvalPair, Score, load_pair, mean_score, restore, restore_with, score_pair
from midnet.inference.deblurrer import Deblurrer

#: a grey float (H, W) image in [0, 1] -> its restoration, same shape, values in [0, 1]
RestoreFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class MethodScore:
    """One method on one test image (a row of per_image.csv)."""

    method: str
    image: str
    psnr: float
    ssim: float


def load_test_images(pairs: list[ImagePair], databar: int | str, *, max_images: int | None = None) -> list[EvalPair]:
    """Read the test pairs as files with their data bars (``"auto"``: the io detector)."""
    images = [load_pair(p.input_path, p.target_path, databar=databar, name=p.name)
              for p in (pairs[:max_images] if max_images else pairs)]
    if not images:
        raise ValueError("no test images: check data.test_groups against the groups in the data folder")
    return images


def score_method(fn: RestoreFn, images: list[EvalPair], method: str) -> list[MethodScore]:
    """A plain restore function (classical method, identity) on every test image."""
    return [_row(method, im, score_pair(restore_with(fn, im), im)) for im in images]


def score_deblurrer(deblurrer: Deblurrer, images: list[EvalPair], method: str) -> list[MethodScore]:
    """A network, through the `Deblurrer` exactly as `midnet deblur` restores the files."""
    return [_row(method, im, score_pair(restore(deblurrer, im), im)) for im in images]


def _row(method: str, image: EvalPair, s: Score) -> MethodScore:
    return MethodScore(method, image.name, s.psnr, s.ssim)


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


__all__ = ["MethodScore", "load_test_images", "score_method", "score_deblurrer", "mean_scores",
           "network_restorer", "network_timings", "seconds_per_megapixel", "resolve_device"]
