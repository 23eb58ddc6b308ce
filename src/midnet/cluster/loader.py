"""The model, loaded once per worker process: a small picklable spec and a per-process cache.

Why not ship the model with every task: a task message would carry megabytes of weights and
every task would rebuild the network. Tasks carry a `DeblurrerSpec` (a model name or path and
the Deblurrer's settings); `DeblurrerSpec.load` builds the Deblurrer the first time a process
needs it and returns the same one afterwards. A CUDA worker takes the GPU its worker index
selects (`worker_device`): run one worker per GPU (``--cluster local:N`` on an N-GPU machine,
or one GPU per dask-jobqueue job).
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass
from typing import Any

_cache: dict[DeblurrerSpec, Any] = {}
_lock = threading.Lock()
#: how many Deblurrers this process has built (one per spec; a test and the curious read it)
builds = 0


@dataclass(frozen=True)
class DeblurrerSpec:
    """What a worker needs to build the Deblurrer the driver would: model and settings."""

    model: str | None = None
    device: str = "auto"
    tile: int | None = None
    overlap: int | None = None
    batch_size: int | None = None
    tlc: int | None = None  # as --tlc: None the model's training crop, 0 off, N a crop size
    backend: str = "auto"
    psf: str | None = None
    #: the noise σ the user gave (grey levels), None: estimated
    noise: float | None = None
    #: intra-op threads of a CPU worker (None: leave torch's default)
    threads: int | None = None

    def load(self) -> Any:
        """This process's Deblurrer for the spec (built on first use, then cached)."""
        global builds
        with _lock:
            deblurrer = _cache.get(self)
            if deblurrer is None:
                deblurrer = _cache[self] = self._build()
                builds += 1
            return deblurrer

    def _build(self) -> Any:
        import torch

        from midnet.inference.deblurrer import Deblurrer

        if self.threads:
            torch.set_num_threads(self.threads)
        deblurrer = Deblurrer.from_pretrained(self.model, device=worker_device(self.device), tile=self.tile,
                                              overlap=self.overlap, batch_size=self.batch_size,
                                              tlc=True if self.tlc is None else (self.tlc or False), backend=self.backend, psf=self.psf,
                                              noise=self.noise)
        deblurrer.cluster_spec = self  # a blockwise graph then sends the spec, not the weights
        # as the serial deblur does for small jobs: a compiled model only when one is cached (or
        # asked for), so that no worker spends its first minute compiling
        deblurrer.prepare(compile_if_missing=self.backend == "compiled")
        return deblurrer

    def settings(self) -> dict[str, Any]:
        """What decides the result (recorded in the manifest; threads and device do not)."""
        values = asdict(self)
        for key in ("threads", "device", "backend", "batch_size"):
            values.pop(key)
        values["model"] = self.load().model_name  # the name the default resolved to
        return values


def worker_index() -> int | None:
    """This process's local worker index (LocalCluster names workers 0, 1, ...), or None."""
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except (ImportError, ValueError):
        return None
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def worker_device(device: str) -> str:
    """``cuda:k`` for worker k of several on a multi-GPU host; otherwise ``device`` unchanged.

    ``CUDA_VISIBLE_DEVICES`` set per worker (dask-jobqueue with one GPU per job) leaves one
    visible GPU, which every worker then uses as ``cuda``.
    """
    if device not in ("auto", "cuda"):
        return device
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = worker_index()
    if count > 1 and index is not None:
        return f"cuda:{index % count}"
    return device


def cpu_threads(workers: int) -> int:
    """Intra-op threads per CPU worker so that ``workers`` processes share the cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))
