"""Large TIFFs: BigTIFF and pyramidal OME-TIFF read lazily, pyramidal OME-TIFF written tile by tile.

Why tifffile's Zarr store: ``TiffFile.series[0].aszarr()`` exposes the tiles (or strips) of
every pyramid level as Zarr chunks without decoding the file, so Dask reads only the chunks a
task needs; a 16k² mosaic never sits in memory whole. Writing streams tiles from the restored
levels (any array that slices: Zarr, Dask, NumPy) into one BigTIFF with the reduced levels as
SubIFDs, the layout OME-TIFF readers (Bio-Formats, QuPath, napari) expect for pyramids; the
file is written under a temporary name and renamed (`midnet.io.atomic`).

Metadata kept: the series axes, the OME physical pixel sizes and units (``PhysicalSizeX/Y/Z``
and their units) and channel names; other OME elements are not carried over (tifffile writes
the OME-XML from these values).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from midnet.io.atomic import atomic_write

#: a TIFF whose first series has at least this many pixels per plane is restored blockwise
LARGE_PIXELS = 8192 * 8192
#: OME length units to NGFF (UDUNITS) names
_NGFF_UNITS = {"nm": "nanometer", "µm": "micrometer", "um": "micrometer", "mm": "millimeter",
               "cm": "centimeter", "m": "meter", "pm": "picometer", "Å": "angstrom"}
_OME_UNITS = {v: k for k, v in _NGFF_UNITS.items() if k != "um"}


@dataclass
class TiffPyramid:
    """The first series of a TIFF: lazy levels (Dask) with its axes and physical sizes."""

    path: Path
    levels: list[Any]
    axes: str                                  # tifffile axes, e.g. "YX", "CYX", "TZCYX"
    physical: dict[str, tuple[float, str]] = field(default_factory=dict)  # "X" -> (size, unit)
    channel_names: list[str] = field(default_factory=list)
    is_ome: bool = False

    @property
    def dtype(self) -> np.dtype:
        return self.levels[0].dtype


def is_large_tiff(path: str | Path) -> bool:
    """Whether a TIFF is for the blockwise path: a pyramid, or a plane of ``LARGE_PIXELS`` or more."""
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            plane = math.prod(series.shape[-2:]) if "S" not in series.axes else 0
            return len(series.levels) > 1 or plane >= LARGE_PIXELS
    except Exception:  # noqa: BLE001 - not a TIFF tifffile reads: the ordinary path reports it
        return False


def read_tiff_lazy(path: str | Path) -> TiffPyramid:
    """Every level of the first series as a Dask array over tifffile's Zarr store."""
    import dask.array as da

    path = Path(path)
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        axes = series.axes
        physical, names = _ome_pixels(tif.ome_metadata) if tif.is_ome else ({}, [])
        is_ome = bool(tif.is_ome)
        nlevels = len(series.levels)
    if "S" in axes:
        raise ValueError(f"{path}: colour (RGB) TIFFs are not restored blockwise; "
                         "save the mosaic as greyscale or restore it in pieces")
    levels = []
    for index in range(nlevels):
        level = TiffLevel(str(path), index, nlevels)
        levels.append(da.from_array(level, chunks=level.chunks, asarray=False, fancy=False,
                                    name=f"tiff-{tifffile.__version__}-{path}-{path.stat().st_mtime_ns}-{index}"))
    return TiffPyramid(path=path, levels=levels, axes=axes, physical=physical, channel_names=names, is_ome=is_ome)


class TiffLevel:
    """One pyramid level of a TIFF as an array-like that slices through tifffile's Zarr store.

    Why not the Zarr array itself: the store holds an open file, which cannot travel to a
    `dask.distributed` worker; this object pickles as (path, level) and each process opens the
    file once (`_open_level`).
    """

    def __init__(self, path: str, level: int, levels: int) -> None:
        self.path, self.level, self.levels = path, level, levels
        array = _open_level(path, level, levels)
        self.shape, self.dtype, self.chunks = array.shape, array.dtype, array.chunks
        self.ndim = len(self.shape)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return TiffLevel, (self.path, self.level, self.levels)

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.asarray(_open_level(self.path, self.level, self.levels)[key])


_opened: dict[tuple[str, int], Any] = {}


