"""`midnet evaluate`: score a model on a folder of pairs (per-image PSNR/SSIM of the restored and
of the untouched input), write results.csv/results.json and side-by-side panels.

Why the input is scored too: on real SEM pairs the blurry capture is already close to the
sharp one in PSNR; a restoration only helps if it beats that baseline on the same pixels.
Both are scored by :mod:`midnet.evaluation.scoring`, the rule every command shares.

With ``registered=True`` (the default) each pair is also scored after resampling the
restoration (and the input) by the displacement field measured between the two captures
(`register_pair`): a re-take after refocusing is moved by the stage or beam and its scan is
distorted, and the as-captured score then rewards smoothing over deblurring. The registered
score is the headline; the as-captured one stays beside it, with the registration's statistics
(median shift, spread, tiles left out) in results.csv/results.json.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from midnet.data import list_pairs
from midnet.evaluation.scoring import (DataBar, Score, load_pair, mean_score, register_pair, restore, score_pair,
                                       score_registered)
from midnet.inference.deblurrer import Deblurrer
from midnet.io import to_float
from midnet.io.atomic import atomic_write_bytes, atomic_write_text

RESULT_FILES = ("results.csv", "results.json")
#: the registration's statistics per image (`DisplacementField.stats`)
STAT_FIELDS = ("median_shift_y", "median_shift_x", "spread_y", "spread_x", "tiles", "tiles_left_out")


@dataclass
class ImageScore:
    name: str
    psnr: float
    ssim: float
    input_psnr: float
    input_ssim: float
    databar_rows: int
    #: with ``registered``: registered_psnr/ssim, input_registered_psnr/ssim and the field's
    #: statistics (median_shift_y/x, spread_y/x, tiles, tiles_left_out)
    registered: dict[str, float] = field(default_factory=dict)


def _grey_u8(array: np.ndarray) -> np.ndarray:
    """A native image as uint8 (H, W) or (H, W, 3) for a panel (alpha dropped)."""
    x = to_float(array)
    if x.ndim == 3 and x.shape[2] in (2, 4):
        x = x[..., :-1]
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if np.issubdtype(array.dtype, np.floating):
        lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
        x = (x - lo) / ((hi - lo) or 1.0)
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def panel(*images: np.ndarray, gap: int = 8) -> np.ndarray:
    """Side-by-side uint8 panel of native images with white gaps (blurry | restored | sharp)."""
    tiles = [_grey_u8(im) for im in images]
    h = tiles[0].shape[0]
    sep = np.full((h, gap) + tiles[0].shape[2:], 255, dtype=np.uint8)
    parts: list[np.ndarray] = []
    for i, t in enumerate(tiles):
        parts += ([sep] if i else []) + [t]
    return np.concatenate(parts, axis=1)


def _write_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def evaluate_folder(deblurrer: Deblurrer, input_dir: str | Path, target_dir: str | Path, out: str | Path, *,
                    panels: int = 4, databar: DataBar = "auto", data_range: float | None = None,
                    overwrite: bool = False, model_label: str = "", registered: bool = True) -> dict:
    """Score every pair, write results.csv/results.json and `panels` PNG panels into `out`.

    ``registered``: also score each pair after registering its captures (module docstring)."""
    out = Path(out)
    existing = [out / f for f in RESULT_FILES if (out / f).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]}: results exist; choose another --out or pass --overwrite")
    pairs = list_pairs(input_dir, target_dir, check=True)
    out.mkdir(parents=True, exist_ok=True)
    scores: list[ImageScore] = []
    for k, item in enumerate(pairs):
        pair = load_pair(item.input_path, item.target_path, databar=databar, name=item.name)
        restored = restore(deblurrer, pair)
        r = score_pair(restored, pair, data_range=data_range)
        i = score_pair(pair.blurry, pair, data_range=data_range)
        extra: dict[str, float] = {}
        if registered:
            field = register_pair(pair)
            rr = score_registered(restored, pair, field, data_range=data_range)
            ri = score_registered(pair.blurry, pair, field, data_range=data_range)
            extra = {"registered_psnr": rr.psnr, "registered_ssim": rr.ssim, "input_registered_psnr": ri.psnr,
                     "input_registered_ssim": ri.ssim, **field.stats()}
        scores.append(ImageScore(pair.name, r.psnr, r.ssim, i.psnr, i.ssim, pair.databar_rows, extra))
        if k < panels:
            _write_png(panel(pair.blurry, restored, pair.sharp), out / f"{pair.name}_panel.png")
    restored_mean = mean_score([Score(s.psnr, s.ssim) for s in scores])
    input_mean = mean_score([Score(s.input_psnr, s.input_ssim) for s in scores])
    means = {"psnr": restored_mean.psnr, "ssim": restored_mean.ssim,
             "input_psnr": input_mean.psnr, "input_ssim": input_mean.ssim}
    rows = [{"psnr": s.psnr, "ssim": s.ssim, "input_psnr": s.input_psnr, "input_ssim": s.input_ssim,
             **s.registered} for s in scores]
    if registered and scores:
        for key in ("registered", "input_registered"):
            m = mean_score([Score(r[f"{key}_psnr"], r[f"{key}_ssim"]) for r in rows])
            means[f"{key}_psnr"], means[f"{key}_ssim"] = m.psnr, m.ssim
    fields = list(means)
    buf = io.StringIO()
    writer = csv.writer(buf)
    extra_fields = list(STAT_FIELDS) if registered else []
    writer.writerow(["name", *fields, *extra_fields, "databar_rows"])
    for s, r in zip(scores, rows):
        writer.writerow([s.name, *(f"{r[f]:.4f}" for f in fields), *(f"{r[f]:.2f}" if isinstance(r[f], float) else r[f] for f in extra_fields),
                         s.databar_rows])
    writer.writerow(["mean", *(f"{means[f]:.4f}" for f in fields), *([""] * len(extra_fields)), ""])
    atomic_write_text(out / "results.csv", buf.getvalue())
    doc = {"model": model_label, "input_dir": str(input_dir), "target_dir": str(target_dir),
           "count": len(scores), "mean": means, "images": [asdict(s) for s in scores]}
    atomic_write_text(out / "results.json", json.dumps(doc, indent=2, allow_nan=True) + "\n")
    return doc
