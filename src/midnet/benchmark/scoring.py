"""Scoring any restoration method on the test images: 8-bit PSNR/SSIM without the data bar.

Why one scorer for every row of every table: the comparison is only fair if the blurry
input, classical methods, official checkpoints and retrained networks are measured on the
same pixels with the same rule. That rule is the paper's (BasicSR): restore, clip to [0, 1],
round to 8 bit, then PSNR/SSIM over the image area (the microscope's data bar rows, whose
text differs between the captures, are left out).

Images are scored in grey: SEM detectors are monochrome; RGB(A) files are reduced with the
BT.601 luma rule of the training data.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from midnet.data import ImagePair, resolve_databar_rows, to_model_channels
from midnet.io import read_image
from midnet.metrics import psnr, quantize, ssim

#: a grey float (H, W) image in [0, 1] -> its restoration, same shape, values in [0, 1]
RestoreFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class EvalImage:
    """One test pair, decoded once and shared by every method."""

    name: str
    blurry: np.ndarray      # float32 (H, W) in [0, 1]
    sharp_u8: np.ndarray    # uint8 (H, W): the reference for the metrics
    databar_rows: int

    @property
    def keep(self) -> np.ndarray:
        """Boolean (H, W) mask of the pixels that count (all but the data bar rows)."""
        mask = np.ones(self.blurry.shape, dtype=bool)
        if self.databar_rows:
            mask[-self.databar_rows:] = False
        return mask

    @property
    def megapixels(self) -> float:
        return self.blurry.size / 1e6


@dataclass
class Score:
    method: str
    image: str
    psnr: float
    ssim: float


def load_test_images(pairs: list[ImagePair], databar: int | str, *, max_images: int | None = None) -> list[EvalImage]:
    """Decode the test pairs to grey; data bar rows per pair (``"auto"``: detected in either image)."""
    images = []
    for pair in pairs[:max_images] if max_images else pairs:
        x = to_model_channels(read_image(pair.input_path).array, 1)
        y = to_model_channels(read_image(pair.target_path).array, 1)
        rows = resolve_databar_rows(databar, x, y)
        if rows >= x.shape[1]:
            raise ValueError(f"{pair.input_path}: the data bar ({rows} rows) covers the whole image; "
                             f"set data.databar_rows to the bar height or 0")
        images.append(EvalImage(pair.name, x[0], quantize(y[0]), rows))
    if not images:
        raise ValueError("no test images: check data.test_groups against the groups in the data folder")
    return images


def score_image(restored: np.ndarray, image: EvalImage, method: str) -> Score:
    """8-bit PSNR/SSIM of a float restoration against the sharp image, data bar excluded."""
    out = quantize(np.asarray(restored, dtype=np.float32))
    keep = image.keep
    return Score(method, image.name, psnr(out, image.sharp_u8, data_range=255, mask=keep),
                 ssim(out, image.sharp_u8, data_range=255, mask=keep))


def above_bar(fn: RestoreFn, image: EvalImage) -> np.ndarray:
    """Restore the image area only and keep the data bar as captured (as `midnet deblur` does)."""
    rows = image.databar_rows
    if not rows:
        return fn(image.blurry)
    out = image.blurry.copy()
    out[:-rows] = fn(image.blurry[:-rows])
    return out


def score_method(fn: RestoreFn, images: list[EvalImage], method: str) -> list[Score]:
    return [score_image(above_bar(fn, im), im, method) for im in images]


def mean_scores(scores: list[Score]) -> tuple[float, float]:
    """Mean PSNR (dB) and SSIM over images, as BasicSR averages per-image values."""
    p = [s.psnr for s in scores if math.isfinite(s.psnr)]
    q = [s.ssim for s in scores if math.isfinite(s.ssim)]
    return (float(np.mean(p)) if p else float("nan"), float(np.mean(q)) if q else float("nan"))


# -- networks -----------------------------------------------------------------------------------

def network_restorer(model: nn.Module, *, device: str | torch.device = "cpu", tile: int | None = None,
                     tlc: bool | int = False) -> RestoreFn:
    """A grey-image restore function through `Deblurrer` (tiling, channel rule, device)."""
    from midnet.inference.deblurrer import Deblurrer

    # eager fp32 (the reference; a benchmark restores few images per model, so compiling each
    # model would cost more than it saves); tile 0 = whole images, as before
    deblurrer = Deblurrer(model, device=device, tile=tile or 0, tlc=tlc, backend="eager")

    def restore(grey: np.ndarray) -> np.ndarray:
        return deblurrer(np.ascontiguousarray(grey, dtype=np.float32), databar=0)

    return restore


def timing_image(size: int, seed: int = 0) -> np.ndarray:
    """A reproducible grey float (size, size) texture; speed does not depend on the content."""
    from midnet.data.synthetic import synthetic_pair

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


def network_timings(model: nn.Module, timing: dict[str, Any], *, tile: int | None) -> dict[str, float | None]:
    """CPU (and GPU when present and asked for) seconds per megapixel of `model`."""
    out: dict[str, float | None] = {"cpu_s_per_mp": None, "gpu_s_per_mp": None}
    size, repeats = int(timing["size"]), int(timing["repeats"])
    if timing["cpu"]:
        out["cpu_s_per_mp"] = seconds_per_megapixel(network_restorer(model, device="cpu", tile=tile),
                                                    size=size, repeats=repeats)
    want_gpu = timing["gpu"]
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


__all__ = ["EvalImage", "Score", "load_test_images", "score_image", "score_method", "mean_scores",
           "network_restorer", "network_timings", "seconds_per_megapixel", "resolve_device", "above_bar"]
