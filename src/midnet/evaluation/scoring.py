"""The one scoring rule, used by training validation, `midnet evaluate`, `benchmark` and `demo`.

Why one module: the same model on the same frame must get the same PSNR/SSIM whichever
command measures it, and that number must be what a user gets by scoring the file
`midnet deblur` wrote (with scikit-image, say). So every path:

1. reads the pair as files (:func:`load_pair`), in their own dtype, with the facts
   `midnet.io.read_image` decides for each page (`midnet.io.pageinfo.PageInfo`): the data bar
   (metadata first, then pixels, unless the caller gives the height) and the value of white;
2. restores through :class:`~midnet.inference.deblurrer.Deblurrer` exactly as `midnet deblur`
   does (:func:`restore`): only the rows above the blurry file's bar go through the model, scaled
   by the blurry file's value of white, the bar is copied, the result is converted back to the
   file's dtype;
3. scores with :func:`score`:

   * 8-bit data (uint8) as the paper's code (BasicSR) does: the restoration, already rounded
     half to even to 8 bit by step 3 (``round(clip(x, 0, 1) * 255)``), against the 8-bit sharp
     image, ``data_range=255``;
   * 16-bit data on its integer scale, ``data_range`` its value of white (65535, or 4095 for a
     12-bit detector: the larger of the two files');
   * float data only with an explicit ``data_range`` (there is no natural one);
   * the data bar rows (the taller of the two files' bars) are left out of PSNR and SSIM;
   * colour planes are all counted, an alpha channel never.

4. for real pairs, also after registration (:func:`score_registered`): the restoration is
   resampled by the displacement field measured between the two captures
   (:func:`register_pair`, :mod:`midnet.data.registration`) and scored on the pixels the field
   maps inside the frame and could register. The as-captured score (step 4) stays beside it.

PSNR/SSIM formulas: :mod:`midnet.metrics.image_quality` (BasicSR's, equal to scikit-image's
PSNR and to its Gaussian SSIM on the valid region).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from midnet.data.registration import DisplacementField, measure_field, warp
from midnet.inference.deblurrer import Deblurrer
from midnet.io import from_float, keep_mask, pair_databar_rows, read_image, to_float
from midnet.metrics import psnr, ssim

__all__ = ["Score", "EvalPair", "load_pair", "restore", "restore_with", "score", "score_pair",
           "register_pair", "score_registered", "DisplacementField", "data_range_for", "mean_score", "DataBar"]

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
    white: int | None = None    # the blurry file's value of white, which `midnet deblur` scales by
    peak: int | None = None     # the larger value of white of the two files: the score's data range

    @property
    def keep(self) -> np.ndarray:
        """Boolean (H, W) mask of the pixels that count (`midnet.io.keep_mask`)."""
        return keep_mask(*self.blurry.shape[:2], self.databar_rows)


def load_pair(blurry_path: str | Path, sharp_path: str | Path, *, databar: DataBar = "auto",
              name: str | None = None) -> EvalPair:
    """Read a pair with the facts of its first pages (see the module docstring)."""
    blurry_path, sharp_path = Path(blurry_path), Path(sharp_path)
    b, s = read_image(blurry_path, databar=databar), read_image(sharp_path, databar=databar)
    x, y = b.pages[0], s.pages[0]
    if x.shape != y.shape:
        raise ValueError(f"{blurry_path}: shape {x.shape} differs from its sharp partner's {y.shape} "
                         f"({sharp_path}); give pairs of the same size")
    restore_rows = b.info[0].databar.rows
    rows = pair_databar_rows(b.info[0], s.info[0])
    if rows >= x.shape[0] - 10:
        raise ValueError(f"{blurry_path}: the data bar ({rows} rows) leaves almost no image to score; "
                         f"give the bar height explicitly (databar rows) or 0")
    whites = [w for w in (b.info[0].white, s.info[0].white) if w]
    return EvalPair(name or blurry_path.stem, x, y, restore_rows, rows, b.info[0].white,
                    max(whites) if whites else None)


def restore(deblurrer: Deblurrer, pair: EvalPair) -> np.ndarray:
    """What `midnet deblur` writes for the blurry file: same dtype, the bar passed through, scaled
    by the file's value of white."""
    return deblurrer(pair.blurry, databar=pair.restore_rows, max_value=pair.white)


