"""The one scoring rule, used by training validation, `midnet evaluate`, `benchmark` and `demo`.

Why one module: the same model on the same frame must get the same PSNR/SSIM whichever
command measures it, and that number must be what a user gets by scoring the file
`midnet deblur` wrote (with scikit-image, say). So every path:

1. reads the pair as files (:func:`load_pair`), in their own dtype;
2. finds the data bar with the single detector, :func:`midnet.io.databar.detect_databar`
   (metadata first, then pixels), unless the caller gives the height explicitly;
3. restores through :class:`~midnet.inference.deblurrer.Deblurrer` exactly as `midnet deblur`
   does (:func:`restore`): only the rows above the blurry file's bar go through the model, the
   bar is copied, the result is converted back to the file's dtype;
4. scores with :func:`score`:

   * 8-bit data (uint8) as the paper's code (BasicSR) does: the restoration, already rounded
     half to even to 8 bit by step 3 (``round(clip(x, 0, 1) * 255)``), against the 8-bit sharp
     image, ``data_range=255``;
   * 16-bit data on its integer scale, ``data_range=65535``;
   * float data only with an explicit ``data_range`` (there is no natural one);
   * the data bar rows (the taller of the two files' bars) are left out of PSNR and SSIM;
   * colour planes are all counted, an alpha channel never.

PSNR/SSIM formulas: :mod:`midnet.metrics.image_quality` (BasicSR's, equal to scikit-image's
PSNR and to its Gaussian SSIM on the valid region).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from midnet.data.registration import align_to_reference, measure_shift
from midnet.inference.deblurrer import Deblurrer
from midnet.io import from_float, read_image, to_float
from midnet.io.databar import detect_databar
from midnet.metrics import psnr, ssim

__all__ = ["Score", "EvalPair", "load_pair", "restore", "restore_with", "score", "score_pair",
           "capture_shift", "score_registered", "data_range_for", "mean_score", "DataBar"]

#: "auto" (the io detector) or an explicit number of bottom rows
DataBar = int | str


@dataclass(frozen=True)
class Score:
    psnr: float
    ssim: float


@dataclass
class EvalPair:
    """One blurry/sharp pair as read from disk (first page), with its data bar heights."""

    name: str
    blurry: np.ndarray          # native dtype, (H, W) or (H, W, C)
    sharp: np.ndarray
    restore_rows: int           # rows `midnet deblur` passes through (the blurry file's bar)
    databar_rows: int           # rows left out of the score (the taller bar of the two files)

    @property
    def keep(self) -> np.ndarray:
        """Boolean (H, W) mask of the pixels that count."""
        mask = np.ones(self.blurry.shape[:2], dtype=bool)
        if self.databar_rows:
            mask[-self.databar_rows:] = False
        return mask


def _rows(setting: DataBar, image, path: Path) -> int:
    if isinstance(setting, str):
        if setting.lower() != "auto":
            raise ValueError(f"data bar: give 'auto' or a number of rows, got {setting!r}")
        return detect_databar(image)
    rows = int(setting)
    if rows < 0:
        raise ValueError(f"{path}: data bar rows must be >= 0, got {rows}")
    return rows


def load_pair(blurry_path: str | Path, sharp_path: str | Path, *, databar: DataBar = "auto",
              name: str | None = None) -> EvalPair:
    """Read a pair and find its data bars (see the module docstring)."""
    blurry_path, sharp_path = Path(blurry_path), Path(sharp_path)
    b, s = read_image(blurry_path), read_image(sharp_path)
    x, y = b.pages[0], s.pages[0]
    if x.shape != y.shape:
        raise ValueError(f"{blurry_path}: shape {x.shape} differs from its sharp partner's {y.shape} "
                         f"({sharp_path}); give pairs of the same size")
    restore_rows = _rows(databar, b, blurry_path)
    rows = max(restore_rows, _rows(databar, s, sharp_path))
    if rows >= x.shape[0] - 10:
        raise ValueError(f"{blurry_path}: the data bar ({rows} rows) leaves almost no image to score; "
                         f"give the bar height explicitly (databar rows) or 0")
    return EvalPair(name or blurry_path.stem, x, y, restore_rows, rows)


def restore(deblurrer: Deblurrer, pair: EvalPair) -> np.ndarray:
    """What `midnet deblur` writes for the blurry file: same dtype, the bar passed through."""
    return deblurrer(pair.blurry, databar=pair.restore_rows)


def restore_with(fn: Callable[[np.ndarray], np.ndarray], pair: EvalPair) -> np.ndarray:
    """Restore with a plain function on float (H, W) images in [0, 1] (classical methods, the
    identity), under the same rule as :func:`restore`: image area only, each colour plane, back
    to the file's dtype by the same rounding."""
    x = pair.blurry
    h = x.shape[0] - pair.restore_rows
    colour = x[..., None] if x.ndim == 2 else x
    planes = colour.shape[2] - (1 if colour.shape[2] in (2, 4) else 0)
    out = colour.copy()
    for c in range(planes):
        plane = to_float(np.ascontiguousarray(colour[:h, :, c]))
        out[:h, :, c] = from_float(np.asarray(fn(plane), dtype=np.float32), x.dtype)
    return out[..., 0] if x.ndim == 2 else out


