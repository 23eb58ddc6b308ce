"""Where the tasks run: ``--cluster`` as a `dask.distributed` Client.

* no ``--cluster``: an in-process cluster (one worker, threads; no processes to start), so that
  a large image on one machine goes through the same tasks and resumes the same way;
* ``local`` / ``local:N``: a `distributed.LocalCluster` of N worker processes (default: one per
  GPU, else 2), one task at a time each, the CPU cores shared out between them;
* ``tcp://host:8786`` (or any scheduler address): an existing scheduler, e.g. one started by
  dask-jobqueue on SLURM or PBS (docs/cluster.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_LOCAL = re.compile(r"^local(?::(\d+))?$")


@dataclass(frozen=True)
class ClusterSpec:
    """A parsed ``--cluster`` value: ``kind`` is ``inprocess``, ``local`` or ``address``."""

    kind: str
    workers: int | None = None
    address: str | None = None


def parse_cluster(value: str | None) -> ClusterSpec:
    """``None`` | ``local`` | ``local:N`` | ``tcp://host:port``; a one-line ValueError otherwise."""
    if value is None:
        return ClusterSpec("inprocess", workers=1)
    text = value.strip()
    match = _LOCAL.match(text)
    if match:
        workers = int(match.group(1)) if match.group(1) else None
        if workers is not None and workers < 1:
            raise ValueError(f"--cluster {value}: a local cluster needs at least 1 worker (local:1)")
        return ClusterSpec("local", workers=workers)
    if "://" in text:
        return ClusterSpec("address", address=text)
    raise ValueError(f"--cluster {value}: expected local, local:N or a scheduler address such as tcp://host:8786")


def default_workers() -> int:
    """One worker per visible GPU, else 2 (each worker then gets half the cores)."""
    try:
        import torch

        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:
        gpus = 0
    return gpus or 2


def worker_environ() -> dict[str, Any]:
    """The environment Dask's nanny sets before it starts a worker, without ``MALLOC_TRIM_THRESHOLD_``.

    Why: Dask sets that variable so that workers hand freed memory back to the system at once.
    Setting it also turns off glibc's adaptive mmap threshold, so every tensor above 128 KiB is
    a fresh mapping that the kernel zero-fills page by page: a local worker restoring 512² frames
    spent as much time in the kernel as in the model. A worker holds one model pass at a time,
    and its memory is bounded by that pass, not by what it keeps.
    """
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environ


@contextmanager
def open_client(spec: ClusterSpec, *, threads: int = 2) -> Iterator[Any]:
    """A connected Client for ``spec`` (the local cluster it started is closed on exit)."""
    from distributed import Client, LocalCluster

    if spec.kind == "address":
        with Client(spec.address, timeout="30s") as client:
            yield client
        return
    if spec.kind == "inprocess":
        cluster = LocalCluster(n_workers=1, threads_per_worker=threads, processes=False,
                               dashboard_address=None, scheduler_kwargs={"dashboard": False})
    else:
        import dask

        with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ()}):
            cluster = LocalCluster(n_workers=spec.workers or default_workers(), threads_per_worker=1,
                                   processes=True, dashboard_address=":0")
    with cluster, Client(cluster) as client:
        yield client


def dashboard_link(client: Any) -> str | None:
    """The dashboard's URL, or None when the scheduler serves none (bokeh missing, in-process)."""
    try:
        link = client.dashboard_link
    except Exception:  # noqa: BLE001 - distributed raises KeyError without a dashboard
        return None
    scheduler = getattr(getattr(client, "cluster", None), "scheduler", None)
    if scheduler is not None and "dashboard" not in getattr(scheduler, "services", {}):
        return None
    return link


def worker_count(client: Any) -> int:
    return len(client.scheduler_info().get("workers", {}))