def restore_with(fn: Callable[[np.ndarray], np.ndarray], pair: EvalPair) -> np.ndarray:
    """Restore with a plain function on float (H, W) images in [0, 1] (classical methods, the
    identity), under the same rule as :func:`restore`: image area only, each colour plane, scaled
    by the file's value of white and back to its dtype by the same rounding."""
    x = pair.blurry
    h = x.shape[0] - pair.restore_rows
    colour = x[..., None] if x.ndim == 2 else x
    planes = colour.shape[2] - (1 if colour.shape[2] in (2, 4) else 0)
    out = colour.copy()
    for c in range(planes):
        plane = to_float(np.ascontiguousarray(colour[:h, :, c]), pair.white)
        out[:h, :, c] = from_float(np.asarray(fn(plane), dtype=np.float32), x.dtype, pair.white)
    return out[..., 0] if x.ndim == 2 else out


def data_range_for(dtype: np.dtype, data_range: float | None = None, white: int | None = None) -> float:
    """255 for uint8, the value of white (default 65535) for uint16, the explicit ``data_range``
    for float data."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return float(white) if white and white < 65535 else 65535.0
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
          data_range: float | None = None, mask: np.ndarray | None = None, white: int | None = None) -> Score:
    """PSNR (dB) and SSIM of ``restored`` against ``sharp`` under the rule above; ``mask``
    (boolean (H, W)) leaves out more pixels (those a registration could not map); ``white``
    (16-bit data) is the value of white of the data, the data range."""
    restored, sharp = _planes(np.asarray(restored)), _planes(np.asarray(sharp))
    if restored.dtype != sharp.dtype:
        raise ValueError(f"restored ({restored.dtype}) and sharp ({sharp.dtype}) images differ in dtype; "
                         f"compare images of the same bit depth")
    rng = data_range_for(sharp.dtype, data_range, white)
    keep = keep_mask(*sharp.shape[:2], databar_rows)
    if mask is not None:
        keep &= np.asarray(mask, dtype=bool)
    if np.issubdtype(sharp.dtype, np.floating):
        # an explicit range for float data: measured unquantised (scaled so that the metric's
        # integer-range rounding never applies)
        restored, sharp, rng = restored / rng, sharp / rng, 1.0
    return Score(psnr(restored, sharp, data_range=rng, mask=keep), ssim(restored, sharp, data_range=rng, mask=keep))


def score_pair(restored: np.ndarray, pair: EvalPair, *, data_range: float | None = None) -> Score:
    return score(restored, pair.sharp, databar_rows=pair.databar_rows, data_range=data_range, white=pair.peak)


def register_pair(pair: EvalPair) -> DisplacementField:
    """The displacement field that registers the pair's blurry capture onto its sharp one, measured
    on the image area (above the data bar) between the two *captures*, never on a restoration.

    Why: a re-take after refocusing is moved by the stage or beam and its scan is distorted
    differently (on the published pairs the shift varies from -20 to -1 px across one frame);
    the as-captured score then rewards smoothing, which hides the move, over deblurring. See
    :mod:`midnet.data.registration`."""
    rows = pair.blurry.shape[0] - pair.databar_rows
    grey = [_planes(np.asarray(a))[:rows].astype(np.float64) for a in (pair.blurry, pair.sharp)]
    grey = [g.mean(axis=2) if g.ndim == 3 else g for g in grey]
    return measure_field(grey[0], grey[1])


def _warped_to_sharp(image: np.ndarray, field: DisplacementField) -> np.ndarray:
    """``image`` (image area) resampled onto the sharp capture's grid, back in its own dtype by the
    same rounding as a written file (so that a score of it is a score of a file)."""
    image = np.asarray(image)
    warped = warp(image, field)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return np.clip(np.rint(warped), info.min, info.max).astype(image.dtype)
    return warped.astype(image.dtype)


def score_registered(restored: np.ndarray, pair: EvalPair, field: DisplacementField | None = None, *,
                     data_range: float | None = None) -> Score:
    """The score after resampling ``restored`` by the captures' displacement field
    (:func:`register_pair`), over the image-area pixels the field maps inside the frame and that
    lie in tiles it could register: how well the pair's content is restored, whatever the move."""
    field = register_pair(pair) if field is None else field
    rows = pair.blurry.shape[0] - pair.databar_rows
    moved = _warped_to_sharp(_planes(np.asarray(restored))[:rows], field)
    return score(moved, _planes(pair.sharp)[:rows], mask=field.score_mask(), data_range=data_range,
                 white=pair.peak)


def mean_score(scores: list[Score]) -> Score:
    """Mean PSNR and SSIM over images (BasicSR averages per-image values); NaN when none is finite."""
    p = [s.psnr for s in scores if math.isfinite(s.psnr)]
    q = [s.ssim for s in scores if math.isfinite(s.ssim)]
    return Score(float(np.mean(p)) if p else float("nan"), float(np.mean(q)) if q else float("nan"))
