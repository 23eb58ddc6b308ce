"""Ahead-of-time compiled models, cached on disk so that only the first run pays for compiling.

Why AOTInductor (``torch.export`` + ``aoti_compile_and_package``) rather than a plain
``torch.compile``: both fuse NAFNet's many small element-wise operations (LayerNorm2d,
SimpleGate, channel attention) into a few loops, which on a CPU is 2-3.5x faster than eager
execution (benchmarks/inference_throughput.py, docs/results/speed-cpu.md). But a
``torch.compile``'d module re-traces the model with Dynamo in every new process (seconds), while
an AOTInductor package is a shared library that a new process only loads (well under a second,
without importing the compiler stack). One package serves every image size: it is exported with
a dynamic batch and dynamic height/width that are multiples of the model's ``align``
(`midnet.inference.tiling.model_alignment`), which `tiled_inference` guarantees by padding.

Cache: ``$MIDNET_CACHE_DIR`` or ``$XDG_CACHE_HOME/midnet`` (``~/.cache/midnet``), sub-folder
``compiled/``. The key hashes the weights, the module structure (so TLC windows count), the
torch version, the device and the CPU's instruction-set flags, so a stale or foreign package is
never loaded; a package that fails to load is compiled again. Compiling needs a C++ compiler;
without one (or on any failure) the caller falls back to eager execution with one warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

#: the largest image side (px, after padding) one package accepts
MAX_SIDE = 16384
#: the largest batch of tiles one package accepts
MAX_BATCH = 64


def cache_dir() -> Path:
    """Where compiled packages live (created on first write)."""
    root = os.environ.get("MIDNET_CACHE_DIR")
    if root:
        return Path(root) / "compiled"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "midnet" / "compiled"


def _cpu_flags() -> str:
    """The CPU's feature flags: a package compiled for AVX-512 must not run on an AVX2 machine."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def model_key(model: nn.Module, device: torch.device, in_channels: int, align: int) -> str:
    """A hash of everything the compiled code depends on."""
    h = hashlib.sha256()
    for part in (torch.__version__, str(device.type), platform.machine(), _cpu_flags(), repr(model),
                 str(in_channels), str(align), str(MAX_SIDE), str(MAX_BATCH)):
        h.update(part.encode())
        h.update(b"\0")
    if device.type == "cuda":
        h.update(torch.cuda.get_device_name(device).encode())
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode() + str(tensor.dtype).encode())
        h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:32]


def package_path(model: nn.Module, device: torch.device, in_channels: int, align: int) -> Path:
    name = getattr(model, "midnet_name", type(model).__name__)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))
    return cache_dir() / f"{safe}-{model_key(model, device, in_channels, align)}.pt2"


def is_cached(model: nn.Module, device: torch.device, in_channels: int, align: int) -> bool:
    return package_path(model, device, in_channels, align).is_file()


def _load(path: Path, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """Load a package without importing torch._inductor where possible (it costs ~1 s)."""
    index = device.index if device.index is not None else (0 if device.type == "cuda" else -1)
    try:
        loader = torch._C._aoti.AOTIModelPackageLoader(str(path), "model", False, 1, index)

        def run(x: torch.Tensor) -> torch.Tensor:
            return loader.boxed_run([x.contiguous()])[0]
    except (AttributeError, TypeError):  # the private loader changed: use the public entry
        from torch._inductor import aoti_load_package

        package = aoti_load_package(str(path))

        def run(x: torch.Tensor) -> torch.Tensor:
            return package(x.contiguous())
    return run


def _compile(model: nn.Module, path: Path, device: torch.device, in_channels: int, align: int) -> None:
    from torch.export import Dim

    batch = Dim("batch", min=1, max=MAX_BATCH)
    rows = Dim("rows", min=1, max=MAX_SIDE // align)
    cols = Dim("cols", min=1, max=MAX_SIDE // align)
    example = torch.rand(2, in_channels, 4 * align, 4 * align, device=device)
    with torch.no_grad():
        exported = torch.export.export(model, (example,),
                                       dynamic_shapes=({0: batch, 2: align * rows, 3: align * cols},))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".pt2", dir=path.parent)
        os.close(fd)
        try:
            torch._inductor.aoti_compile_and_package(exported, package_path=tmp)
            os.replace(tmp, path)  # atomic: a concurrent run never sees half a package
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def compiled_forward(model: nn.Module, device: torch.device, in_channels: int, align: int,
                     *, compile_if_missing: bool = True,
                     notify: Callable[[str], None] | None = None
                     ) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """A function equal to ``model`` (within float rounding) for (N, C, k*align, l*align) inputs.

    Loads the cached package, or compiles one (``compile_if_missing``; a minute or two on a
    2-core CPU, announced through ``notify``). Returns ``None`` when neither works; the caller
    then runs the model eagerly.
    """
    try:
        path = package_path(model, device, in_channels, align)
        if path.is_file():
            try:
                return _load(path, device)
            except Exception as exc:  # noqa: BLE001 - a damaged package is rebuilt below
                log.warning("compiled model %s does not load (%s); compiling it again", path, exc)
        if not compile_if_missing:
            return None
        (notify or log.warning)(f"compiling the model for this machine once (can take a few minutes); cached in {path.parent}")
        _compile(model, path, device, in_channels, align)
        return _load(path, device)
    except Exception as exc:  # noqa: BLE001 - any compiler problem: eager still works
        log.warning("compiled execution unavailable (%s: %s); running the model eagerly",
                    type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return None
