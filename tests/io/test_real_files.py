"""Real vendor files go through restoration with their data bar byte-identical and every tag kept:
the published JEOL frames and every TIFF with a bar in the sharp corpus (issue 11, acceptance).

A one-layer convolution stands in for the network here: what is under test is the file path
(`Deblurrer.deblur_file`, which `midnet deblur` calls), and a full model would take minutes on
these frames on CI's two cores; one file goes through the `midnet deblur` command as well.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CORPUS = SHARED / "sem-sharp-corpus"


def _corpus_tiffs_with_bars() -> list[tuple[str, int]]:
    inventory = CORPUS / "inventory.tsv"
    if not inventory.is_file():
        return []
    with open(inventory, newline="") as handle:
        return [(row["relative_path"], int(row["databar_rows"]))
                for row in csv.DictReader(handle, delimiter="\t")
                if int(row["databar_rows"]) and row["relative_path"].lower().endswith((".tif", ".tiff"))]


def _tags(path: Path) -> dict[int, object]:
    out: dict[int, object] = {}
    with tifffile.TiffFile(path) as tif:
        for tag in tif.pages[0].tags:
            if tag.code in (273, 278, 279):
                continue
            if tag.code in (256, 257, 320, 34665):
                out[tag.code] = str(tag.value)
            else:
                tif.filehandle.seek(tag.valueoffset)
                out[tag.code] = tif.filehandle.read(tag.valuebytecount)
    return out


@pytest.fixture(scope="module")
def smooth():
    import torch

    from midnet import Deblurrer

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 1, 5, padding=2)
    with torch.no_grad():  # a blur-like filter: changes every textured pixel
        conv.weight.copy_(torch.full_like(conv.weight, 1 / 25) + 0.01 * torch.randn_like(conv.weight))
        conv.bias.zero_()
    return Deblurrer(conv, device="cpu", tile=None)


CASES = _corpus_tiffs_with_bars()


@pytest.mark.skipif(not CASES, reason="the sharp corpus is not in ../shared/data")
@pytest.mark.parametrize("name,rows", CASES, ids=[c[0].split("/")[-1] for c in CASES])
def test_corpus_tiff_keeps_bar_and_tags(tmp_path: Path, smooth, name: str, rows: int) -> None:
    src, dst = CORPUS / name, tmp_path / Path(name).name
    smooth.deblur_file(src, dst)
    before, after = tifffile.imread(src), tifffile.imread(dst)
    assert after.shape == before.shape and after.dtype == before.dtype
    np.testing.assert_array_equal(after[-rows:], before[-rows:])
    assert np.mean(after[:-rows] != before[:-rows]) > 0.3
    old, new = _tags(src), _tags(dst)
    assert set(new) == set(old) | {305}
    assert all(new[code] == old[code] for code in old)


def test_published_frames_keep_their_bar(tmp_path: Path, smooth, sem_data: Path) -> None:
    from midnet.io import read_image

    frames = sorted((sem_data / "frames").glob("*/*.png"))
    if not frames:
        pytest.skip("no full frames in the data folder")
    for path in frames:
        dst = tmp_path / path.parent.name / path.name
        smooth.deblur_file(path, dst)
        before, after = read_image(path).array, read_image(dst).array
        np.testing.assert_array_equal(after[960:], before[960:])
        assert np.mean(after[:960] != before[:960]) > 0.3


def test_real_file_through_the_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from midnet.cli.main import cli

    name, rows = "rgebhart-nanoBALLS/R5 K4Me3 SiO2_3-1.TIF", 61
    src = CORPUS / name
    if not src.is_file():
        pytest.skip("the sharp corpus is not in ../shared/data")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["deblur", str(src), "-o", str(out), "--model", "sem-general",
                                      "--device", "cpu", "--tile", "256"])
    assert result.exit_code == 0, result.output
    before, after = tifffile.imread(src), tifffile.imread(out / os.path.basename(name))
    np.testing.assert_array_equal(after[-rows:], before[-rows:])  # the inset box and below it
    assert not np.array_equal(after[:-rows], before[:-rows])
