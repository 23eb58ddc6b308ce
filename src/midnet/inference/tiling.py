"""Tiled inference: run a model on overlapping tiles and blend them into one image.

Why tiles: a NAFNet-style U-Net's activation memory grows with the image area (one 32-channel
float32 feature map of a 4096x4096 image is 2 GiB, and a block holds several at once), so a
large micrograph is cut into tiles whose size bounds the memory. Why overlap and a smooth window: a convolution near a tile edge sees zero padding
instead of the neighbouring pixels, so each tile's outer band is less accurate. Overlapping
tiles are averaged with a raised-cosine weight that is largest in a tile's centre and small
(but never zero, so every pixel has positive total weight) at an interior tile edge; at the
image border the weight stays 1 because there is no neighbour to blend with. Tiles sit on the
model's 2**levels grid (`tile_spans`), and the image is mirrored at its border (`reflect_pad`).

Tolerance (stated, and asserted by ``tests/inference/test_tiling.py``): tiled output differs
from whole-image output by a mean absolute error below 2e-3 and a maximum below 2e-2 in [0, 1]
units (0.5 and 5 grey levels of an 8-bit image), and the error within 2 px of tile edges is at
most 1.25x the error elsewhere plus 1e-4 (no seams). Measured on a 160x320 image with 96 px
tiles and 32 px overlap, tiny registry models with their NAFNet blocks switched on:
midnet-tiny mean 3.0e-4, max 4.1e-3, edges 2.4e-4 vs interior 3.1e-4; nafnet-tiny mean 5.9e-4,
max 6.7e-3. With only 16 px overlap the edge error doubles (1.1e-3 vs 5.1e-4): the overlap
must span the distance over which a tile's missing context is felt, hence the default overlap
of max(32, tile // 8). The residual difference comes from the blocks' global channel attention
(a mean over the whole input, which differs between a tile and the image); ``tlc`` in
`Deblurrer` replaces it by a local mean.

Context: with TLC, a pixel's output depends on the input within a bounded distance, but that
distance is long (each block's local mean reaches half a pool window further), so a blended
overlap that is wide enough would make small tiles useless. Instead ``context`` px on each
interior side of a tile are read but given weight zero: each output pixel then comes only from
tiles that saw at least ``context`` px around it, and ``tile`` is the area a tile restores
(the pass reads ``tile + 2 * context``). `Deblurrer` sets ``context`` to twice the training crop
for a TLC model, which reproduces the whole-image result within one grey level (tests/inference).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch
from torch import nn

from midnet import models

log = logging.getLogger(__name__)

#: the smallest tile the CUDA out-of-memory fallback will try before giving up
MIN_TILE = 64


def tile_spans(length: int, tile: int, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """(start, stop) of tiles covering ``[0, length)``, neighbours overlapping by >= ``overlap``.

    Starts are multiples of ``align``: a U-Net that downsamples by 2 ``levels`` times computes
    the same thing on a tile as on the whole image only when the tile sits on its 2**levels
    grid (otherwise the stride-2 phases differ and tiles disagree by several grey levels).
    The last tile is flush with the end (so it is up to ``align - 1`` px longer than ``tile``):
    no tile reaches outside the image, so none needs padding; when ``length <= tile`` there
    is a single tile of the image's own length.
    """
    if length <= tile:
        return [(0, length)]
    if overlap >= tile:
        raise ValueError(f"overlap ({overlap}) must be smaller than the tile size ({tile})")
    stride = max(align, (tile - overlap) // align * align)
    last = (length - tile) // align * align
    starts = list(range(0, last, stride))
    return [(s, s + tile) for s in starts] + [(last, length)]


def ramp_weights(size: int, overlap: int, fade_start: bool, fade_end: bool, context: int = 0) -> torch.Tensor:
    """1-D weight for one tile: at a faded end, 0 over ``context`` px, then a raised-cosine ramp
    over ``overlap`` px; 1 inside.

    Half-pixel sampling makes the smallest ramp weight ``sin^2(pi / (4 overlap))`` > 0. The
    zero band is covered by the neighbour, whose own zero band lies beyond its overlap
    (`tile_spans` overlaps tiles by at least ``overlap + 2 * context``).
    """
    w = torch.ones(size, dtype=torch.float32)
    context = min(context, size // 2)
    ramp_len = min(overlap, size // 2 - context)
    i = torch.arange(ramp_len, dtype=torch.float32)
    ramp = torch.cat([torch.zeros(context), torch.sin(math.pi / 2 * (i + 0.5) / max(ramp_len, 1)) ** 2])
    if len(ramp):
        if fade_start:
            w[:len(ramp)] = ramp
        if fade_end:
            w[size - len(ramp):] = torch.flip(ramp, [0])
    return w


def _tile_batches(height: int, width: int, tile: int, overlap: int, align: int,
                  batch_size: int) -> Iterator[list[tuple[int, int, int, int]]]:
    """(``tile`` and ``overlap`` here are a pass's full size and overlap, context included.)"""
    """Groups of up to ``batch_size`` tiles (y0, y1, x0, x1) of one shape, to stack in a batch."""
    by_shape: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
    for y0, y1 in tile_spans(height, tile, overlap, align):
        for x0, x1 in tile_spans(width, tile, overlap, align):
            by_shape.setdefault((y1 - y0, x1 - x0), []).append((y0, y1, x0, x1))
    for tiles in by_shape.values():
        for first in range(0, len(tiles), batch_size):
            yield tiles[first:first + batch_size]


Forward = Callable[[torch.Tensor], torch.Tensor]
#: ``progress(done, total)``: model calls done of this plane's total, after each call
Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised before the next model call when the caller's ``cancel`` event is set."""


@dataclass(frozen=True)
class TilePlan:
    """How one (height, width) plane goes through a model: the value the tiler iterates, and
    what progress bars and the napari widget count (`calls`).

    ``tile`` None: one pass of the whole (mirrored) image. Else tiles that each restore
    ``tile`` px, read ``context`` px more on every interior side with weight zero, and blend
    over ``overlap`` px (None: ``max(32, tile // 8)``); ``batch`` tiles go through per call.
    Everything sits on the model's ``align`` grid, after a mirrored ``border`` (None: ``align``).
    A tile that would cover the whole image makes the plan whole.
    """

    height: int
    width: int
    tile: int | None = None
    overlap: int | None = None
    batch: int = 1
    context: int = 0
    align: int = 32
    border: int | None = None

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch}")
        set_ = object.__setattr__
        set_(self, "border", self.align if self.border is None else self.border)
        set_(self, "context", -(-self.context // self.align) * self.align)
        if self.tile:
            set_(self, "tile", max(self.align, self.tile // self.align * self.align))
            ov = max(32, self.tile // 8) if self.overlap is None else self.overlap
            set_(self, "overlap", min(ov, self.tile // 2))
        reach = (self.tile or 0) + 2 * self.context
        ph, pw = self.padded
        if not self.tile or (self.height <= reach and self.width <= reach) or (ph <= reach and pw <= reach):
            set_(self, "tile", None)

    @property
    def whole(self) -> bool:
        return self.tile is None

    @property
    def padded(self) -> tuple[int, int]:
        """The mirrored image's (height, width): border on every side, then up to the grid."""
        b = self.border or 0
        return (-(-(self.height + 2 * b) // self.align) * self.align,
                -(-(self.width + 2 * b) // self.align) * self.align)

    def groups(self) -> Iterator[list[tuple[int, int, int, int]]]:
        """Batches of passes (y0, y1, x0, x1) in the mirrored image, one call each."""
        if self.tile is None:
            yield [(0, self.padded[0], 0, self.padded[1])]
            return
        yield from _tile_batches(*self.padded, self.tile + 2 * self.context, (self.overlap or 0) + 2 * self.context,
                                 self.align, self.batch)

    @property
    def calls(self) -> int:
        """How many model calls the plan makes (without out-of-memory retries)."""
        return sum(1 for _ in self.groups())

    def halved(self) -> "TilePlan":
        """The plan the out-of-memory fallback tries next: tiles half as large (down to `MIN_TILE`)."""
        current = min(self.tile or 1 << 30, max(self.padded))
        if current <= MIN_TILE:
            raise RuntimeError(f"out of memory even with {current}px tiles; use --device cpu")
        tile = max(MIN_TILE, current // 2)
        overlap = None if self.overlap is None else min(self.overlap, tile // 4)
        return replace(self, tile=tile, overlap=overlap)


def _eager(model: nn.Module) -> Forward:
    def run(batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return model(batch)
    return run


def _passes(forward: Forward, image: torch.Tensor, plan: TilePlan, device: torch.device,
            progress: Progress | None, cancel: threading.Event | None) -> torch.Tensor:
    """The mirrored (1, C, H, W) ``image`` through ``forward`` by ``plan``: (C, H, W) on the CPU."""
    _, channels, height, width = image.shape
    total = plan.calls
    if plan.whole:
        _check(cancel)
        with torch.inference_mode():
            out = forward(image.to(device)).float().cpu()[0]
        if progress is not None:
            progress(1, 1)
        return out
    out = torch.zeros((channels, height, width), dtype=torch.float32)
    weight_sum = torch.zeros((height, width), dtype=torch.float32)
    overlap, context = plan.overlap or 0, plan.context
    for done, group in enumerate(plan.groups(), start=1):
        _check(cancel)
        batch = torch.stack([image[0, :, y0:y1, x0:x1] for y0, y1, x0, x1 in group])
        with torch.inference_mode():
            pred = forward(batch.to(device)).float().cpu()
        for (y0, y1, x0, x1), p in zip(group, pred):
            wy = ramp_weights(y1 - y0, overlap, fade_start=y0 > 0, fade_end=y1 < height, context=context)
            wx = ramp_weights(x1 - x0, overlap, fade_start=x0 > 0, fade_end=x1 < width, context=context)
            w2 = wy[:, None] * wx[None, :]
            out[:, y0:y1, x0:x1] += p * w2
            weight_sum[y0:y1, x0:x1] += w2
        if progress is not None:
            progress(done, total)
    return out / weight_sum


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")


def run_plan(plan: TilePlan, image: torch.Tensor, forward: Forward, *, device: torch.device | str = "cpu",
             progress: Progress | None = None, cancel: threading.Event | None = None) -> torch.Tensor:
    """Restore ``image`` (1, C, H, W) float32 by ``plan`` with ``forward`` (a batch → batch map
    whose sides are multiples of ``plan.align``); returns (1, C, H, W) on the CPU.

    The image is mirrored by ``plan.border`` px (see `reflect_pad`: pixels at the border then
    see mirrored context rather than the zeros a model pads with, which darken and ring the
    border) and the padding is cropped off the result. On a (CUDA) out-of-memory error the plan
    is `TilePlan.halved` and the image rerun. ``progress(done, total)`` after every model call;
    a set ``cancel`` event stops before the next call (`Cancelled`).
    """
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) tensor, got shape {tuple(image.shape)}")
    if tuple(image.shape[2:]) != (plan.height, plan.width):
        raise ValueError(f"plan for {plan.height}x{plan.width}, image {tuple(image.shape[2:])}")
    device = torch.device(device)
    padded = reflect_pad(image.float().cpu(), plan.border or 0, plan.align)
    while True:
        try:
            restored = _passes(forward, padded, plan, device, progress, cancel)
            break
        except RuntimeError as exc:
            if not _is_out_of_memory(exc):
                raise
            if device.type == "cuda":
                torch.cuda.empty_cache()
            try:
                plan = plan.halved()
            except RuntimeError as small:
                raise small from exc
            log.warning("out of memory; retrying with %dpx tiles", plan.tile)
    b = plan.border or 0
    return restored[None, :, b:b + plan.height, b:b + plan.width]


def model_alignment(model: nn.Module, default: int = 32) -> int:
    """The model's size multiple from its registry entry (``models.size_multiple``), else ``default``."""
    return models.size_multiple(model, default)


def _is_out_of_memory(exc: BaseException) -> bool:
    """An accelerator allocator's out-of-memory error (CPU allocation failures are not retried)."""
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom is not None and isinstance(exc, oom)) or "CUDA out of memory" in str(exc)


def tiled_inference(model: nn.Module, image: torch.Tensor, *, tile: int | None = 512,
                    overlap: int | None = None, batch_size: int = 4,
                    device: torch.device | str = "cpu", align: int | None = None,
                    border: int | None = None, forward: Forward | None = None,
                    progress: Progress | None = None, context: int = 0) -> torch.Tensor:
    """Restore ``image`` (1, C, H, W) float32 with ``model``, tile by tile; returns (1, C, H, W).

    The arguments make a `TilePlan` (``tile`` None or 0: the whole image at once; ``align``
    defaults to `model_alignment`), run by `run_plan`; ``forward`` (default: ``model`` in
    inference mode) may replace the model's call, e.g. a compiled model.
    """
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) tensor, got shape {tuple(image.shape)}")
    plan = TilePlan(int(image.shape[2]), int(image.shape[3]), tile or None, overlap, batch_size, context,
                    align or model_alignment(model), border)
    return run_plan(plan, image, forward or _eager(model), device=device, progress=progress)


def reflect_pad(image: torch.Tensor, border: int, align: int) -> torch.Tensor:
    """Mirror ``border`` px around ``image`` and extend bottom/right to a multiple of ``align``.

    Reflection needs the padding to be smaller than the image; for tiny images the padding is
    done in several reflecting steps, so any size works.
    """
    height, width = image.shape[2:]
    target_h = -(-(height + 2 * border) // align) * align
    target_w = -(-(width + 2 * border) // align) * align
    pads = [border, target_w - width - border, border, target_h - height - border]  # l, r, t, b
    out = image
    while any(pads):
        h, w = out.shape[2:]
        step = [min(pads[0], w - 1), min(pads[1], w - 1), min(pads[2], h - 1), min(pads[3], h - 1)]
        if not any(step):  # a 1-px image cannot be mirrored: repeat its edge
            return torch.nn.functional.pad(out, pads, mode="replicate")
        out = torch.nn.functional.pad(out, step, mode="reflect")
        pads = [p - q for p, q in zip(pads, step)]
    return out
