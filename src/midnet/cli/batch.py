"""The loop of `midnet deblur`: restore a list of (source, output) files, pipelined, resumable and
safe to stop.

* Pipelined: the next file is read and the previous one written while the model computes (two
  helper threads; PyTorch, image codecs and file I/O release the GIL).
* Resumable: with ``skip_existing`` a file whose output exists is not restored again and is
  reported as skipped. An existing output is a complete one, because every output is written to
  a temporary name and renamed (`midnet.io.atomic`).
* Safe to stop: Ctrl-C (or SIGTERM, `midnet.cli.signals`) stops the loop; writes already
  handed to the writer finish, or remove their temporary file, before the exception leaves
  `run_batch`, and `BatchResult` says how many files are done. Temporary files left by a run
  that was killed outright are removed first (our own name pattern only, never a user's file).
* One bad file is reported in one line and never stops the batch.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midnet.cli.progress import BatchProgress
from midnet.cli.psf_option import psf_lines


@dataclass
class BatchResult:
    """How far a batch got; filled in while it runs, so that it is right after an interrupt too."""

    jobs: int = 0
    restored: int = 0
    skipped: int = 0
    megapixels: float = 0.0
    failed: list[str] = field(default_factory=list)
    removed_temporaries: list[Path] = field(default_factory=list)

    @property
    def done(self) -> int:
        """Files whose output is there: restored now, or skipped because it was already."""
        return self.restored + self.skipped


def plan_jobs(pairs: list[tuple[Path, Path]], outdir: Path,
              report: Callable[[Path, BaseException], None]) -> list[tuple[Path, Path]]:
    """(source, output path) per input; the same file named twice is one job, and two inputs
    that would write one output are an error for the second."""
    jobs: list[tuple[Path, Path]] = []
    seen: dict[Path, Path] = {}
    for src, rel in pairs:
        dst = outdir / rel
        if dst in seen and seen[dst].resolve() == src.resolve():
            continue  # the same file named twice (e.g. as a file and inside a folder)
        if dst in seen:
            report(src, ValueError(f"same output name as {seen[dst]}; restore them into separate folders"))
            continue
        seen[dst] = src
        jobs.append((src, dst))
    return jobs


def remove_stale_temporaries(jobs: list[tuple[Path, Path]]) -> list[Path]:
    """Delete what `midnet.io.atomic` left beside these outputs when a run was killed outright."""
    from midnet.io.atomic import stale_temp_files

    targets: dict[Path, set[str]] = defaultdict(set)
    for _src, dst in jobs:
        targets[dst.parent].add(dst.name)
    removed = []
    for folder, names in targets.items():
        for path in stale_temp_files(folder, names):
            try:
                os.unlink(path)
                removed.append(path)
            except OSError:
                pass  # gone meanwhile, or not ours to delete: it stays hidden and harmless
    return removed


def run_batch(deblurrer: Any, jobs: list[tuple[Path, Path]], *, databar: str | int, overwrite: bool,
              skip_existing: bool, progress: BatchProgress, result: BatchResult) -> None:
    """Restore every job into ``result``; failures are reported through ``progress`` and listed.

    A ``KeyboardInterrupt`` (Ctrl-C, or `midnet.cli.signals.Stopped`) propagates after the
    writes in flight have finished: ``result`` then counts what is on disk.
    """
    result.jobs = len(jobs)

    def report(src: Path, exc: BaseException) -> None:
        message = " ".join(str(exc).split())
        if not message.startswith(str(src)):
            message = f"{src}: {message}"
        progress.echo(f"error: {message}")
        progress.finished(src, "failed")
        result.failed.append(str(src))

    result.removed_temporaries += remove_stale_temporaries(jobs)
    for path in result.removed_temporaries:
        progress.echo(f"removed {path} (a temporary file of a run that was killed)")
    todo = []
    for src, dst in jobs:
        if skip_existing and dst.exists():
            progress.skipped(src, dst)
            result.skipped += 1
        else:
            todo.append((src, dst))

    writes: list[tuple[Path, Path, Future, float]] = []

    def settle(item: tuple[Path, Path, Future, float]) -> None:
        src, dst, future, size = item
        try:
            future.result()
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            report(src, exc)
            return
        result.restored += 1
        result.megapixels += size
        progress.finished(src, f"restored -> {dst}")

    try:
        with ThreadPoolExecutor(max_workers=1) as reader, ThreadPoolExecutor(max_workers=1) as writer:
            def read(index: int) -> Future | None:
                if index >= len(todo):
                    return None
                src, dst = todo[index]
                return reader.submit(deblurrer.read_file, src, dst, overwrite=overwrite)

            pending = read(0)
            try:
                for index, (src, dst) in enumerate(todo):
                    current, pending = pending, read(index + 1)
                    progress.start(index + result.skipped, src)
                    try:
                        image = current.result()
                        restored = deblurrer.restore_image(image, databar=databar, progress=progress.tiles)
                        if not progress.quiet:
                            for line in psf_lines(src, restored):
                                progress.echo(line)
                        size = sum(page.shape[0] * page.shape[1] for page in image.pages) / 1e6
                        writes.append((src, dst, writer.submit(deblurrer.write_file, restored, src, dst,
                                                               overwrite=overwrite), size))
                    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                        report(src, exc)
                    progress.restored()
                    for item in [w for w in writes if w[2].done()]:
                        writes.remove(item)
                        settle(item)
            except KeyboardInterrupt:
                if pending is not None:
                    pending.cancel()  # a read not yet started; one in progress only reads
                raise
            # leaving the executors waits for the writes in flight (also on an interrupt)
    finally:
        for item in writes:
            if item[2].done():
                settle(item)
