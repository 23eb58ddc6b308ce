"""A large image as chunk tasks: OME-Zarr in and out, BigTIFF/OME-TIFF in, pyramidal OME-TIFF out.

Phases, each a list of `dask.delayed` tasks the runner submits when the previous phase is done:

0. restore: the source's full-resolution level is restored blockwise
   (`midnet.inference.blockwise.restore_dask`, chunks planned from the memory budget and the
   store's chunks); each block task writes the storage chunks the output still lacks;
1..n. pyramid: each reduced level is the area mean of the level above, read back from the
   output store, region by region (only missing chunks are written);
last. finish: an OME-Zarr output is marked complete; a TIFF output is streamed from the
   store into a pyramidal OME-TIFF under a temporary name and renamed; then the record.

Where the chunks go: an OME-Zarr input is restored into ``OUT/<name>.zarr`` with its arrays and
NGFF metadata (`midnet.io.omezarr.create_like`); a TIFF input into a staging store
``OUT/.midnet/partial/<name>.zarr``, so that a TIFF run resumes chunk by chunk as well.
Since a chunk is written by a rename or not at all, and an existing chunk is never written
again, a rerun (``--resume``) restores exactly the chunks that are missing.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from midnet.cluster.manifest import (STATE, Record, checksum, finished, input_checksum, worker_name,
                                     write_record)
from midnet.io import omezarr

#: side (px) of a pyramid task's region at its level
PYRAMID_REGION = 2048
#: storage chunk side of a staging store (and tile of the OME-TIFF written from it)
STAGING_CHUNK = 512


@dataclass
class StoreJob:
    """One large image: where it comes from, where its chunks go, and its phases."""

    source: str
    output: str                   # relative to outdir: ``x.zarr`` or ``x.tif``
    outdir: str
    kind: str                     # "zarr" (OME-Zarr out) or "tiff" (pyramidal OME-TIFF out)
    store: str                    # the Zarr store the chunks go to
    paths: list[str]              # dataset path of each level in the store
    shapes: list[tuple[int, ...]]
    axes: str
    settings: dict[str, Any]
    input_sha256: str
    scale: list[float] = field(default_factory=list)
    units: list[str | None] = field(default_factory=list)
    channel_names: list[str] = field(default_factory=list)
    chunks_total: int = 0
    chunks_missing: int = 0

    @property
    def megapixels(self) -> float:
        return math.prod(self.shapes[0]) / 1e6


def _tiff_image(path: Path) -> omezarr.OmeZarrImage:
    """A TIFF's first series described as an NGFF image (axes, units, scale per level)."""
    from midnet.io.ometiff import ngff_axes, read_tiff_lazy

    pyramid = read_tiff_lazy(path)
    axes = ngff_axes(pyramid)
    base = [pyramid.physical.get(a["name"].upper(), (1.0, ""))[0] for a in axes]
    shapes = [level.shape for level in pyramid.levels]
    datasets = []
    for index, shape in enumerate(shapes):
        factors = [a / b for a, b in zip(shapes[0], shape)]
        datasets.append({"path": str(index), "coordinateTransformations":
                         [{"type": "scale", "scale": [s * f for s, f in zip(base, factors)]}]})
    attrs = {"multiscales": [{"version": "0.4", "name": path.name, "axes": axes, "datasets": datasets}]}
    image = omezarr.OmeZarrImage(path=path, levels=pyramid.levels, paths=[d["path"] for d in datasets],
                                 axes=axes, attrs=attrs, zarr_format=2, version="0.4",
                                 transforms=[d["coordinateTransformations"] for d in datasets])
    image.channel_names = pyramid.channel_names  # type: ignore[attr-defined]
    return image


def _staging_options(image: omezarr.OmeZarrImage) -> list[dict[str, Any]]:
    options = []
    for level in image.levels:
        chunks = (1,) * (level.ndim - 2) + (STAGING_CHUNK, STAGING_CHUNK)
        options.append({"shape": level.shape, "chunks": tuple(min(c, n) for c, n in zip(chunks, level.shape)),
                        "dtype": level.dtype, "fill_value": 0, "zarr_format": 2})
    return options


