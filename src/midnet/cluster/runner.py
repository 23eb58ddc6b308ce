"""The driver's loop: submit files and chunk phases to Dask, follow them, keep the manifest, report.

Dask decides where and when each task runs, and reruns on another worker the tasks of a worker
that died (up to ``distributed.scheduler.allowed-failures`` times; a task that keeps killing
workers ends as a failure of its file). The loop only submits, in order, what depends on
what (a large image's pyramid after its full-resolution level) and records the results.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midnet.cluster import stores
from midnet.cluster.files import FileJob, restore_file
from midnet.cluster.loader import DeblurrerSpec
from midnet.cluster.manifest import Manifest, Record


@dataclass
class Summary:
    """What a run did, for the console line and for callers."""

    restored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    megapixels: float = 0.0
    seconds: float = 0.0
    chunks_written: int = 0
    chunks_skipped: int = 0
    chunks_planned: int = 0
    workers: int = 0
    dashboard: str | None = None
    interrupted: bool = False

    @property
    def rate(self) -> float:
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0

    def line(self, outdir: Path, model: str) -> str:
        total = len(self.restored) + len(self.skipped) + len(self.failed)
        text = (f"restored {len(self.restored)} of {total} input(s) into {outdir} with {model} in "
                f"{self.seconds:.1f} s: {self.megapixels:.2f} MP, {self.rate:.2f} MP/s on {self.workers} worker(s)")
        if self.skipped:
            text += f"; {len(self.skipped)} already done (skipped)"
        if self.chunks_planned:
            text += (f"; {self.chunks_written} chunk(s) written, "
                     f"{self.chunks_planned - self.chunks_written} already there")
        return text


@dataclass
class _Phase:
    """A large image between phases: its job, input and the futures of its current phase."""

    job: stores.StoreJob
    image: Any
    phase: int = 0
    left: int = 0
    started: float = field(default_factory=time.time)
    futures: list[Any] = field(default_factory=list)


Task = Callable[[DeblurrerSpec, FileJob], dict[str, Any]]


def run(client: Any, spec: DeblurrerSpec, files: list[FileJob], large: list[tuple[Path, str]], outdir: Path, *,
        databar: str | int = "auto", resume: bool = False, overwrite: bool = False, chunk: int | None = None,
        echo: Callable[[str], None] = print, task: Task = restore_file) -> Summary:
    """Restore ``files`` (one task each) and ``large`` images (chunk tasks) on ``client``.

    Results go to ``outdir`` and its manifest. ``task`` is the file task (tests wrap it).
    On Ctrl-C the pending tasks are cancelled and the summary says what was done
    (``interrupted``); what was written stays, and a rerun (``--resume``) completes it.
    """
    from distributed import as_completed

    start = time.perf_counter()
    deblurrer = spec.load()
    note = deblurrer.processing_note()
    summary = Summary(workers=_workers(client))
    manifest = Manifest(outdir, deblurrer.model_name, spec.settings())
    pending = as_completed()
    submitted: list[Any] = []
    owner: dict[str, tuple[str, Any, str]] = {}
    token = uuid.uuid4().hex[:8]

    def accept(result: dict[str, Any]) -> None:
        record = Record(**result["record"])
        manifest.add(record)
        if result["status"] == "skipped":
            summary.skipped.append(record.source)
            echo(f"done before, skipped: {record.source}")
        else:
            summary.restored.append(record.source)
            summary.megapixels += record.megapixels
            echo(f"restored {record.source} -> {record.output} ({record.megapixels:.2f} MP, "
                 f"{record.seconds:.1f} s, {record.worker})")
        manifest.save(force=False)

    def fail(source: str, exc: BaseException) -> None:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if not message.startswith(source):
            message = f"{source}: {message}"
        summary.failed[source] = message
        manifest.fail(source, message)
        echo(f"error: {message}")
        manifest.save(force=False)

    def submit_phase(state: _Phase) -> None:
        job = state.job
        while True:
            levels = len(job.paths)
            before = job.chunks_total
            if state.phase == 0:
                tasks = stores.restore_tasks(job, state.image, deblurrer, psf=spec.psf, chunk=chunk)
                if job.chunks_missing < job.chunks_total:
                    echo(f"{job.output}: {job.chunks_total - job.chunks_missing} of {job.chunks_total} "
                         "full-resolution chunks already there (resuming)")
            elif state.phase < levels:
                tasks = stores.pyramid_tasks(job, state.phase)
            elif state.phase == levels:
                tasks = [(f"{job.output} finish", stores.finish_task(job, note, state.started))]
            else:
                return
            summary.chunks_planned += job.chunks_total - before
            if tasks:
                break
            state.phase += 1
        futures = client.compute([t for _, t in tasks])
        state.left, state.futures = len(futures), futures
        for (label, _), future in zip(tasks, futures):
            owner[future.key] = ("chunk", state, label)
            pending.add(future)
            submitted.append(future)

    for index, job in enumerate(files):
        future = client.submit(task, spec, job, key=f"midnet-file-{token}-{index}", pure=False)
        owner[future.key] = ("file", job, job.source)
        pending.add(future)
        submitted.append(future)
    for source, output in large:
        try:
            prepared = stores.prepare(source, output, outdir, settings=spec.settings(), note=note,
                                      resume=resume, overwrite=overwrite)
            if isinstance(prepared, dict):
                accept(prepared)
                continue
            state = _Phase(job=prepared[0], image=prepared[1])
            submit_phase(state)
        except Exception as exc:  # noqa: BLE001 - one bad image must not stop the batch
            fail(str(source), exc)

    try:
        for future in pending:
            kind, item, label = owner.pop(future.key)
            if kind == "file":
                try:
                    accept(future.result())
                except Exception as exc:  # noqa: BLE001
                    fail(item.source, exc)
                continue
            state: _Phase = item
            if state.job.source in summary.failed:
                continue
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001
                fail(state.job.source, exc)
                client.cancel([f for f in state.futures if not f.done()])
                continue
            if "record" in result:
                accept(result)
                continue
            summary.chunks_written += result["written"]
            summary.chunks_skipped += result["skipped"]
            state.left -= 1
            if result["written"]:
                echo(f"{label}: {result['written']} chunk(s) written ({state.left} task(s) left in this phase)")
            if state.left == 0:
                state.phase += 1
                try:
                    submit_phase(state)
                except Exception as exc:  # noqa: BLE001
                    fail(state.job.source, exc)
    except KeyboardInterrupt:
        summary.interrupted = True
        client.cancel([f for f in submitted if not f.done()])
    finally:
        summary.seconds = time.perf_counter() - start
        manifest.save()
    return summary


def _workers(client: Any) -> int:
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:  # noqa: BLE001
        return 0
