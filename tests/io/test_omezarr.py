"""OME-Zarr (`midnet.io.omezarr`): lazy reading of NGFF 0.4 and 0.5, a store made like another,
chunks written once, and the pyramid's area mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("zarr")
pytest.importorskip("ome_zarr")

from ngff_inputs import grains, write_ome_zarr  # noqa: E402

from midnet.io import omezarr  # noqa: E402


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_reads_levels_lazily_with_axes_units_and_scale(tmp_path: Path, version: str) -> None:
    import dask.array as da

    data = grains((2, 200, 180))
    path = tmp_path / "in.zarr"
    write_ome_zarr(path, data, version=version, chunk=64, levels=3, pixel_nm=4.0)
    image = omezarr.read_ome_zarr(path)
    assert omezarr.is_ome_zarr(path) and not omezarr.is_ome_zarr(tmp_path)
    assert image.axis_names == "cyx" and image.version == version
    assert image.zarr_format == (3 if version == "0.5" else 2)
    assert [level.shape for level in image.levels] == [(2, 200, 180), (2, 100, 90), (2, 50, 45)]
    assert all(isinstance(level, da.Array) for level in image.levels)
    assert image.scale(0) == [1.0, 4.0, 4.0] and image.scale(2) == [1.0, 16.0, 16.0]
    assert image.units == [None, "nanometer", "nanometer"]
    np.testing.assert_array_equal(image.levels[0].compute(), data)


def test_store_like_the_input_writes_each_chunk_once(tmp_path: Path) -> None:
    data = grains((1, 130, 150))
    source = tmp_path / "in.zarr"
    attrs = write_ome_zarr(source, data, version="0.5", chunk=64, levels=2)
    image = omezarr.read_ome_zarr(source)
    out = tmp_path / "out.zarr"
    omezarr.create_like(image, out, note="note", source=str(source), plan={"model": "m"})
    with pytest.raises(FileExistsError):
        omezarr.create_like(image, out, note="note", source=str(source), plan={"model": "m"})
    copy = omezarr.read_ome_zarr(out)
    written = copy.attrs["ome"]
    assert written["omero"] == attrs["omero"] and written["multiscales"][0]["axes"] == attrs["multiscales"][0]["axes"]
    assert written["multiscales"][0]["datasets"] == attrs["multiscales"][0]["datasets"]
    assert copy.attrs["midnet"]["complete"] is False
    target = omezarr.open_level(out, "s0")
    assert target.chunks == (1, 64, 64) and target.metadata.dimension_names == ("c", "y", "x")
    assert omezarr.missing_chunks(target, out, (0, 0, 0), (1, 130, 150)) == 9
    block = data[:, :64, :]
    assert omezarr.write_missing(target, out, block, (0, 0, 0)) == (3, 0)
    first = omezarr.chunk_file(target, out, (0, 0, 0))
    stamp = first.stat().st_mtime_ns, first.stat().st_ino
    assert omezarr.write_missing(target, out, data, (0, 0, 0)) == (6, 3)  # the first row is not rewritten
    assert (first.stat().st_mtime_ns, first.stat().st_ino) == stamp
    np.testing.assert_array_equal(target[...], data)
    omezarr.mark_complete(out)
    assert omezarr.midnet_attrs(out)["complete"] is True


def test_all_fill_value_chunks_are_written_too(tmp_path: Path) -> None:
    """Presence of a chunk is what says "done", so chunks equal to the fill value are stored."""
    source = tmp_path / "in.zarr"
    write_ome_zarr(source, np.zeros((1, 64, 64), np.uint16), chunk=64, levels=1)
    out = tmp_path / "out.zarr"
    omezarr.create_like(omezarr.read_ome_zarr(source), out, note="", source="", plan={})
    target = omezarr.open_level(out, "s0")
    assert omezarr.write_missing(target, out, np.zeros((1, 64, 64), np.uint16), (0, 0, 0)) == (1, 0)
    assert omezarr.chunk_file(target, out, (0, 0, 0)).is_file()


def test_downsample_is_the_area_mean_with_edges_repeated() -> None:
    block = np.arange(5 * 6, dtype=np.uint16).reshape(5, 6)
    out = omezarr.downsample(block, (2, 2), (3, 3))
    assert out.dtype == np.uint16
    assert out[0, 0] == np.rint(block[:2, :2].mean())
    assert out[2, 1] == np.rint(block[4, 2:4].mean())  # last row repeated: the mean of what exists
    assert omezarr.level_factors((1, 200, 181), (1, 100, 91)) == (1, 2, 2)
    with pytest.raises(ValueError, match="integer reduction"):
        omezarr.level_factors((200,), (70,))


def test_remove_store_refuses_a_folder_midnet_did_not_write(tmp_path: Path) -> None:
    source = tmp_path / "in.zarr"
    write_ome_zarr(source, grains((1, 64, 64)), chunk=64, levels=1)
    with pytest.raises(ValueError, match="not a store written by midnet"):
        omezarr.remove_store(source)
    assert source.is_dir()
