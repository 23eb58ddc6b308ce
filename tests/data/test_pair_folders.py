"""Pair discovery and the all-at-once check of bad pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from midnet.data import PairValidationError, find_pair_folders, list_pairs
from midnet.data.synthetic import write_synthetic_pairs


@pytest.mark.parametrize("folders", [("blur", "sharp"), ("input", "target"), ("lq", "gt")])
def test_accepts_all_folder_conventions(tmp_path: Path, folders: tuple[str, str]) -> None:
    write_synthetic_pairs(tmp_path, groups=1, per_group=2, size=(16, 16), folders=folders)
    inp, tgt = find_pair_folders(tmp_path)
    assert (inp.name, tgt.name) == folders
    assert [p.name for p in list_pairs(inp, tgt)] == ["1-1_s001", "1-1_s002"]


def test_pairs_match_by_stem_across_formats(tmp_path: Path) -> None:
    (tmp_path / "blur").mkdir()
    (tmp_path / "sharp").mkdir()
    tifffile.imwrite(tmp_path / "blur" / "a.tif", np.zeros((8, 8), np.uint16))
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "sharp" / "a.png")
    (pair,) = list_pairs(tmp_path / "blur", tmp_path / "sharp")
    assert pair.input_path.suffix == ".tif" and pair.target_path.suffix == ".png"


def test_every_bad_pair_is_listed_in_one_error(tmp_path: Path) -> None:
    write_synthetic_pairs(tmp_path, groups=1, per_group=2, size=(16, 16))
    blur, sharp = tmp_path / "blur", tmp_path / "sharp"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(blur / "only_blur.png")       # no partner
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(sharp / "only_sharp.png")     # no partner
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(blur / "size.png")
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(sharp / "size.png")           # size mismatch
    (blur / "1-1_s002.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")               # corrupt
    with pytest.raises(PairValidationError) as info:
        list_pairs(blur, sharp)
    message = str(info.value)
    assert len(info.value.problems) == 4
    for needle in ("only_blur.png", "only_sharp.png", "size mismatch", "1-1_s002.png: unreadable"):
        assert needle in message


def test_missing_folders_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="blur/"):
        find_pair_folders(tmp_path)


def test_two_files_with_one_name_are_ambiguous(tmp_path: Path) -> None:
    write_synthetic_pairs(tmp_path, groups=1, per_group=1, size=(8, 8))
    tifffile.imwrite(tmp_path / "blur" / "1-1_s001.tif", np.zeros((8, 8), np.uint8))
    with pytest.raises(PairValidationError, match="1-1_s001.tif: same name as 1-1_s001.png"):
        list_pairs(tmp_path / "blur", tmp_path / "sharp")
