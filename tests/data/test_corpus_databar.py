"""The sharp corpus's bars: the inventory's rows where it lists a file, else the one detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from midnet.data.corpus import load_corpus


def _frame(height: int, width: int, bar: int, seed: int) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    img = gaussian_filter(rng.random((height, width)), 2.5)
    img = np.rint(40 + 170 * (img - img.min()) / np.ptp(img)).astype(np.uint8)
    img[height - bar:] = 0
    for x in range(4, width - 8, 12):
        img[height - bar + 4:height - bar + 9, x:x + 5] = 255
    return img


def test_files_without_inventory_rows_get_the_detected_bar(tmp_path: Path) -> None:
    (tmp_path / "labA").mkdir()
    Image.fromarray(_frame(120, 96, 20, 0)).save(tmp_path / "labA" / "listed.png")
    Image.fromarray(_frame(120, 96, 20, 1)).save(tmp_path / "labA" / "unlisted.png")
    (tmp_path / "inventory.tsv").write_text("relative_path\tdatabar_rows\nlabA/listed.png\t30\n")
    images = {im.name: im.image for im in load_corpus(tmp_path)}
    assert images["labA/listed.png"].shape == (90, 96)  # the inventory's word
    assert images["labA/unlisted.png"].shape == (100, 96)  # the detector's
