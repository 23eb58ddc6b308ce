"""Stitching the 12 overlapping crops back into full 1280x1024 frames."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from midnet.sample_data import frames as fr


def _cut(frame: np.ndarray) -> list[np.ndarray]:
    crops = []
    for index in range(1, 13):
        x, y = fr.crop_origin(index)
        crops.append(frame[y : y + 512, x : x + 512].copy())
    return crops


def test_crop_grid_matches_the_publication() -> None:
    assert fr.crop_origin(1) == (0, 0)
    assert fr.crop_origin(4) == (768, 0)
    assert fr.crop_origin(5) == (0, 256)
    assert fr.crop_origin(12) == (768, 512)
    assert (fr.FRAME_HEIGHT, fr.FRAME_WIDTH) == (1024, 1280)
    assert fr.crop_name("7-1", 3) == "7-1_s003.png"
    with pytest.raises(ValueError, match="13"):
        fr.crop_origin(13)


def test_stitch_inverts_cropping() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (1024, 1280), dtype=np.uint8)
    crops = _cut(frame)
    np.testing.assert_array_equal(fr.stitch_frame(crops), frame)
    assert fr.max_overlap_difference(crops) == 0


def test_first_covering_crop_wins_and_disagreement_is_measured() -> None:
    frame = np.full((1024, 1280), 100, dtype=np.uint8)
    crops = _cut(frame)
    crops[1][:, :256] = 107  # s002's left half overlaps s001's right half
    stitched = fr.stitch_frame(crops)
    assert stitched[10, 300] == 100  # s001 covers it first
    assert fr.max_overlap_difference(crops) == 7


def test_wrong_crop_count_or_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="12 crops"):
        fr.stitch_frame([np.zeros((512, 512), np.uint8)] * 11)
    small = tmp_path / "1-1_s001.png"
    Image.fromarray(np.zeros((256, 512), np.uint8)).save(small)
    with pytest.raises(ValueError, match="1-1_s001.png"):
        fr.load_crop_luma(small)
    with pytest.raises(FileNotFoundError, match="midnet data download"):
        fr.load_crop_luma(tmp_path / "absent.png")
    with pytest.raises(ValueError, match="uint8"):
        fr.write_png_atomic(np.zeros((4, 4), np.float32), tmp_path / "f.png")


def test_rebuild_matches_the_shared_frames_exactly(sem_data: Path) -> None:
    """Our rule (convert("L"), first covering crop) reproduces every shared frame bit for bit."""
    references = sorted((sem_data / "frames").glob("*/*.png"))
    if not references:
        pytest.skip(f"no frames in {sem_data / 'frames'}")
    for reference in references:
        kind, group = reference.parent.name, reference.stem
        crops = [fr.load_crop_luma(p) for p in fr.crop_paths(sem_data, kind, group)]
        assert fr.max_overlap_difference(crops) == 0, reference
        np.testing.assert_array_equal(
            fr.stitch_frame(crops), fr.read_frame(reference), err_msg=str(reference)
        )


def test_ensure_frame_writes_keeps_and_repairs(sem_data: Path, tmp_path: Path) -> None:
    for crop in fr.crop_paths(sem_data, "sharp", "2-1"):
        if not crop.is_file():
            pytest.skip(f"{crop} missing")
        (tmp_path / "sharp").mkdir(exist_ok=True)
        shutil.copyfile(crop, tmp_path / "sharp" / crop.name)
    assert fr.ensure_frame(tmp_path, "sharp", "2-1") == "written"
    target = fr.frame_path(tmp_path, "sharp", "2-1")
    assert fr.ensure_frame(tmp_path, "sharp", "2-1") == "kept"
    damaged = fr.read_frame(target).copy()
    damaged[0, 0] ^= 1
    Image.fromarray(damaged).save(target)
    assert fr.ensure_frame(tmp_path, "sharp", "2-1") == "replaced"
    np.testing.assert_array_equal(fr.read_frame(target), fr.build_frame(tmp_path, "sharp", "2-1"))
    assert [p.name for p in target.parent.iterdir()] == ["2-1.png"]  # no temp file left
