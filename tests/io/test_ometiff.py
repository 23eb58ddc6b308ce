"""Large TIFFs (`midnet.io.ometiff`): pyramidal OME-TIFF written tile by tile and read lazily."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

pytest.importorskip("zarr")
pytest.importorskip("dask")

from ngff_inputs import grains, level_shapes  # noqa: E402

from midnet.io import omezarr, ometiff  # noqa: E402


def _pyramid(data: np.ndarray, levels: int) -> list[np.ndarray]:
    out = [data]
    for shape in level_shapes(data.shape, levels)[1:]:
        out.append(omezarr.downsample(out[-1], (1,) * (data.ndim - 2) + (2, 2), shape))
    return out


def test_pyramidal_ome_tiff_round_trip(tmp_path: Path) -> None:
    import dask.array as da

    data = grains((2, 300, 260))
    levels = _pyramid(data, 3)
    meta = ometiff.ome_metadata("cyx", [1.0, 0.005, 0.005], [None, "micrometer", "micrometer"],
                                ["SE", "BSE"])
    path = ometiff.write_ome_tiff(tmp_path / "p.ome.tif", levels, "cyx", metadata=meta, tile=128,
                                  software="test")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.ome.tif"]  # no temporary left
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
        series = tif.series[0]
        assert series.axes == "CYX" and len(series.levels) == 3
        assert [lvl.shape for lvl in series.levels] == [lvl.shape for lvl in levels]
        assert tif.pages[0].is_tiled and tif.pages[0].tilewidth == 128
    assert ometiff.is_large_tiff(path)
    lazy = ometiff.read_tiff_lazy(path)
    assert lazy.axes == "CYX" and lazy.is_ome
    assert lazy.physical["X"] == (pytest.approx(0.005), "µm") and lazy.channel_names == ["SE", "BSE"]
    assert all(isinstance(lvl, da.Array) for lvl in lazy.levels)
    for got, want in zip(lazy.levels, levels):
        np.testing.assert_array_equal(got.compute(), want)
    axes = ometiff.ngff_axes(lazy)
    assert axes[0] == {"name": "c", "type": "channel"}
    assert axes[2] == {"name": "x", "type": "space", "unit": "micrometer"}


def test_a_small_flat_tiff_is_not_large(tmp_path: Path) -> None:
    path = tmp_path / "small.tif"
    tifffile.imwrite(path, grains((64, 64)))
    assert not ometiff.is_large_tiff(path)
    assert not ometiff.is_large_tiff(tmp_path / "missing.tif")


def test_reading_is_lazy(tmp_path: Path) -> None:
    """Slicing the Dask level decodes only the tiles it covers (tifffile's store reads per chunk)."""
    data = grains((512, 512))
    path = ometiff.write_ome_tiff(tmp_path / "big.ome.tif", [data], "yx", tile=128)
    lazy = ometiff.read_tiff_lazy(path)
    level = lazy.levels[0]
    assert level.chunks == ((128,) * 4, (128,) * 4)
    np.testing.assert_array_equal(level[:100, 300:400].compute(), data[:100, 300:400])
