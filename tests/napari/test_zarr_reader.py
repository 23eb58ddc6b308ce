"""The OME-Zarr reader: a restored store opens lazily, as a pyramid, with its scale and axes.

Run under a display (``xvfb-run -a python -m pytest tests/napari``), as the other viewer tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ome_zarr")

from ngff_inputs import grains, write_ome_zarr  # noqa: E402


def test_a_store_opens_lazily_with_scale_axes_and_channels(tmp_path, viewer):
    import dask.array as da

    from midnet.napari.zarr_reader import get_reader

    store = tmp_path / "restored.zarr"
    data = grains((2, 160, 144))
    write_ome_zarr(store, data, axes="cyx", version="0.5", chunk=64, levels=3, pixel_nm=2.5)
    assert get_reader(str(store)) is not None and get_reader(str(tmp_path)) is None
    layers = viewer.open(str(store), plugin="midnet")
    assert [layer.name for layer in layers] == ["detector 0", "detector 1"]
    for index, layer in enumerate(layers):
        assert layer.multiscale and len(layer.data) == 3
        assert all(isinstance(level, da.Array) for level in layer.data)  # lazy: nothing loaded whole
        assert tuple(layer.scale) == pytest.approx((2.5, 2.5))
        assert tuple(layer.axis_labels) == ("y", "x")
        assert [str(u) for u in layer.units] == ["nanometer", "nanometer"]
        assert tuple(layer.contrast_limits) == (1000 + index, 60000 - index)
        np.testing.assert_array_equal(np.asarray(layer.data[0]), data[index])
