"""napari reader for SEM files, built on `midnet.io`: pixels, physical scale and metadata.

The layer's ``scale`` is the pixel size from the vendor metadata (`midnet.io.pixel_size`) in
nanometres, so napari's scale bar and measurements are in real units, and the whole
`ImageFile` metadata (vendor tags, sidecar text, data bar rows) stays in ``layer.metadata``
for the widget and for the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from midnet.io import SUFFIXES

LayerData = tuple[Any, dict[str, Any], str]


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """npe2 ``get_reader``: our reader for one supported image file, else None (napari asks others)."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    if Path(path).suffix.lower() not in SUFFIXES or not Path(path).is_file():
        return None
    return read_sem


def layer_data(path: str | Path) -> LayerData:
    """One image layer's (data, kwargs, "image") for ``path``: all pages, scale, metadata."""
    from midnet.io import read_image
    from midnet.io.databar import detect_databar
    from midnet.io.pixel_size import pixel_size

    image = read_image(path)
    same = all(p.shape == image.array.shape and p.dtype == image.array.dtype for p in image.pages)
    data = np.stack(image.pages) if len(image.pages) > 1 and same else image.array
    rgb = image.array.ndim == 3 and image.array.shape[2] in (3, 4)
    size = pixel_size(image)
    metadata = {
        "midnet_path": str(image.path),
        "midnet_format": image.format,
        "midnet_databar_rows": [detect_databar(image, page=i) for i in range(len(image.pages))],
        "midnet_pixel_size_nm": None if size is None else (size.y_nm, size.x_nm),
        "midnet_pixel_size_source": None if size is None else size.source,
        "midnet_image_metadata": image.metadata,
    }
    kwargs: dict[str, Any] = {"name": Path(path).stem, "metadata": metadata, "rgb": rgb}
    spatial = (size.y_nm, size.x_nm) if size is not None else (1.0, 1.0)
    leading = data.ndim - (3 if rgb else 2)
    kwargs["scale"] = (1.0,) * leading + spatial
    if size is not None and leading == 0:
        kwargs["units"] = ("nm", "nm")
    if image.array.dtype in (np.uint8, np.uint16) and not rgb:
        kwargs["contrast_limits"] = (0, int(np.iinfo(image.array.dtype).max))
    return data, kwargs, "image"


def read_sem(path: str | list[str]) -> list[LayerData]:
    """npe2 reader function: ``path`` -> [one image layer]."""
    paths = path if isinstance(path, list) else [path]
    return [layer_data(p) for p in paths]
