"""Crops are a pure function of (seed, sample index); processes split each step's batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from midnet.data import PairStore, RandomCropDataset, StepBatchSampler, dihedral, list_pairs
from midnet.data.synthetic import write_synthetic_pairs


def _store(tmp_path: Path) -> PairStore:
    root = write_synthetic_pairs(tmp_path, groups=2, per_group=2, size=(40, 48), databar_rows=6)
    return PairStore(list_pairs(root / "blur", root / "sharp"), databar_rows="auto")


def test_same_index_same_crop_and_indices_differ(tmp_path: Path) -> None:
    store = _store(tmp_path)
    a, b = RandomCropDataset(store, crop_size=16, seed=1), RandomCropDataset(store, crop_size=16, seed=1)
    assert all(torch.equal(a[7][k], b[7][k]) for k in ("input", "target", "mask"))
    assert not torch.equal(a[7]["input"], a[8]["input"])
    assert not torch.equal(a[7]["input"], RandomCropDataset(store, crop_size=16, seed=2)[7]["input"])


def test_mask_travels_with_the_crop(tmp_path: Path) -> None:
    ds = RandomCropDataset(_store(tmp_path), crop_size=32, seed=0)
    masked = [ds[k]["mask"] for k in range(40)]
    # crops that include the bar see it on whichever side the flip/rotation put it
    assert any((m == 0).any() for m in masked)
    assert all(m.shape == (1, 32, 32) for m in masked)


def test_dihedral_group_has_eight_distinct_elements() -> None:
    x = np.arange(9).reshape(1, 3, 3)
    assert len({dihedral(x, t).tobytes() for t in range(8)}) == 8


def test_processes_share_out_each_global_batch() -> None:
    one = list(StepBatchSampler(start_step=2, max_steps=4, global_batch=4))
    two = [list(StepBatchSampler(start_step=2, max_steps=4, global_batch=4, rank=r, world_size=2))
           for r in range(2)]
    for step in range(2):
        assert sorted(two[0][step] + two[1][step]) == one[step]
    assert one[0] == [8, 9, 10, 11]
