"""``midnet deblur --cluster ...`` and large images: the Dask path of the deblur command.

`midnet deblur` hands its inputs here when ``--cluster`` or ``--resume`` is given, or when an
input is an OME-Zarr store or a large TIFF (a pyramid, or a plane of 8192² px or more): each
file is a task, each large image a set of chunk tasks (`midnet.cluster`). The console prints the
dashboard link, one line per finished file or chunk task, and a summary (files, megapixels,
seconds, MP/s, failures by name). Exit codes as the serial path: 2 usage, 1 any failure; and
130 when interrupted (what was written stays; ``--resume`` completes it).

This module imports neither Dask nor torch at import time: ``midnet deblur --help`` stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

F = Callable[..., Any]
#: a TIFF at least this large on disk (or named .ome.tif) is opened to see whether it is large
_SNIFF_BYTES = 16 << 20


def cluster_options() -> Callable[[F], F]:
    """``--cluster`` and ``--resume`` (declared here, so deblur.py only names them)."""
    cluster = click.option("--cluster", default=None, metavar="local[:N]|tcp://HOST:PORT",
                           help="Run files and chunks of large images as Dask tasks: local[:N] starts N worker "
                                "processes (default: one per GPU, else 2); an address joins a running scheduler.")
    resume = click.option("--resume", is_flag=True,
                          help="Complete the output store of an interrupted run of a large image (OME-Zarr, "
                               "big TIFF): only missing chunks are restored.")

    chunk = click.option("--chunk", type=click.IntRange(min=16), default=None, metavar="PX",
                         help="Side of the blocks a large image is restored in, rounded to its store's chunks "
                              "[default: as large as one model pass of the memory budget].")

    def apply(f: F) -> F:
        return cluster(resume(chunk(f)))
    return apply


def _might_be_large_tiff(path: Path) -> bool:
    name = path.name.lower()
    if not name.endswith((".tif", ".tiff")):
        return False
    try:
        return name.endswith((".ome.tif", ".ome.tiff")) or path.stat().st_size >= _SNIFF_BYTES
    except OSError:
        return False


def _is_store(path: Path) -> bool:
    from midnet.io.omezarr import is_ome_zarr

    return is_ome_zarr(path)


def _stores_in(folder: Path, recursive: bool) -> list[Path]:
    """OME-Zarr stores inside a folder (not descending into stores)."""
    found, queue = [], [folder]
    while queue:
        current = queue.pop()
        for child in sorted(current.iterdir()):
            if child.is_dir() and not child.name.startswith("."):
                if _is_store(child):
                    found.append(child)
                elif recursive:
                    queue.append(child)
    return sorted(found)


def needs_cluster_path(inputs: tuple[str, ...], recursive: bool) -> bool:
    """Whether any input is an OME-Zarr store (or holds one) or a large TIFF file."""
    from midnet.io.ometiff import is_large_tiff

    for item in inputs:
        path = Path(item)
        if path.is_dir() and (_is_store(path) or _stores_in(path, recursive)):
            return True
        files = [path] if path.is_file() else []
        if path.is_dir():
            files = [f for f in (path.rglob("*") if recursive else path.iterdir()) if f.is_file()]
        if any(_might_be_large_tiff(f) and is_large_tiff(f) for f in files):
            return True
    return False


def split_inputs(inputs: tuple[str, ...], recursive: bool, outdir: Path, collect: Callable[..., Any],
                 skipped: list[Path]) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]], list[str]]:
    """(ordinary files, large images with their output names, one-line errors)."""
    from midnet.io.ometiff import is_large_tiff

    large: list[tuple[Path, str]] = []
    rest: list[str] = []
    store_folders: set[str] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir() and _is_store(path):
            large.append((path, path.name))
            continue
        if path.is_dir():
            inside = _stores_in(path, recursive)
            large.extend((s, s.relative_to(path).as_posix()) for s in inside)
            if inside:
                store_folders.add(item)
        rest.append(item)
    pairs, errors = collect(tuple(rest), recursive, outdir, skipped) if rest else ([], [])
    errors = [e for e in errors if not any(e.startswith(f"{f}: folder") for f in store_folders)]
    files = []
    for src, rel in pairs:
        if _might_be_large_tiff(src) and is_large_tiff(src):
            large.append((src, rel.as_posix()))
        else:
            files.append((src, rel))
    return files, large, errors


def run_cluster(inputs: tuple[str, ...], outdir: Path, *, cluster: str | None, resume: bool, chunk: int | None,
                recursive: bool,
                overwrite: bool, quiet: bool, verbose: bool, databar: str | int, model: str | None, device: str,
                backend: str, tile: int | None, tlc: int | None, overlap: int | None, batch_size: int | None,
                psf: str | None, collect: Callable[..., Any], check_output: Callable[[Path], str | None],
                noise: float | None = None) -> int:
    """Run the deblur command on Dask; returns the exit code (usage errors exit 2 here)."""
    try:
        from midnet.cluster import client as clients
        from midnet.cluster.files import FileJob
        from midnet.cluster.loader import DeblurrerSpec, cpu_threads
        from midnet.cluster.runner import run
    except ImportError as exc:
        raise click.UsageError(f"--cluster and large images need the cluster extra ({exc.name} is missing); "
                               "pip install 'midnet[cluster]'") from None
    start = time.perf_counter()
    try:
        where = clients.parse_cluster(cluster)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    skipped: list[Path] = []
    files, large, errors = split_inputs(inputs, recursive, outdir, collect, skipped)
    if not files and not large:
        raise click.UsageError("; ".join(errors) or "no image files or OME-Zarr stores among the inputs")
    problem = check_output(outdir)
    if problem:
        raise click.UsageError(problem)
    workers = where.workers or (clients.default_workers() if where.kind == "local" else 1)
    threads = cpu_threads(workers) if where.kind == "local" else None
    spec = DeblurrerSpec(model=model, device=device, tile=tile, overlap=overlap, batch_size=batch_size,
                         tlc=tlc, backend="eager" if backend == "eager" else "auto", psf=psf, noise=noise,
                         threads=threads)
    try:
        spec.load()  # a bad model is a usage error here, before any worker starts
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise click.UsageError(" ".join(str(exc).split())) from None
    echo = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    for message in errors:
        click.echo(f"error: {message}", err=True)
    jobs = [FileJob(source=str(src), output=rel.as_posix(), outdir=str(outdir), databar=databar, overwrite=overwrite)
            for src, rel in files]
    outdir.mkdir(parents=True, exist_ok=True)
    interrupted = False
    summary = None
    try:
        with clients.open_client(where) as client:
            link = clients.dashboard_link(client)
            if link and not quiet and where.kind != "inprocess":
                click.echo(f"dashboard: {link}", err=True)
            summary = run(client, spec, jobs, large, outdir, databar=databar, resume=resume, overwrite=overwrite,
                          chunk=chunk, echo=echo)
            summary.dashboard = link
            interrupted = summary.interrupted
    except KeyboardInterrupt:
        interrupted = True
    if summary is None:
        click.echo("interrupted before any result; rerun the same command (with --resume for large images)",
                   err=True)
        return 130
    summary.seconds = time.perf_counter() - start
    model_name = spec.load().model_name
    if not quiet:
        click.echo(summary.line(outdir, model_name))
    if verbose:
        for path in skipped:
            click.echo(f"skipped (not an image type): {path}", err=True)
    failed = [message.split(":")[0] for message in errors] + sorted(summary.failed)
    if interrupted:
        click.echo("interrupted: what was written is kept; rerun with --resume to restore only what is missing",
                   err=True)
        return 130
    if failed:
        click.echo(f"{len(failed)} failed: {', '.join(failed)}", err=True)
        return 1
    return 0