def prepare(source: Path, output: str, outdir: Path, *, settings: dict[str, Any], note: str,
            resume: bool, overwrite: bool) -> tuple[StoreJob, omezarr.OmeZarrImage] | dict[str, Any]:
    """Open the input lazily and create (or reopen, with ``resume``) the store its chunks go to.

    Returns the job and the input image, or ``{"status": "skipped", "record": ...}`` when the
    output is already finished for this input and these settings (and not ``overwrite``).
    """
    kind = "zarr" if omezarr.is_ome_zarr(source) else "tiff"
    input_sha = input_checksum(source)
    final = outdir / output
    if not overwrite:
        record = finished(outdir, output, source, settings, input_sha)
        if record is not None:
            return {"status": "skipped", "record": asdict(record)}
    image = omezarr.read_ome_zarr(source) if kind == "zarr" else _tiff_image(source)
    if image.axis_names[-2:] != "yx":
        raise ValueError(f"{source}: the last two axes are {image.axis_names[-2:]!r}, expected y and x")
    store = final if kind == "zarr" else outdir / STATE / "partial" / f"{output}.zarr"
    if kind == "tiff" and final.exists() and not overwrite:
        raise FileExistsError(f"{final}: output exists but no finished record of this input and model is in "
                              "the manifest; pass --overwrite to replace it")
    plan = {**settings, "input_sha256": input_sha}
    if store.exists():
        written = omezarr.midnet_attrs(store)
        same = written is not None and written.get("plan") == plan and written.get("source") == str(source)
        if overwrite:
            omezarr.remove_store(store)
        elif not same:
            raise FileExistsError(f"{store}: output store exists, from another input or with other settings; "
                                  "pass --overwrite to restore it again")
        elif not (resume or written.get("complete")):
            raise FileExistsError(f"{store}: output store exists (an interrupted run?); pass --resume to "
                                  "complete it or --overwrite to restore it again")
    if not store.exists():
        options = None if kind == "zarr" else _staging_options(image)
        omezarr.create_like(image, store, note=note, source=str(source), plan=plan, array_options=options)
    else:
        omezarr.remove_partials(store)
    scale = image.scale(0)
    job = StoreJob(source=str(source), output=output, outdir=str(outdir), kind=kind, store=str(store),
                   paths=list(image.paths), shapes=[tuple(level.shape) for level in image.levels],
                   axes=image.axis_names, settings=settings, input_sha256=input_sha, scale=scale,
                   units=image.units, channel_names=list(getattr(image, "channel_names", [])))
    return job, image


def restore_tasks(job: StoreJob, image: omezarr.OmeZarrImage, deblurrer: Any, *,
                  psf: Any = None, chunk: int | None = None) -> list[tuple[str, Any]]:
    """Phase 0: one (label, delayed) per block of the full-resolution level that lacks chunks."""
    import dask

    from midnet.inference.blockwise import block_overlap, plan_chunks, restore_dask

    target = omezarr.open_output(job.store)[job.paths[0]]
    overlap = block_overlap(deblurrer)
    chunks = plan_chunks(job.shapes[0], deblurrer, overlap=overlap, storage=target.chunks, chunk=chunk)
    restored = restore_dask(deblurrer, image.levels[0], chunks=chunks, overlap=overlap, psf=psf)
    blocks = restored.to_delayed(optimize_graph=True)
    starts = [np.concatenate([[0], np.cumsum(c)[:-1]]).astype(int) for c in chunks]
    tasks = []
    for index in np.ndindex(*blocks.shape):
        start = tuple(int(starts[a][i]) for a, i in enumerate(index))
        stop = tuple(s + chunks[a][i] for a, (s, i) in enumerate(zip(start, index)))
        lacking = _count(job, target, start, stop)
        if lacking:
            task = dask.delayed(write_block, pure=False)(blocks[index], job.store, job.paths[0], start)
            tasks.append((f"{job.output} level 0 block {index}", task))
    return tasks


