"""A real (tiny) training run on synthetic defocus of a sharp corpus mixed with real pairs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from midnet.training.run import train


def _corpus(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for src in ("train-a", "train-b", "held-out"):
        (root / src).mkdir(parents=True)
        for i in range(2):
            x = ndimage.gaussian_filter(rng.random((96, 96)), 1.0)
            x = ((x > np.median(x)) * 150 + 50 + rng.normal(0, 2, x.shape)).clip(0, 255).astype(np.uint8)
            Image.fromarray(x).save(root / src / f"{i}.png")
    return root


def test_synthetic_run_validates_per_group_and_exports_last(tmp_path: Path, tiny_config: dict) -> None:
    cfg = tiny_config.updated(f"synthetic.corpus={_corpus(tmp_path / 'corpus')}", "synthetic.val_sources=[held-out]",
                              "synthetic.real_fraction=0.3", "synthetic.val_crop=48", "train.max_steps=6",
                              "train.val_every=6", "train.export=last")
    result = train(cfg, tmp_path / "run")
    assert result.exported is not None and result.exported.is_file()
    rows = list(csv.DictReader((tmp_path / "run" / "logs" / "csv" / "version_0" / "metrics.csv").open()))
    logged = {k for row in rows for k, v in row.items() if v}
    assert {"val/psnr_real", "val/psnr_synthetic", "val/psnr_input_synthetic"} <= logged
    split = json.loads((tmp_path / "run" / "corpus_split.json").read_text())
    assert split["train"]["sources"] == ["train-a", "train-b"] and split["val"]["sources"] == ["held-out"]
