"""Test inputs for the large-image path: small OME-Zarr stores (NGFF 0.4 and 0.5) written by hand.

By hand rather than with ome-zarr-py's writer so that the metadata under test (units, scale
per level, translations, OMERO rendering) is exactly what the test states.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def grains(shape: tuple[int, ...], seed: int = 0, dtype: Any = np.uint16) -> np.ndarray:
    """Smooth grain-like planes scaled to ``dtype`` (each leading index its own image)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    planes = []
    for _ in range(int(np.prod(shape[:-2], dtype=int))):
        img = gaussian_filter(rng.random(shape[-2:]), 3)
        img = (img - img.min()) / (img.max() - img.min())
        planes.append(np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1))
    top = np.iinfo(dtype).max
    return np.rint(np.stack(planes).reshape(shape) * top).astype(dtype)


def level_shapes(shape: tuple[int, ...], levels: int) -> list[tuple[int, ...]]:
    shapes = [tuple(shape)]
    for _ in range(levels - 1):
        prev = shapes[-1]
        shapes.append(prev[:-2] + tuple(-(-n // 2) for n in prev[-2:]))
    return shapes


def write_ome_zarr(path: Path, data: np.ndarray, *, axes: str = "cyx", version: str = "0.4",
                   chunk: int = 128, levels: int = 3, pixel_nm: float = 5.0) -> dict[str, Any]:
    """An NGFF image with ``levels`` levels (each the 2x2 mean of the one above); returns its
    OME attributes (the ``ome`` entry for 0.5)."""
    import zarr

    from midnet.io.omezarr import downsample

    zarr_format = 3 if version == "0.5" else 2
    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    datasets = []
    current = data
    for index, shape in enumerate(level_shapes(data.shape, levels)):
        if index:
            current = downsample(current, (1,) * (data.ndim - 2) + (2, 2), shape)
        chunks = (1,) * (data.ndim - 2) + (chunk, chunk)
        extra = {"dimension_names": list(axes)} if zarr_format == 3 else {}
        array = zarr.create_array(group.store, name=f"s{index}", shape=shape, chunks=chunks, dtype=data.dtype,
                                  fill_value=0, zarr_format=zarr_format, **extra)
        array[...] = current
        factor = 2 ** index
        scale = [1.0] * (data.ndim - 2) + [pixel_nm * factor] * 2
        translation = [0.0] * (data.ndim - 2) + [pixel_nm * (factor - 1) / 2] * 2
        datasets.append({"path": f"s{index}", "coordinateTransformations": [
            {"type": "scale", "scale": scale}, {"type": "translation", "translation": translation}]})
    kinds = {"t": ("time", "second"), "c": ("channel", None), "z": ("space", "nanometer"),
             "y": ("space", "nanometer"), "x": ("space", "nanometer")}
    ngff_axes = []
    for name in axes:
        kind, unit = kinds[name]
        ngff_axes.append({"name": name, "type": kind, **({"unit": unit} if unit else {})})
    multiscale: dict[str, Any] = {"name": path.stem, "axes": ngff_axes, "datasets": datasets, "type": "gaussian"}
    channels = data.shape[axes.index("c")] if "c" in axes else 1
    omero = {"name": path.stem, "rdefs": {"model": "greyscale", "defaultZ": 0},
             "channels": [{"label": f"detector {i}", "color": "FFFFFF", "active": True,
                           "window": {"min": 0, "max": 65535, "start": 1000 + i, "end": 60000 - i}}
                          for i in range(channels)]}
    if version == "0.5":
        ome = {"version": "0.5", "multiscales": [multiscale], "omero": omero}
        group.attrs.update({"ome": ome})
    else:
        multiscale["version"] = version
        ome = {"multiscales": [multiscale], "omero": omero}
        group.attrs.update(ome)
    return ome
