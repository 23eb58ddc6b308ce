"""OME-Zarr (NGFF) images: read lazily, write a restored copy chunk by chunk, rebuild the pyramid.

Why ome-zarr-py for reading: it knows every NGFF version (0.1-0.5, Zarr v2 and v3) and hands
back each pyramid level as a lazy Dask array with its axes and transforms. Why zarr-python for
writing: the output mirrors the input array by array (shape, dtype, chunks, codecs, Zarr
format, dimension names), and its local store writes every chunk to a temporary file that it
renames, so a chunk is either absent or whole; that is what makes an interrupted run
resumable: a chunk present in the output is done (empty chunks are written too, so absence
means "not yet"). Sharded inputs are written unsharded (an inner chunk of a shard cannot be
written on its own).

Metadata: the input group's attributes are copied as they are (NGFF ``multiscales`` with axes,
units and the scale of every level, ``omero`` rendering, anything else), plus a ``midnet``
entry with the processing note and how the pyramid was rebuilt; the pyramid's ``type`` says
``mean``, which is how `downsample` makes each level from the one above.
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: attribute (top level of the group) where midnet records what it did
MIDNET_ATTR = "midnet"


@dataclass
class OmeZarrImage:
    """One NGFF multiscale image: lazy levels (Dask), axes and the group's attributes."""

    path: Path
    levels: list[Any]                      # dask arrays, full resolution first
    paths: list[str]                       # dataset path of each level inside the group
    axes: list[dict[str, Any]]             # NGFF axes: {"name", "type", "unit"?}
    attrs: dict[str, Any]                  # the group's attributes, as stored
    zarr_format: int = 2
    version: str = "0.4"
    transforms: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def axis_names(self) -> str:
        """Axis names as one string, e.g. ``"tczyx"`` or ``"yx"``."""
        return "".join(a["name"] for a in self.axes)

    def scale(self, level: int = 0) -> list[float]:
        """The ``scale`` coordinate transform of a level (1.0 per axis when absent)."""
        for transform in (self.transforms[level] if self.transforms else []):
            if transform.get("type") == "scale":
                return [float(v) for v in transform["scale"]]
        return [1.0] * len(self.axes)

    @property
    def units(self) -> list[str | None]:
        return [a.get("unit") for a in self.axes]

    @property
    def multiscales(self) -> dict[str, Any]:
        return _ome(self.attrs)["multiscales"][0]


def _ome(attrs: dict[str, Any]) -> dict[str, Any]:
    """NGFF 0.5 keeps its metadata under ``ome``; earlier versions at the top level."""
    return attrs["ome"] if "ome" in attrs else attrs


