"""Score a model on a folder of pairs: per-image PSNR/SSIM (restored and untouched input).

Why the input is scored too: on real SEM pairs the blurry capture is already close to the
sharp one in PSNR; a restoration only helps if it beats that baseline on the same pixels
(the data bar excluded from both).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from midnet.data import list_pairs, resolve_databar_rows, to_model_channels
from midnet.io.atomic import atomic_write_bytes, atomic_write_text
from midnet.io import read_image

RESULT_FILES = ("results.csv", "results.json")


@dataclass
class ImageScore:
    name: str
    psnr: float
    ssim: float
    input_psnr: float
    input_ssim: float
    databar_rows: int


def _hwc(x: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W) or (H, W, C)."""
    return x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)


def _model_channels(model: nn.Module) -> int:
    cfg = getattr(model, "midnet_config", None) or {}
    if "in_channels" in cfg:
        return int(cfg["in_channels"])
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    return int(first.in_channels)


def restore(model: nn.Module, x: np.ndarray, *, tile: int | None = None) -> np.ndarray:
    """float32 (C, H, W) -> restored float32 (C, H, W), clipped to [0, 1]."""
    from midnet.inference.tiling import tiled_inference

    with torch.inference_mode():
        y = tiled_inference(model, torch.from_numpy(x)[None], tile=tile or None)
    return y[0].clamp(0, 1).numpy()


def panel(*images: np.ndarray, gap: int = 8) -> np.ndarray:
    """Side-by-side uint8 panel of float (C, H, W) images with white gaps (blurry | restored | sharp)."""
    tiles = [np.clip(np.rint(_hwc(im) * 255), 0, 255).astype(np.uint8) for im in images]
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


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def evaluate_folder(model: nn.Module, input_dir: str | Path, target_dir: str | Path, out: str | Path, *,
                    panels: int = 4, databar: int | str = "auto", tlc: int | None = None,
                    tile: int | None = None, overwrite: bool = False, model_label: str = "") -> dict:
    """Score every pair, write results.csv/results.json and `panels` PNG panels into `out`."""
    from midnet.metrics import psnr, ssim

    out = Path(out)
    existing = [out / f for f in RESULT_FILES if (out / f).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]}: results exist; choose another --out or pass --overwrite")
    pairs = list_pairs(input_dir, target_dir, check=True)
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    if tlc:
        from midnet.models import enable_tlc

        enable_tlc(model, train_size=(tlc, tlc))
    channels = _model_channels(model)
    scores: list[ImageScore] = []
    for k, pair in enumerate(pairs):
        x = to_model_channels(read_image(pair.input_path).array, channels)
        y = to_model_channels(read_image(pair.target_path).array, channels)
        rows = resolve_databar_rows(databar, x, y)
        keep = np.ones(x.shape[1:], dtype=bool)
        if rows:
            keep[-rows:] = False
        r = restore(model, x, tile=tile)
        p, t, i = _hwc(r), _hwc(y), _hwc(x)
        scores.append(ImageScore(pair.name, psnr(p, t, data_range=1.0, mask=keep),
                                 ssim(p, t, data_range=1.0, mask=keep),
                                 psnr(i, t, data_range=1.0, mask=keep),
                                 ssim(i, t, data_range=1.0, mask=keep), rows))
        if k < panels:
            _write_png(panel(x, r, y), out / f"{pair.name}_panel.png")
    fields = ["psnr", "ssim", "input_psnr", "input_ssim"]
    means = {f: _mean([getattr(s, f) for s in scores]) for f in fields}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["name", *fields, "databar_rows"])
    for s in scores:
        writer.writerow([s.name, *(f"{getattr(s, f):.4f}" for f in fields), s.databar_rows])
    writer.writerow(["mean", *(f"{means[f]:.4f}" for f in fields), ""])
    atomic_write_text(out / "results.csv", buf.getvalue())
    doc = {"model": model_label, "input_dir": str(input_dir), "target_dir": str(target_dir),
           "count": len(scores), "mean": means, "images": [asdict(s) for s in scores]}
    atomic_write_text(out / "results.json", json.dumps(doc, indent=2, allow_nan=True) + "\n")
    return doc
