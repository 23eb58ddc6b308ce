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
from collections.abc import Callable, Iterator

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


def _eager(model: nn.Module) -> Forward:
    def run(batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return model(batch)
    return run


def _run_tiled(forward: Forward, image: torch.Tensor, tile: int, overlap: int, align: int,
               batch_size: int, device: torch.device,
               on_tile: Callable[[int, int], None] | None = None, context: int = 0) -> torch.Tensor:
    _, channels, height, width = image.shape
    out = torch.zeros((channels, height, width), dtype=torch.float32)
    weight_sum = torch.zeros((height, width), dtype=torch.float32)
    size, span = tile + 2 * context, overlap + 2 * context  # what one pass reads
    total = len(tile_spans(height, size, span, align)) * len(tile_spans(width, size, span, align))
    done = 0
    for group in _tile_batches(height, width, size, span, align, batch_size):
        batch = torch.stack([image[0, :, y0:y1, x0:x1] for y0, y1, x0, x1 in group])
        with torch.inference_mode():
            pred = forward(batch.to(device)).float().cpu()
        for (y0, y1, x0, x1), p in zip(group, pred):
            wy = ramp_weights(y1 - y0, overlap, fade_start=y0 > 0, fade_end=y1 < height, context=context)
            wx = ramp_weights(x1 - x0, overlap, fade_start=x0 > 0, fade_end=x1 < width, context=context)
            w2 = wy[:, None] * wx[None, :]
            out[:, y0:y1, x0:x1] += p * w2
            weight_sum[y0:y1, x0:x1] += w2
        done += len(group)
        if on_tile is not None:
            on_tile(done, total)
    return out / weight_sum


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
                    on_tile: Callable[[int, int], None] | None = None, context: int = 0) -> torch.Tensor:
    """Restore ``image`` (1, C, H, W) float32 with ``model``, tile by tile; returns (1, C, H, W).

    ``tile=None`` or ``0`` runs the whole image at once. ``overlap`` defaults to
    ``max(32, tile // 8)``; ``align`` (tile starts and sizes, default `model_alignment`) keeps
    tiles on the model's downsampling grid. The image is first padded by reflection with
    ``border`` px (default ``align``) on every side, and at the bottom/right up to a multiple of
    ``align``, so that pixels at the image border see mirrored context rather than the zeros a
    model pads with (which darken and ring the border); the padding is cropped off the result.
    The result lives on the CPU; only tiles travel to ``device``. On a
    (CUDA) out-of-memory error the tile size is halved (down to ``MIN_TILE``) and the image rerun.
    ``forward`` (default: ``model`` in inference mode) runs a batch whose sides are multiples
    of ``align``, e.g. a compiled model; ``on_tile(done, total)`` reports progress over tiles.
    ``context`` (rounded up to ``align``): px each pass reads beyond every interior side of the
    ``tile`` it restores, with weight zero (see the module docstring).
    """
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) tensor, got shape {tuple(image.shape)}")
    device = torch.device(device)
    image = image.float().cpu()
    align = align or model_alignment(model)
    border = align if border is None else border
    context = -(-context // align) * align
    height, width = image.shape[2:]
    if tile and height <= tile + 2 * context and width <= tile + 2 * context:
        tile = None  # fits in one tile: the padded image goes through whole
    padded = reflect_pad(image, border, align)
    restored = _tiled_with_retry(forward or _eager(model), padded, tile, overlap, batch_size, device,
                                 align, on_tile, context)
    return restored[:, :, border:border + height, border:border + width]


def forward_calls(height: int, width: int, *, tile: int | None, overlap: int | None, batch_size: int,
                  align: int, context: int = 0, border: int | None = None) -> int:
    """How many times `tiled_inference` calls the model on a (height, width) image with these
    arguments (without out-of-memory retries): progress bars count with it."""
    border = align if border is None else border
    context = -(-context // align) * align
    padded_h = -(-(height + 2 * border) // align) * align
    padded_w = -(-(width + 2 * border) // align) * align
    if not tile or (height <= tile + 2 * context and width <= tile + 2 * context) \
            or (padded_h <= tile + 2 * context and padded_w <= tile + 2 * context):
        return 1
    tile = max(align, tile // align * align)
    ov = min(max(32, tile // 8) if overlap is None else overlap, tile // 2)
    return sum(1 for _ in _tile_batches(padded_h, padded_w, tile + 2 * context, ov + 2 * context, align,
                                        batch_size))


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


def _tiled_with_retry(forward: Forward, image: torch.Tensor, tile: int | None, overlap: int | None,
                      batch_size: int, device: torch.device, align: int,
                      on_tile: Callable[[int, int], None] | None = None, context: int = 0) -> torch.Tensor:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    while True:
        try:
            if not tile or (image.shape[2] <= tile + 2 * context and image.shape[3] <= tile + 2 * context):
                with torch.inference_mode():
                    return forward(image.to(device)).float().cpu()
            tile = max(align, tile // align * align)
            ov = max(32, tile // 8) if overlap is None else overlap
            ov = min(ov, tile // 2)
            return _run_tiled(forward, image, tile, ov, align, batch_size, device, on_tile, context)[None]
        except RuntimeError as exc:
            if not _is_out_of_memory(exc):
                raise
            if device.type == "cuda":
                torch.cuda.empty_cache()
            current = min(tile or 1 << 30, max(image.shape[2], image.shape[3]))
            if current <= MIN_TILE:
                raise RuntimeError(
                    f"out of memory even with {current}px tiles; use --device cpu") from exc
            tile = max(MIN_TILE, current // 2)
            if overlap is not None:
                overlap = min(overlap, tile // 4)
            log.warning("out of memory; retrying with %dpx tiles", tile)