def is_ome_zarr(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding an NGFF multiscale image (any version)."""
    import json

    path = Path(path)
    if not path.is_dir():
        return False
    for name in ("zarr.json", ".zattrs"):
        meta = path / name
        if meta.is_file():
            try:
                attrs = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return False
            attrs = attrs.get("attributes", attrs)
            if "multiscales" in _ome(attrs):
                return True
    return False


def read_ome_zarr(path: str | Path) -> OmeZarrImage:
    """The first multiscale image of an OME-Zarr store, lazily (nothing but metadata is read)."""
    import zarr
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    path = Path(path)
    logging.getLogger("ome_zarr").setLevel(logging.ERROR)  # it warns on every v0.4 store it opens
    location = parse_url(str(path), mode="r")
    if location is None:
        raise ValueError(f"{path}: not a Zarr store; expected an OME-Zarr folder (.zarr)")
    nodes = [node for node in Reader(location)() if node.load(Multiscales) is not None]
    if not nodes:
        raise ValueError(f"{path}: Zarr store without NGFF multiscales metadata; expected an OME-Zarr image")
    node = nodes[0]
    group = zarr.open_group(str(path), mode="r")
    attrs = group.attrs.asdict()
    multiscale = _ome(attrs)["multiscales"][0]
    axes = [a if isinstance(a, dict) else {"name": a} for a in node.metadata.get("axes") or []]
    if not axes:  # NGFF 0.1/0.2 have no axes: they are t, c, z, y, x from the right
        axes = [{"name": n} for n in "tczyx"[-node.data[0].ndim:]]
    return OmeZarrImage(path=path, levels=list(node.data), paths=[d["path"] for d in multiscale["datasets"]],
                        axes=axes, attrs=attrs, zarr_format=group.metadata.zarr_format,
                        version=location.version,
                        transforms=[d.get("coordinateTransformations") or [] for d in multiscale["datasets"]])


# -- writing -------------------------------------------------------------------------------


def _array_options(source: Any) -> dict[str, Any]:
    """zarr.create_array arguments that reproduce ``source``'s layout (unsharded)."""
    options: dict[str, Any] = {"shape": source.shape, "chunks": source.chunks, "dtype": source.dtype,
                               "fill_value": source.fill_value, "compressors": source.compressors,
                               "filters": source.filters or None, "zarr_format": source.metadata.zarr_format}
    if source.metadata.zarr_format == 3:
        options["serializer"] = source.serializer
        options["dimension_names"] = source.metadata.dimension_names
        options["chunk_key_encoding"] = source.metadata.chunk_key_encoding
    else:
        options["chunk_key_encoding"] = {"name": "v2", "separator": source.metadata.dimension_separator}
    return options


def create_like(image: OmeZarrImage, dst: str | Path, *, note: str, source: str,
                plan: dict[str, Any], array_options: list[dict[str, Any]] | None = None) -> None:
    """A new store at ``dst`` with ``image``'s arrays (empty) and attributes, marked incomplete.

    ``plan`` (model and settings) is recorded so that a resumed run can check it continues
    the same restoration. ``array_options`` (per level, `zarr.create_array` arguments) default
    to the input store's own layout.
    """
    import zarr

    dst = Path(dst)
    if array_options is None:
        src_group = zarr.open_group(str(image.path), mode="r")
        array_options = [_array_options(src_group[p]) for p in image.paths]
    group = zarr.open_group(str(dst), mode="w-", zarr_format=image.zarr_format)
    for level_path, options in zip(image.paths, array_options):
        zarr.create_array(group.store, name=level_path, config={"write_empty_chunks": True}, **options)
    attrs = _copy_attrs(image.attrs)
    attrs[MIDNET_ATTR] = {"note": note, "source": source, "plan": plan, "complete": False,
                          "pyramid": "each level the mean of the level above (area average)"}
    group.attrs.update(attrs)


def _copy_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    import copy

    attrs = copy.deepcopy(attrs)
    multiscale = _ome(attrs)["multiscales"][0]
    if "type" in multiscale:
        multiscale["type"] = "mean"
    return attrs


def open_output(dst: str | Path) -> Any:
    import zarr

    return zarr.open_group(str(dst), mode="r+")


def open_level(dst: str | Path, path: str) -> Any:
    """Array ``path`` of an output store, for writing: chunks equal to the fill value are
    stored too (the setting is per opened array, not saved with it)."""
    import zarr

    return zarr.open_array(store=str(dst), path=path, mode="r+").with_config({"write_empty_chunks": True})


def midnet_attrs(dst: str | Path) -> dict[str, Any] | None:
    """The ``midnet`` entry of an output store, or None (not written by midnet)."""
    import zarr

    try:
        return zarr.open_group(str(dst), mode="r").attrs.asdict().get(MIDNET_ATTR)
    except (FileNotFoundError, ValueError, KeyError):
        return None


def mark_complete(dst: str | Path) -> None:
    group = open_output(dst)
    entry = dict(group.attrs.asdict()[MIDNET_ATTR])
    entry["complete"] = True
    group.attrs.update({MIDNET_ATTR: entry})


def remove_store(path: str | Path) -> None:
    """Delete a store that midnet wrote (refuses a folder without midnet's attribute)."""
    if midnet_attrs(path) is None:
        raise ValueError(f"{path}: not a store written by midnet; move it away or choose another --out")
    shutil.rmtree(path)


def remove_partials(path: str | Path) -> int:
    """Delete temporary chunk files an interrupted writer left (``*.partial``); returns the count."""
    count = 0
    for leftover in Path(path).rglob("*.partial"):
        leftover.unlink(missing_ok=True)
        count += 1
    return count


# -- chunks --------------------------------------------------------------------------------


def chunk_file(array: Any, root: str | Path, coords: Sequence[int]) -> Path:
    """Where chunk ``coords`` of ``array`` (opened from the local store ``root``) lives."""
    key = array.metadata.encode_chunk_key(tuple(int(c) for c in coords))
    return Path(root) / array.path / key


def chunk_grid(shape: Sequence[int], chunks: Sequence[int], start: Sequence[int],
               stop: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Chunk coordinates of the storage chunks inside the region [start, stop)."""
    ranges = [range(a // c, -(-b // c)) for a, b, c in zip(start, stop, chunks)]
    for index in np.ndindex(*[len(r) for r in ranges]):
        yield tuple(r[i] for r, i in zip(ranges, index))


def write_missing(array: Any, root: str | Path, data: np.ndarray, start: Sequence[int]) -> tuple[int, int]:
    """Write the storage chunks of ``data`` (placed at ``start``) that the store lacks.

    ``data`` covers whole storage chunks (or reaches the array's end). Returns (written,
    already there): a chunk that exists is never written again.
    """
    written = skipped = 0
    chunks, shape = array.chunks, array.shape
    stop = [s + n for s, n in zip(start, data.shape)]
    for coords in chunk_grid(shape, chunks, start, stop):
        if chunk_file(array, root, coords).exists():
            skipped += 1
            continue
        lo = [c * k for c, k in zip(coords, chunks)]
        hi = [min(n, l + k) for n, l, k in zip(shape, lo, chunks)]
        region = tuple(slice(l - s, h - s) for l, h, s in zip(lo, hi, start))
        array[tuple(slice(l, h) for l, h in zip(lo, hi))] = data[region]
        written += 1
    return written, skipped


def missing_chunks(array: Any, root: str | Path, start: Sequence[int], stop: Sequence[int]) -> int:
    """How many storage chunks of the region [start, stop) the store lacks."""
    return sum(not chunk_file(array, root, c).exists() for c in chunk_grid(array.shape, array.chunks, start, stop))


# -- the pyramid ---------------------------------------------------------------------------


def level_factors(upper: Sequence[int], lower: Sequence[int]) -> tuple[int, ...]:
    """Integer factor per axis from one level's shape to the next (2 for a halved axis)."""
    factors = []
    for a, b in zip(upper, lower):
        factor = max(1, round(a / b))
        if math.ceil(a / factor) != b and a // factor != b:
            raise ValueError(f"pyramid level of shape {tuple(lower)} is no integer reduction of {tuple(upper)}")
        factors.append(factor)
    return tuple(factors)


def downsample(block: np.ndarray, factors: Sequence[int], shape: Sequence[int]) -> np.ndarray:
    """Area mean of ``block`` by ``factors`` to exactly ``shape`` (edge pixels repeated to fill,
    so a level of ceil size averages what exists), rounded back to integer dtypes."""
    pad = [(0, max(0, n * f - s)) for n, f, s in zip(shape, factors, block.shape)]
    padded = np.pad(block, pad, mode="edge") if any(p[1] for p in pad) else block
    padded = padded[tuple(slice(0, n * f) for n, f in zip(shape, factors))]
    view = padded.reshape([x for n, f in zip(shape, factors) for x in (n, f)])
    mean = view.astype(np.float64).mean(axis=tuple(range(1, 2 * len(shape), 2)))
    if np.issubdtype(block.dtype, np.integer):
        info = np.iinfo(block.dtype)
        mean = np.clip(np.rint(mean), info.min, info.max)
    return mean.astype(block.dtype)
