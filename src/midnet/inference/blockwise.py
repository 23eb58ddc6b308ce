"""Blockwise restoration as a lazy Dask array: images larger than memory, chunk by chunk.

Why Dask: a 16k² mosaic or a 100k² slide does not fit a model pass (nor, at 100k², memory).
``dask.array.map_overlap`` cuts it into chunks, hands each chunk to the model with a margin of
its neighbours' pixels, and keeps only the chunk's own pixels of the result; the same graph runs
on the threaded scheduler, on a `dask.distributed` cluster, or lazily in napari/dask-image.

Why the margin is measured (`receptive_radius`): a restored pixel equals the whole-image result
when every input pixel that still changes it lies inside its block. That distance is the
model's dependency radius, measured once per `Deblurrer` on a hard-edged random probe image:
the smallest context (on the model's grid) from which the probe's centre, restored from a crop,
stays within ``tol`` of its whole-image result (`CropProbe`). Forward passes only: the
input-gradient map this replaced cost 3-4 GiB of autograd memory on a 1,024² probe, more than the
blockwise run it was planning. Global channel attention (a mean over the whole input, NAFNet's
SCA) is replayed from the whole image in that measurement: its effect is spread over the entire
image, no margin captures it, and it is what TLC (`Deblurrer(tlc=...)`) replaces by a local
window; a local window is *not* replayed, so with TLC the radius includes it. The probe grows
with the window, so the overlap stays right whatever the Deblurrer's default becomes.

Why chunks start on the model's grid: a U-Net downsampling ``levels`` times computes the same
thing on a block as on the image only when the block starts on its 2**levels grid
(`midnet.inference.tiling.tile_spans`); blocks are cropped on the left to the grid, and the
margin is one grid step wider when chunk starts are not on it.

Memory: one block (chunk + 2 margins) per model call, at most one model call at a time per
Deblurrer (a lock), so a worker holds one block's activations whatever its thread count.
"""

from __future__ import annotations

import io
import itertools
import math
import threading
import uuid
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:  # dask is an optional dependency (the ``cluster`` extra)
    import dask.array as da

    Deblurrer = Any  # `midnet.inference.deblurrer.Deblurrer`, which imports this module

#: the most a restored pixel may change when its block's context ends at the margin (0.2 grey
#: levels of an 8-bit image)
RADIUS_TOL = 0.2 / 255
#: the largest chunk side the plan chooses (smaller tasks balance better across workers)
MAX_CHUNK = 4096
#: the largest probe side the radius measurement grows to
MAX_PROBE = 2048

_radius_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# -- the dependency radius ------------------------------------------------------------------


def local_window(model: nn.Module) -> int:
    """Side in input pixels of the model's local channel-attention window (TLC), 0 when none.

    `midnet.models.tlc.LocalAvgPool2d` averages over ``base_size`` input pixels at every level
    (its kernel is scaled to each level's resolution), so ``base_size`` is the window.
    """
    sides = [max(getattr(m, "base_size")) for m in model.modules()
             if isinstance(getattr(m, "base_size", None), tuple)]
    return max(sides, default=0)


def _pin_global_pools(model: nn.Module, recorded: list[torch.Tensor], replay: bool) -> list[Any]:
    """Forward hooks on every global average pool: record its outputs in call order, or replay
    them, so that a crop sees the whole image's global statistics (they count as constants)."""
    calls = itertools.count()

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> torch.Tensor:
        if replay:
            return recorded[next(calls)]
        recorded.append(output.detach())
        return output

    return [m.register_forward_hook(hook) for m in model.modules()
            if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1))]


