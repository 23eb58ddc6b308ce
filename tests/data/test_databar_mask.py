"""Data-bar detection and masks."""

from __future__ import annotations

import pytest

from midnet.data import PairStore, detect_databar_rows, list_pairs, resolve_databar_rows, valid_mask
from midnet.data.synthetic import synthetic_pair


def test_detects_synthetic_bar_and_no_false_bar() -> None:
    blurry, sharp = synthetic_pair((64, 48), seed=3, databar_rows=10)
    assert detect_databar_rows(sharp / 255.0) == 10
    assert resolve_databar_rows("auto", blurry / 255.0, sharp / 255.0) == 10
    clean, _ = synthetic_pair((64, 48), seed=3)
    assert detect_databar_rows(clean / 255.0) == 0


def test_fixed_rows_and_mask() -> None:
    assert resolve_databar_rows(5) == 5
    with pytest.raises(ValueError, match="auto"):
        resolve_databar_rows("bottom")
    mask = valid_mask(6, 3, 2)
    assert mask.shape == (1, 6, 3) and mask[0, :4].all() and not mask[0, 4:].any()


def test_midnet_crops_bar_only_in_bottom_row_of_grid(sem_data) -> None:
    pairs = [p for p in list_pairs(sem_data / "blur", sem_data / "sharp", check=False)
             if p.name in ("1-1_s001", "1-1_s008", "1-1_s009", "1-1_s012")]
    store = PairStore(pairs, databar_rows="auto", cache=False)
    rows = {p.name: int((store.load(i)[2] == 0).any(axis=2).sum()) for i, p in enumerate(pairs)}
    assert rows == {"1-1_s001": 0, "1-1_s008": 0, "1-1_s009": 64, "1-1_s012": 64}