def data_range_for(dtype: np.dtype, data_range: float | None = None) -> float:
    """255 for uint8, 65535 for uint16, the explicit ``data_range`` for float data."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    if data_range is None:
        raise ValueError(f"{dtype} images have no natural value range; pass data_range "
                         f"(--data-range), e.g. 1.0 for images in [0, 1]")
    return float(data_range)


def _planes(array: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) without alpha."""
    if array.ndim == 3 and array.shape[2] in (2, 4):
        array = array[..., :-1]
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return array


def score(restored: np.ndarray, sharp: np.ndarray, *, databar_rows: int = 0,
          data_range: float | None = None) -> Score:
    """PSNR (dB) and SSIM of ``restored`` against ``sharp`` under the rule above."""
    restored, sharp = _planes(np.asarray(restored)), _planes(np.asarray(sharp))
    if restored.dtype != sharp.dtype:
        raise ValueError(f"restored ({restored.dtype}) and sharp ({sharp.dtype}) images differ in dtype; "
                         f"compare images of the same bit depth")
    rng = data_range_for(sharp.dtype, data_range)
    keep = np.ones(sharp.shape[:2], dtype=bool)
    if databar_rows:
        keep[-databar_rows:] = False
    if np.issubdtype(sharp.dtype, np.floating):
        # an explicit range for float data: measured unquantised (scaled so that the metric's
        # integer-range rounding never applies)
        restored, sharp, rng = restored / rng, sharp / rng, 1.0
    return Score(psnr(restored, sharp, data_range=rng, mask=keep), ssim(restored, sharp, data_range=rng, mask=keep))


def score_pair(restored: np.ndarray, pair: EvalPair, *, data_range: float | None = None) -> Score:
    return score(restored, pair.sharp, databar_rows=pair.databar_rows, data_range=data_range)


def capture_shift(pair: EvalPair) -> tuple[float, float]:
    """(dy, dx) that moves the blurry capture onto the sharp one, measured on the image area.

    Why: a re-take after refocusing is often moved by the stage or beam (the published pairs by
    10-15 px, docs/results/defocus-calibration); the plain score then rewards smoothing, which
    hides the move, over deblurring. The shift is measured between the two captures, never on a
    restoration."""
    rows = pair.blurry.shape[0] - pair.databar_rows
    grey = [_planes(np.asarray(a))[:rows].astype(np.float64) for a in (pair.blurry, pair.sharp)]
    grey = [g.mean(axis=2) if g.ndim == 3 else g for g in grey]
    return measure_shift(grey[0], grey[1])


def score_registered(restored: np.ndarray, pair: EvalPair, shift: tuple[float, float] | None = None, *,
                     data_range: float | None = None) -> Score:
    """The same score after moving ``restored`` by the captures' shift (``capture_shift``), on the
    overlap of the image areas: how well the pair's content is restored, whatever the move."""
    shift = capture_shift(pair) if shift is None else shift
    rows = pair.blurry.shape[0] - pair.databar_rows
    moved, ref = align_to_reference(np.moveaxis(np.asarray(restored)[:rows], -1, 0) if restored.ndim == 3
                                    else np.asarray(restored)[:rows],
                                    np.moveaxis(pair.sharp[:rows], -1, 0) if pair.sharp.ndim == 3 else pair.sharp[:rows],
                                    shift=shift)
    if restored.ndim == 3:
        moved, ref = np.moveaxis(moved, 0, -1), np.moveaxis(ref, 0, -1)
    return score(moved, ref, data_range=data_range)


def mean_score(scores: list[Score]) -> Score:
    """Mean PSNR and SSIM over images (BasicSR averages per-image values); NaN when none is finite."""
    p = [s.psnr for s in scores if math.isfinite(s.psnr)]
    q = [s.ssim for s in scores if math.isfinite(s.ssim)]
    return Score(float(np.mean(p)) if p else float("nan"), float(np.mean(q)) if q else float("nan"))
