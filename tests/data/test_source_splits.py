"""Splits by source image: crops of one frame never straddle train and validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from midnet.data import group_key, list_pairs, split_pairs, write_split_json
from midnet.data.synthetic import write_synthetic_pairs


def test_default_group_key() -> None:
    assert group_key("1-1_s009") == "1-1"
    assert group_key("frame7") == "frame7"          # no match: the whole stem is its own group
    assert group_key("A_x_12", r"^(.*?)_x_\d+") == "A"


def test_split_keeps_groups_together_and_is_written(tmp_path: Path) -> None:
    root = write_synthetic_pairs(tmp_path / "d", groups=3, per_group=3, size=(16, 16))
    pairs = list_pairs(root / "blur", root / "sharp")
    split = split_pairs(pairs, val_groups=["2-1"], test_groups=["3-1"])
    assert {group_key(p.name) for p in split["train"]} == {"1-1"}
    assert [p.name for p in split["val"]] == ["2-1_s001", "2-1_s002", "2-1_s003"]
    write_split_json(split, tmp_path / "split.json", r"^(.*?)_s\d+")
    doc = json.loads((tmp_path / "split.json").read_text())
    assert doc["val"]["groups"] == ["2-1"] and doc["test"]["groups"] == ["3-1"]


def test_unknown_group_is_an_error(tmp_path: Path) -> None:
    root = write_synthetic_pairs(tmp_path, groups=2, per_group=1, size=(16, 16))
    with pytest.raises(ValueError, match="9-1"):
        split_pairs(list_pairs(root / "blur", root / "sharp"), val_groups=["9-1"])