def _probe_image(in_channels: int, probe: int, seed: int) -> torch.Tensor:
    """Random 8 px squares of full contrast: hard edges everywhere.

    Why this content: how far the context reaches depends on the image. Of a smooth, a
    thresholded and this blocky probe, the blocky one needs the widest margin (176-192 px for
    the bundled model with TLC, against 48-80 for the smooth one, which left seams of 6 grey
    levels on a real frame), so it stands in for the worst specimen.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(1, in_channels, -(-probe // 8), -(-probe // 8), generator=gen)
    return torch.nn.functional.interpolate(x, scale_factor=8, mode="nearest")[..., :probe, :probe]


class CropProbe:
    """How much the centre of a hard-edged random ``probe``² image changes when it is restored from
    a crop with ``radius`` px of context on every side instead of from the whole image.

    Forward passes only (no autograd): the measurement costs no more memory than restoring the
    probe, where a gradient map of the same probe needed 3-4 GiB. Global average pools replay
    the whole image's values in the crop (see the module docstring).
    """

    def __init__(self, model: nn.Module, in_channels: int, probe: int, align: int, seed: int = 0) -> None:
        param = next(model.parameters(), None)
        self.device = param.device if param is not None else torch.device("cpu")
        self.model, self.align, self.probe = model, align, probe
        self.centre = probe // 2 // align * align
        self.x = _probe_image(in_channels, probe, seed).to(self.device)
        self.pools: list[torch.Tensor] = []
        self.whole = self._run(self.x, replay=False)[..., self.centre:self.centre + align,
                                                      self.centre:self.centre + align]

    @property
    def widest(self) -> int:
        """The widest context (on the grid) a crop around the centre can have inside the probe."""
        return min(self.centre, self.probe - self.centre - self.align) // self.align * self.align

    def _run(self, x: torch.Tensor, replay: bool) -> torch.Tensor:
        hooks = _pin_global_pools(self.model, self.pools, replay)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                return self.model(x)
        finally:
            self.model.train(was_training)
            for hook in hooks:
                hook.remove()

    def change(self, radius: int) -> float:
        """Largest |crop - whole| over the centre's ``align``² patch, in [0, 1] units."""
        lo, hi = self.centre - radius, self.centre + self.align + radius
        if lo < 0 or hi > self.probe:
            raise ValueError(f"radius {radius} does not fit the {self.probe} px probe")
        out = self._run(self.x[..., lo:hi, lo:hi], replay=True)[..., radius:radius + self.align,
                                                                  radius:radius + self.align]
        return float((out - self.whole).abs().max())


def smallest_radius(probe: CropProbe, tol: float) -> int | None:
    """Smallest radius on the model's grid from which every wider crop changes the centre by at
    most ``tol``, or None when even the widest crop the probe allows changes it more.

    Scanned from the widest down to the first crop that fails: the change does not fall
    monotonically with the context (a bisection stopped on a lucky radius).
    """
    step = probe.align
    if probe.change(probe.widest) > tol:
        return None
    radius = probe.widest
    while radius - step >= 0 and probe.change(radius - step) <= tol:
        radius -= step
    return radius


def receptive_radius(deblurrer: Deblurrer, *, tol: float = RADIUS_TOL) -> int:
    """The Deblurrer's measured dependency radius in pixels (cached per Deblurrer and ``tol``).

    The probe starts at twice the local window plus 256 px (on the model's grid) and doubles
    until the radius is four grid steps inside its widest crop, so that a band of wider crops
    confirms it (or ``MAX_PROBE``, whose half is then the answer).
    """
    cache = _radius_cache.setdefault(deblurrer, {})
    key = (tol, local_window(deblurrer.model))
    if key in cache:
        return cache[key]
    align = deblurrer.align
    size = _round_up(2 * key[1] + 256, align)
    while True:
        probe = CropProbe(deblurrer.model, deblurrer.in_channels, size, align)
        radius = smallest_radius(probe, tol)
        if radius is not None and radius <= probe.widest - 4 * align:  # a band of wider crops agrees
            break
        if size >= MAX_PROBE:
            radius = size // 2
            break
        size = min(MAX_PROBE, 2 * size)
    cache[key] = radius
    return radius


