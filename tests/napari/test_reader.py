"""The reader opens vendor TIFFs with the right physical scale and keeps their metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "sem-sharp-corpus"

FEI_INI = """[User]
Date=01/02/2024
[Scan]
PixelWidth=2.5e-009
PixelHeight=2.5e-009
[Image]
ResolutionX=320
ResolutionY=200
"""


def _fei_tiff(path: Path) -> np.ndarray:
    """A 320x240 FEI/Thermo-style TIFF: 200 image rows, a 40-row data bar, the INI in tag 34682."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (240, 320), dtype=np.uint8)
    tifffile.imwrite(path, image, extratags=[(34682, "s", 0, FEI_INI, True)])
    return image


def test_reader_sets_scale_from_fei_pixel_size_and_keeps_metadata(tmp_path, viewer):
    path = tmp_path / "fei.tif"
    image = _fei_tiff(path)
    (layer,) = viewer.open(str(path), plugin="midnet")
    np.testing.assert_array_equal(layer.data, image)
    assert tuple(layer.scale) == pytest.approx((2.5, 2.5))  # nm
    assert [str(u) for u in layer.units] == ["nanometer", "nanometer"]
    (page,) = layer.metadata["midnet_pages"]  # the page's facts, as read_image decided them
    assert page.pixel_size.source.startswith("FEI/Thermo") and page.vendor.name == "FEI/Thermo"
    assert (page.databar.rows, page.databar.source) == (40, "metadata")
    vendor = layer.metadata["midnet_image_metadata"]["vendor"][34682]
    assert b"PixelWidth=2.5e-009" in vendor


def test_reader_declines_what_it_cannot_read(tmp_path):
    from midnet.napari.reader import get_reader

    (tmp_path / "notes.txt").write_text("x")
    assert get_reader(str(tmp_path / "notes.txt")) is None
    assert get_reader(str(tmp_path / "missing.tif")) is None
    assert get_reader([str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]) is None


def test_real_fei_file_scale_matches_its_field_of_view():
    """A Thermo file named FOV100um: 1536 px across 100 um is 65.10 nm per pixel."""
    from midnet.napari.reader import layer_data

    path = CORPUS / "vyastreb-sem2surface/Vickers_imprint/Indent_20230912_7kV_spot4.5_FOV100um_multiBSE_A_05.tif"
    if not path.is_file():
        pytest.skip(f"SEM corpus not found at {CORPUS}")
    data, kwargs, kind = layer_data(path)
    assert kind == "image" and data.shape == (1103, 1536)
    assert kwargs["scale"] == pytest.approx((100_000 / 1536,) * 2, rel=1e-4)
