"""napari reader for SEM files, built on `midnet.io`: pixels, physical scale and metadata.

The layer's ``scale`` is the pixel size from the vendor metadata (the page's
`midnet.io.PageInfo.pixel_size`) in nanometres, so napari's scale bar and measurements are in
real units. The facts of every page (`PageInfo`: value of white, data bar, pixel size, vendor)
go into ``layer.metadata["midnet_pages"]``, where the widget reads them, so that it restores the
layer exactly as `midnet deblur` restores the file; the whole `ImageFile` metadata (vendor tags,
sidecar text) stays there too, for the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from midnet.io import SUFFIXES

LayerData = tuple[Any, dict[str, Any], str]


def single_path(path: str | list[str]) -> str | None:
    """The one path napari offers (a list of one), or None for several: each reader takes one."""
    if isinstance(path, list):
        return path[0] if len(path) == 1 else None
    return path


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """npe2 ``get_reader``: our reader for one supported image file, else None (napari asks others)."""
    path = single_path(path)
    if path is None or Path(path).suffix.lower() not in SUFFIXES or not Path(path).is_file():
        return None
    return read_sem


def layer_data(path: str | Path) -> LayerData:
    """One image layer's (data, kwargs, "image") for ``path``: all pages, scale, metadata."""
    from midnet.io import read_image

    image = read_image(path)
    same = all(p.shape == image.array.shape and p.dtype == image.array.dtype for p in image.pages)
    stacked = len(image.pages) > 1 and same
    data = np.stack(image.pages) if stacked else image.array
    rgb = image.array.ndim == 3 and image.array.shape[2] in (3, 4)
    size = image.info[0].pixel_size
    metadata = {
        "midnet_path": str(image.path),
        "midnet_format": image.format,
        "midnet_pages": list(image.info if stacked else image.info[:1]),  # one per plane of the layer
        "midnet_image_metadata": image.metadata,
    }
    kwargs: dict[str, Any] = {"name": Path(path).stem, "metadata": metadata, "rgb": rgb}
    spatial = (size.y_nm, size.x_nm) if size is not None else (1.0, 1.0)
    leading = data.ndim - (3 if rgb else 2)
    kwargs["scale"] = (1.0,) * leading + spatial
    if size is not None and leading == 0:
        kwargs["units"] = ("nm", "nm")
    if image.array.dtype in (np.uint8, np.uint16) and not rgb:
        kwargs["contrast_limits"] = (0, int(image.info[0].white or np.iinfo(image.array.dtype).max))
    return data, kwargs, "image"


def read_sem(path: str | list[str]) -> list[LayerData]:
    """npe2 reader function: ``path`` -> [one image layer]."""
    paths = path if isinstance(path, list) else [path]
    return [layer_data(p) for p in paths]