def block_overlap(deblurrer: Deblurrer) -> int:
    """Margin each block gets on every side: the measured radius on the model's grid, and at
    least the context an in-memory tile reads (`Deblurrer.context`, measured on real frames),
    so that blocks and tiles agree with the whole image by the same rule.

    An explicit ``Deblurrer(overlap=...)`` wins, as it does for in-memory tiles.
    """
    if deblurrer.overlap is not None:
        return _round_up(deblurrer.overlap, deblurrer.align)
    radius = _round_up(receptive_radius(deblurrer), deblurrer.align)
    return max(deblurrer.align, radius, deblurrer.context())


# -- the chunk plan ------------------------------------------------------------------------


def _round_up(value: int, step: int) -> int:
    return -(-int(value) // step) * step


def split_axis(length: int, chunk: int, min_last: int) -> tuple[int, ...]:
    """Chunks of ``chunk`` covering ``length``; a last chunk shorter than ``min_last`` joins the
    one before it (a block margin must not exceed its neighbour, and chunk starts stay put)."""
    if length <= chunk:
        return (length,)
    sizes = [chunk] * (length // chunk)
    rest = length - sum(sizes)
    if rest:
        if rest < min_last:
            sizes[-1] += rest
        else:
            sizes.append(rest)
    return tuple(sizes)


def chunk_side(deblurrer: Deblurrer, overlap: int, storage: int | None = None) -> int:
    """Chunk side whose block (chunk + 2 margins) fits one model pass of the memory budget.

    A multiple of the storage chunk when given (each output chunk is then written by one
    task), else of the model's grid; at least twice the margin, at most ``MAX_CHUNK``.
    """
    side = int(math.sqrt(deblurrer.pixels_per_pass())) - 2 * overlap
    side = min(MAX_CHUNK, max(2 * overlap, side, deblurrer.align))
    step = storage or deblurrer.align
    return max(step, side // step * step)


def plan_chunks(shape: Sequence[int], deblurrer: Deblurrer, *, overlap: int | None = None,
                storage: Sequence[int] | None = None, chunk: int | None = None) -> tuple[tuple[int, ...], ...]:
    """Dask chunks for an (..., Y, X) array: leading axes one plane a chunk, Y/X by `chunk_side`.

    ``storage`` (the store's chunks, same rank) makes compute chunks whole multiples of the
    store's in Y and X, and keeps the store's chunking of the leading axes.
    """
    overlap = block_overlap(deblurrer) if overlap is None else overlap
    lead = tuple(shape[:-2])
    if storage is not None:
        lead_chunks = tuple(split_axis(n, s, 1) for n, s in zip(lead, storage[:-2]))
    else:
        lead_chunks = tuple((1,) * n for n in lead)
    spatial = []
    for axis in (-2, -1):
        store = storage[axis] if storage is not None else None
        side = chunk or chunk_side(deblurrer, overlap, store)
        side = max(side, overlap)  # a block's margin comes from its neighbours only
        if store and side % store:
            side = _round_up(side, store) if side < store or side < overlap else side // store * store
        spatial.append(split_axis(shape[axis], side, overlap + 1))
    return lead_chunks + tuple(spatial)


# -- restoring -----------------------------------------------------------------------------


class DeblurrerRef:
    """The Deblurrer a Dask graph calls: itself in this process, rebuilt once per process elsewhere.

    Pickled (for a `dask.distributed` worker) it carries the model (TLC state included) and
    the Deblurrer's settings under a token, and each worker process builds one Deblurrer per
    token. Its device type is kept; a CUDA worker uses the GPU its worker name selects (one
    worker per GPU, see `midnet.cluster.loader.worker_device`).
    """

    _built: dict[str, Deblurrer] = {}
    _build_lock = threading.Lock()

    def __init__(self, deblurrer: Deblurrer, token: str | None = None) -> None:
        self.deblurrer = deblurrer
        self.token = token or uuid.uuid4().hex
        self.lock = _model_lock(deblurrer)

    def __dask_tokenize__(self) -> str:
        return self.token

    @classmethod
    def of(cls, deblurrer: Deblurrer) -> DeblurrerRef:
        """The one reference of ``deblurrer`` (a stable token: one rebuild per worker process)."""
        with _locks_guard:
            ref = _refs.get(deblurrer)
            if ref is None:
                ref = _refs[deblurrer] = cls(deblurrer)
            return ref

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        d = self.deblurrer
        spec = getattr(d, "cluster_spec", None)
        if spec is not None:  # a loader the workers share (`midnet.cluster.loader`): send only it
            return _ref_from_spec, (self.token, spec)
        buffer = io.BytesIO()
        torch.save(d.model.cpu() if d.device.type == "cpu" else _cpu_copy(d.model), buffer)
        settings = {"device": d.device.type, "tile": d.tile, "overlap": d.overlap,
                    "batch_size": d.batch_size, "model_name": d.model_name, "backend": d.backend,
                    "tlc": d.tlc_size or False}  # the same window again, not the Deblurrer's default
        return _rebuild_ref, (self.token, type(d), buffer.getvalue(), settings)


def _cpu_copy(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).cpu()


def _rebuild_ref(token: str, cls: type, payload: bytes, settings: dict[str, Any]) -> DeblurrerRef:
    """Unpickle side of `DeblurrerRef`: one Deblurrer (of class ``cls``) per token and process."""
    with DeblurrerRef._build_lock:
        built = DeblurrerRef._built.get(token)
        if built is None:
            model = torch.load(io.BytesIO(payload), weights_only=False, map_location="cpu")
            device = settings.pop("device")
            if device == "cuda":
                device = _worker_cuda_device()
            built = cls(model, device=device, _owned=True, **settings)
            DeblurrerRef._built[token] = built
    return DeblurrerRef(built, token)


def _ref_from_spec(token: str, spec: Any) -> DeblurrerRef:
    """Unpickle side of a `DeblurrerRef` that carries a loader spec (``spec.load()`` is cached)."""
    return DeblurrerRef(spec.load(), token)


def _worker_cuda_device() -> str:
    """``cuda:k`` for the k-th local worker when several GPUs are visible, else ``cuda``."""
    count = torch.cuda.device_count()
    if count <= 1:
        return "cuda"
    try:
        from distributed import get_worker

        name = get_worker().name
        index = int(str(name).rsplit("-", 1)[-1])
    except (ImportError, ValueError):
        return "cuda"
    return f"cuda:{index % count}"


_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_refs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_locks_guard = threading.RLock()


def _model_lock(deblurrer: Deblurrer) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(deblurrer)
        if lock is None:
            lock = _locks[deblurrer] = threading.Lock()
        return lock


def value_scaling(dtype: np.dtype, value_range: tuple[float, float] | None,
                  max_value: int | None) -> tuple[float, float] | None:
    """(lo, hi) to scale blocks by, or None where the Deblurrer's own per-dtype rule is global.

    uint8/uint16 (and ``max_value``) and floats already in [0, 1] are scaled by a fixed range in
    `Deblurrer.__call__`; other dtypes need the image's global range, which a block cannot see.
    """
    if dtype in (np.uint8, np.uint16):
        return None
    if value_range is None:
        raise ValueError(f"a {dtype} array needs value_range=(lo, hi) (its global minimum and maximum) "
                         "to be restored blockwise; pass it, or convert to uint8/uint16")
    return float(value_range[0]), float(value_range[1])


def _restore_block(block: np.ndarray, *, ref: DeblurrerRef, grid: tuple[tuple[int, ...], ...],
                   overlap: int, scaling: tuple[float, float] | None, max_value: int | None,
                   psf: Any = None, block_info: dict | None = None) -> np.ndarray:
    """One block with its margins -> the chunk's restored pixels (plane by plane)."""
    location = block_info[0]["chunk-location"]
    deblurrer, align = ref.deblurrer, ref.deblurrer.align
    cuts = []
    for axis in (-2, -1):
        index = location[axis]
        start = sum(grid[axis][:index])
        left = 0 if index == 0 else overlap
        crop = (-(start - left)) % align  # drop pixels so the block starts on the model's grid
        cuts.append((crop, left - crop, grid[axis][index]))
    (cy, oy, hy), (cx, ox, hx) = cuts
    body = block[..., cy:, cx:]
    out = np.empty(block.shape[:-2] + (hy, hx), dtype=block.dtype)
    for index in np.ndindex(*block.shape[:-2]):
        plane = body[index]
        if scaling is not None:
            lo, hi = scaling
            unit = ((plane.astype(np.float64) - lo) / ((hi - lo) or 1.0)).clip(0, 1).astype(np.float32)
            with ref.lock:
                restored = deblurrer(unit, databar=0, psf=psf)
            restored = restored.astype(np.float64) * ((hi - lo) or 1.0) + lo
            if np.issubdtype(block.dtype, np.integer):
                restored = np.rint(restored)
            restored = np.clip(restored, lo, hi).astype(block.dtype)
        else:
            with ref.lock:
                restored = deblurrer(plane, databar=0, max_value=max_value, psf=psf)
        out[index] = restored[oy:oy + hy, ox:ox + hx]
    return out


def restore_dask(deblurrer: Deblurrer, array: Any, *, max_value: int | None = None,
                 value_range: tuple[float, float] | None = None, psf: Any = None,
                 chunks: tuple[tuple[int, ...], ...] | None = None, overlap: int | None = None) -> da.Array:
    """A lazy Dask array: ``array`` (..., Y, X) restored blockwise, plane by plane.

    ``array`` is any array Dask can wrap (NumPy, Zarr, a Dask array); leading axes (T, C, Z)
    are restored one plane at a time, Y and X are the last two. ``chunks`` default to
    `plan_chunks` (the input's own Y/X chunks are multiplied up to fill the memory budget);
    ``overlap`` to `block_overlap`. ``max_value``: value of white of integer data (e.g. 4095);
    ``value_range``: (lo, hi) for dtypes other than uint8/uint16. A PSF-aware model needs a
    given ``psf`` (or its own fixed one): an estimate per block would differ from block to block.
    """
    import dask
    import dask.array as da

    if not isinstance(array, da.Array):
        array = da.from_array(array, chunks=getattr(array, "chunks", "auto"))
    if array.ndim < 2:
        raise ValueError(f"expected an (..., Y, X) array, got shape {array.shape}")
    if getattr(deblurrer, "psf_aware", False) and (deblurrer.psf_map or (psf is None and deblurrer.psf == "auto")):
        raise ValueError("a PSF-aware model restores blockwise only with one given PSF (an estimate per "
                         "block differs between blocks): pass psf='gaussian:2.0' (--psf SPEC)")
    scaling = value_scaling(array.dtype, value_range, max_value)
    overlap = block_overlap(deblurrer) if overlap is None else overlap
    if chunks is None:
        storage = tuple(c[0] for c in array.chunks)
        chunks = plan_chunks(array.shape, deblurrer, overlap=overlap, storage=storage)
    array = array.rechunk(chunks)
    starts = [c for axis in (-2, -1) for c in np.cumsum(array.chunks[axis][:-1])]
    if any(int(s) % deblurrer.align for s in starts):  # chunk starts off the model's grid
        overlap += deblurrer.align
    too_small = [c for axis in (-2, -1) for c in array.chunks[axis][:-1] if c < overlap]
    if too_small:
        raise ValueError(f"chunks of {min(too_small)} px are smaller than the {overlap} px margin; "
                         "use larger chunks")
    ref = DeblurrerRef.of(deblurrer)
    # one graph key holds the Deblurrer: a distributed worker receives (and builds) it once
    ref_key = dask.delayed(ref, name=f"midnet-deblurrer-{ref.token}", pure=True)
    # an axis in one chunk needs no margin (and an image smaller than the margin allows none)
    depth = {array.ndim + axis: overlap if len(array.chunks[axis]) > 1 else 0 for axis in (-2, -1)}
    return da.map_overlap(_restore_block, array, depth=depth, boundary="none", trim=False,
                          chunks=array.chunks, dtype=array.dtype,
                          meta=np.empty((0,) * array.ndim, dtype=array.dtype), token="midnet-restore",
                          ref=ref_key, grid=array.chunks, overlap=overlap, scaling=scaling,
                          max_value=max_value, psf=psf)
