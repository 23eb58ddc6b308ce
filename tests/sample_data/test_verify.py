"""verify_folder: crops by SHA-256 status, frames compared with a rebuild from their crops."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from midnet.sample_data import frames as fr
from midnet.sample_data.verify import verify_folder

GROUP = "1-1"


@pytest.fixture
def copy(sem_data: Path, tmp_path: Path) -> Path:
    """Source image 1's blurry crops and a frame stitched from them."""
    root = tmp_path / "copy"
    (root / "blur").mkdir(parents=True)
    for crop in sorted((sem_data / "blur").glob(f"{GROUP}_s*.png")):
        shutil.copyfile(crop, root / "blur" / crop.name)
    if len(list((root / "blur").glob("*.png"))) != 12:
        pytest.skip(f"{sem_data} lacks the blurry crops of source image {GROUP}")
    fr.ensure_frame(root, "blur", GROUP)
    return root


def test_good_copy_passes_and_lists_what_is_absent(copy: Path) -> None:
    report = verify_folder(copy, groups=[GROUP])
    assert report.ok and len(report.good) == 12 and len(report.missing) == 12
    assert report.frames == {f"frames/blur/{GROUP}.png": "matches",
                             f"frames/sharp/{GROUP}.png": "missing"}


def test_corrupt_crop_fails_and_its_frame_is_not_judged(copy: Path) -> None:
    victim = copy / "blur" / f"{GROUP}_s002.png"
    victim.write_bytes(victim.read_bytes()[:-1])
    report = verify_folder(copy, groups=[GROUP])
    assert not report.ok and report.corrupt == [f"blur/{GROUP}_s002.png"]
    assert report.frames[f"frames/blur/{GROUP}.png"] == "crops missing"


def test_frame_that_differs_from_its_crops_fails(copy: Path) -> None:
    fr.write_png_atomic(np.zeros((fr.FRAME_HEIGHT, fr.FRAME_WIDTH), np.uint8),
                        fr.frame_path(copy, "blur", GROUP))
    report = verify_folder(copy, groups=[GROUP])
    assert not report.ok and not report.corrupt
    assert report.frames[f"frames/blur/{GROUP}.png"] == "differs"
    assert verify_folder(copy, groups=[GROUP], check_frames=False).ok


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        verify_folder(tmp_path / "nowhere")