def _count(job: StoreJob, target: Any, start: tuple[int, ...], stop: tuple[int, ...]) -> int:
    """Storage chunks of a region, added to the job's totals; returns how many are missing."""
    lacking = omezarr.missing_chunks(target, job.store, start, stop)
    job.chunks_total += math.prod(-(-b // c) - a // c for a, b, c in zip(start, stop, target.chunks))
    job.chunks_missing += lacking
    return lacking


def write_block(data: np.ndarray, store: str, path: str, start: tuple[int, ...]) -> dict[str, Any]:
    """Write the storage chunks of a restored block that the store lacks (on the worker)."""
    array = omezarr.open_level(store, path)
    written, skipped = omezarr.write_missing(array, store, data, start)
    return {"written": written, "skipped": skipped, "pixels": int(np.prod(data.shape))}


def pyramid_tasks(job: StoreJob, level: int) -> list[tuple[str, Any]]:
    """Phase ``level``: regions of that level, each the area mean of the level above."""
    import dask

    target = omezarr.open_output(job.store)[job.paths[level]]
    factors = omezarr.level_factors(job.shapes[level - 1], job.shapes[level])
    region = [c if i < len(target.chunks) - 2 else max(c, PYRAMID_REGION // c * c)
              for i, c in enumerate(target.chunks)]
    tasks = []
    for index in np.ndindex(*[-(-n // r) for n, r in zip(target.shape, region)]):
        start = tuple(i * r for i, r in zip(index, region))
        stop = tuple(min(n, s + r) for n, s, r in zip(target.shape, start, region))
        if _count(job, target, start, stop):
            task = dask.delayed(downsample_region, pure=False)(job.store, job.paths[level - 1], job.paths[level],
                                                               start, stop, factors)
            tasks.append((f"{job.output} level {level} region {index}", task))
    return tasks


def downsample_region(store: str, upper: str, lower: str, start: tuple[int, ...], stop: tuple[int, ...],
                      factors: tuple[int, ...]) -> dict[str, Any]:
    """Read a region of level ``upper`` from the output store, reduce it, write ``lower``'s chunks."""
    source, target = omezarr.open_output(store)[upper], omezarr.open_level(store, lower)
    window = tuple(slice(s * f, min(n, e * f)) for s, e, f, n in zip(start, stop, factors, source.shape))
    block = omezarr.downsample(np.asarray(source[window]), factors, [e - s for s, e in zip(start, stop)])
    written, skipped = omezarr.write_missing(target, store, block, start)
    return {"written": written, "skipped": skipped, "pixels": 0}


def finish(job: StoreJob, note: str, seconds: float) -> dict[str, Any]:
    """Last phase (on a worker): mark the store complete, or stream the OME-TIFF into a staging
    folder; record its checksum; then rename it into place (`midnet.cluster.files` order)."""
    import os

    from midnet.cluster.manifest import temporary_dir

    outdir = Path(job.outdir)
    final = outdir / job.output
    staging = None
    if job.kind == "zarr":
        omezarr.mark_complete(job.store)
        made = final
    else:
        from midnet.io.ometiff import ome_metadata, write_ome_tiff

        group = omezarr.open_output(job.store)
        levels = [group[p] for p in job.paths]
        meta = ome_metadata(job.axes, job.scale, job.units, job.channel_names)
        staging = temporary_dir(outdir)
        made = write_ome_tiff(staging / final.name, levels, job.axes, metadata=meta, tile=STAGING_CHUNK,
                              software=note)
    try:
        record = Record(output=job.output, source=job.source, input_sha256=job.input_sha256,
                        output_sha256=checksum(made), settings=job.settings, megapixels=job.megapixels,
                        seconds=seconds, worker=worker_name())
        write_record(outdir, record)
        if staging is not None:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(made, final)
            shutil.rmtree(job.store, ignore_errors=True)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return {"status": "done", "record": asdict(record)}


def finish_task(job: StoreJob, note: str, started: float) -> Any:
    import dask

    return dask.delayed(finish, pure=False)(job, note, time.time() - started)
