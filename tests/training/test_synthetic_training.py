"""A real (tiny) training run on synthetic defocus of a sharp corpus mixed with real pairs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from midnet.training.run import train


def test_synthetic_run_validates_per_group_and_exports_last(tmp_path: Path, tiny_config: dict, write_toy_corpus) -> None:
    cfg = tiny_config.updated(f"synthetic.corpus={write_toy_corpus(tmp_path / 'corpus', 1.0)}", "synthetic.val_sources=[held-out]",
                              "synthetic.real_fraction=0.3", "synthetic.val_crop=48", "train.max_steps=6",
                              "train.val_every=6", "train.export=last")
    result = train(cfg, tmp_path / "run")
    assert result.exported is not None and result.exported.is_file()
    rows = list(csv.DictReader((tmp_path / "run" / "logs" / "csv" / "version_0" / "metrics.csv").open()))
    logged = {k for row in rows for k, v in row.items() if v}
    assert {"val/psnr_real", "val/psnr_synthetic", "val/psnr_input_synthetic"} <= logged
    split = json.loads((tmp_path / "run" / "corpus_split.json").read_text())
    assert split["train"]["sources"] == ["train-a", "train-b"] and split["val"]["sources"] == ["held-out"]
