"""Training takes every file type `midnet deblur` takes (the one list, `midnet.io.SUFFIXES`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable

from midnet.data import PairStore, list_pairs
from midnet.training import TrainConfig
from midnet.training.run import train


def test_bmp_pairs_train(tmp_path: Path, tiny_config: TrainConfig,
                         write_tiny_pairs: Callable[[Path, str], Path]) -> None:
    """BMP pairs used to be skipped silently (training's own suffix list lacked .bmp)."""
    root = write_tiny_pairs(tmp_path / "bmp", ".bmp")
    pairs = list_pairs(root / "blur", root / "sharp")
    assert len(pairs) == 6 and all(p.input_path.suffix == ".bmp" for p in pairs)
    assert int((PairStore(pairs[:1]).load(0)[2] == 0).any(axis=2).sum()) == 6  # the bar, masked
    cfg = tiny_config.updated(f"data.root={root}", "train.max_steps=2", "train.val_every=2")
    result = train(cfg, tmp_path / "run")
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert ".bmp" in json.dumps(split)
    assert result.exported is not None and result.exported.is_file()
    assert math.isfinite(result.metrics["val/psnr"])
