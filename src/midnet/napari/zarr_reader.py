"""napari reader for OME-Zarr stores (what ``midnet deblur`` writes for large images): lazy.

Each pyramid level is a Dask array over the store, so napari reads only the chunks it shows;
the layer gets the NGFF axes as ``axis_labels``, the scale of the full-resolution level (and
its units) so measurements are physical, and one layer per channel (``channel_axis``) with the
OMERO names and contrast windows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

LayerData = tuple[Any, dict[str, Any], str]


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """npe2 ``get_reader``: this reader for one OME-Zarr folder, else None."""
    from midnet.io.omezarr import is_ome_zarr
    from midnet.napari.reader import single_path

    path = single_path(path)
    return read_ome_zarr_layers if path is not None and is_ome_zarr(path) else None


def layer_data(path: str | Path) -> LayerData:
    """(levels, kwargs, "image"): multiscale, lazy, with axes, scale and units."""
    from midnet.io.omezarr import read_ome_zarr

    image = read_ome_zarr(path)
    names = image.axis_names
    scale = image.scale(0)
    kwargs: dict[str, Any] = {"name": Path(path).stem, "multiscale": len(image.levels) > 1,
                              "metadata": {"ngff": image.attrs, "midnet_path": str(path)}}
    keep = [i for i, n in enumerate(names) if n != "c"]
    kwargs["axis_labels"] = tuple(names[i] for i in keep)
    kwargs["scale"] = tuple(scale[i] for i in keep)
    units = [image.units[i] for i in keep]
    if all(units):
        kwargs["units"] = tuple(units)
    if "c" in names:
        channel = names.index("c")
        kwargs["channel_axis"] = channel
        omero = image.attrs.get("ome", image.attrs).get("omero", {})
        channels = omero.get("channels", [])
        if channels:
            kwargs["name"] = [c.get("label", f"channel {i}") for i, c in enumerate(channels)]
            windows = [c.get("window", {}) for c in channels]
            if all("start" in w and "end" in w for w in windows):
                kwargs["contrast_limits"] = [(w["start"], w["end"]) for w in windows]
    data = image.levels if len(image.levels) > 1 else image.levels[0]
    return data, kwargs, "image"


def read_ome_zarr_layers(path: str | list[str]) -> list[LayerData]:
    paths = path if isinstance(path, list) else [path]
    return [layer_data(p) for p in paths]
