"""Data-bar masks in training: the rows of the pair's pages, masked by the one mask."""

from __future__ import annotations

import numpy as np
import pytest

from midnet.data import PairStore, list_pairs, valid_mask
from midnet.data.synthetic import write_synthetic_pairs


def test_fixed_rows_and_mask() -> None:
    mask = valid_mask(6, 3, 2)
    assert mask.shape == (1, 6, 3) and mask.dtype == np.float32
    assert mask[0, :4].all() and not mask[0, 4:].any()


def test_pair_store_takes_the_setting_and_refuses_a_bad_one(tmp_path) -> None:
    root = write_synthetic_pairs(tmp_path, groups=1, per_group=1, size=(48, 48), databar_rows=6)
    pairs = list_pairs(root / "blur", root / "sharp")
    assert int((PairStore(pairs, databar_rows="auto").load(0)[2] == 0).any(axis=2).sum()) == 6
    assert int((PairStore(pairs, databar_rows=9).load(0)[2] == 0).any(axis=2).sum()) == 9
    with pytest.raises(ValueError, match="use auto, none or a number"):
        PairStore(pairs, databar_rows="bottom").load(0)


def test_midnet_crops_bar_only_in_bottom_row_of_grid(sem_data) -> None:
    pairs = [p for p in list_pairs(sem_data / "blur", sem_data / "sharp", check=False)
             if p.name in ("1-1_s001", "1-1_s008", "1-1_s009", "1-1_s012")]
    store = PairStore(pairs, databar_rows="auto", cache=False)
    rows = {p.name: int((store.load(i)[2] == 0).any(axis=2).sum()) for i, p in enumerate(pairs)}
    assert rows == {"1-1_s001": 0, "1-1_s008": 0, "1-1_s009": 64, "1-1_s012": 64}