def _open_level(path: str, level: int, levels: int) -> Any:
    """The Zarr array of ``level`` of ``path`` (opened once per process)."""
    import zarr

    key = (path, level)
    if key not in _opened:
        node = zarr.open(tifffile.imread(path, aszarr=True), mode="r")
        _opened[key] = node[str(level)] if isinstance(node, zarr.Group) else node
    return _opened[key]


def _ome_pixels(xml: str | None) -> tuple[dict[str, tuple[float, str]], list[str]]:
    """Physical sizes (per axis letter) and channel names from OME-XML's first Image."""
    if not xml:
        return {}, []
    meta = tifffile.xml2dict(xml).get("OME", {})
    image = meta.get("Image", {})
    image = image[0] if isinstance(image, list) else image
    pixels = image.get("Pixels", {})
    physical = {}
    for axis in "XYZ":
        size = pixels.get(f"PhysicalSize{axis}")
        if size is not None:
            physical[axis] = (float(size), str(pixels.get(f"PhysicalSize{axis}Unit", "µm")))
    channels = pixels.get("Channel", [])
    channels = channels if isinstance(channels, list) else [channels]
    names = [str(c.get("Name")) for c in channels if isinstance(c, dict) and c.get("Name") is not None]
    return physical, names


def ngff_axes(pyramid: TiffPyramid) -> list[dict[str, Any]]:
    """NGFF axes (name, type, unit) for the TIFF's axes (T time, C channel, Z/Y/X space)."""
    axes = []
    for letter in pyramid.axes:
        name = letter.lower()
        entry: dict[str, Any] = {"name": name}
        if letter in "XYZ":
            entry["type"] = "space"
            if letter in pyramid.physical:
                entry["unit"] = _NGFF_UNITS.get(pyramid.physical[letter][1], pyramid.physical[letter][1])
        elif letter == "T":
            entry["type"] = "time"
        elif letter == "C":
            entry["type"] = "channel"
        axes.append(entry)
    return axes


def ome_metadata(axes: str, scale: Sequence[float] | None = None, units: Sequence[str | None] | None = None,
                 channel_names: Sequence[str] = ()) -> dict[str, Any]:
    """tifffile ``metadata=`` for an OME-TIFF: axes, physical sizes (from NGFF scale and units)."""
    meta: dict[str, Any] = {"axes": axes.upper()}
    for i, letter in enumerate(axes.upper()):
        if letter in "XYZ" and scale is not None and units is not None and units[i]:
            meta[f"PhysicalSize{letter}"] = float(scale[i])
            meta[f"PhysicalSize{letter}Unit"] = _OME_UNITS.get(units[i], units[i])
    if channel_names:
        meta["Channel"] = {"Name": list(channel_names)}
    return meta


def _tiles(level: Any, tile: int) -> Iterator[np.ndarray]:
    """Tiles of an (..., Y, X) array in TIFF order: planes, then rows of tiles, left to right."""
    height, width = level.shape[-2:]
    for index in np.ndindex(*level.shape[:-2]):
        for y in range(0, height, tile):
            band = np.asarray(level[index + (slice(y, min(height, y + tile)), slice(None))])
            for x in range(0, width, tile):
                yield np.ascontiguousarray(band[..., x:x + tile])


def write_ome_tiff(dst: str | Path, levels: Sequence[Any], axes: str, *, metadata: dict[str, Any] | None = None,
                   tile: int = 256, compression: str | None = "zlib", software: str | None = None,
                   overwrite: bool = False) -> Path:
    """A pyramidal OME-TIFF (BigTIFF, tiled, reduced levels as SubIFDs), written atomically.

    ``levels``: full resolution first, each an (..., Y, X) array that slices (read one band of
    tiles at a time, so memory stays at one band). ``axes``: e.g. ``"YX"`` or ``"TZCYX"``.
    """
    meta = dict(metadata or {"axes": axes.upper()})
    meta["axes"] = axes.upper()

    def write(tmp: Path) -> None:
        with tifffile.TiffWriter(tmp, bigtiff=True, ome=True) as tif:
            first = levels[0]
            options = {"tile": (tile, tile), "compression": compression, "photometric": "minisblack"}
            tif.write(_tiles(first, tile), shape=first.shape, dtype=first.dtype, subifds=len(levels) - 1,
                      metadata=meta, software=software, **options)
            for level in levels[1:]:
                tif.write(_tiles(level, tile), shape=level.shape, dtype=level.dtype, subfiletype=1,
                          metadata=None, **options)

    return atomic_write(dst, write, overwrite=overwrite)
