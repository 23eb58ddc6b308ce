"""Restore an image tile by tile, each tile with its own PSF, blended without seams.

Why: under spatially varying blur (a tilted specimen, a FIB cross-section) each region needs
the PSF measured there (`midnet.psf.tiles.estimate_tiles`). Tiles overlap by half (the layout
of `midnet.inference.tiling.tile_spans`, which `midnet estimate --map` also uses: 256 px
regions every 128 px). Each tile is restored with ``margin`` px of real context around it
(the network and its Wiener deconvolution see the neighbours, not a mirror, near the tile's
edge), cut back to the tile, and weighted by a raised cosine over the overlap
(`tiling.ramp_weights`: 1 at the image border). The weights are divided by their sum, so
they add up to exactly 1 at every pixel: a restoration that returns its input returns the
image unchanged, and two tiles that agree blend into the same values. Where neighbouring
PSFs differ, the result moves smoothly from one restoration to the other across the overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from midnet.inference.tiling import ramp_weights, tile_spans
from midnet.psf.tiles import Span

#: default tile size and context margin (px) of per-tile restoration
TILE = 256
MARGIN = 32


def tile_layout(height: int, width: int, tile: int = TILE) -> list[Span]:
    """Half-overlapping (y0, y1, x0, x1) tiles covering the image (one tile when it is smaller)."""
    step = max(1, tile // 2)
    return [(y0, y1, x0, x1) for y0, y1 in tile_spans(height, tile, tile - step)
            for x0, x1 in tile_spans(width, tile, tile - step)]


def blend_weights(spans: Sequence[Span], height: int, width: int) -> list[np.ndarray]:
    """Per-tile (h, w) weights that sum to 1 at every pixel of the (height, width) image."""
    raw = []
    total = np.zeros((height, width), np.float64)
    for y0, y1, x0, x1 in spans:
        overlap_y = _overlap(spans, y0, y1, axis=0)
        overlap_x = _overlap(spans, x0, x1, axis=1)
        wy = ramp_weights(y1 - y0, overlap_y, fade_start=y0 > 0, fade_end=y1 < height).double().numpy()
        wx = ramp_weights(x1 - x0, overlap_x, fade_start=x0 > 0, fade_end=x1 < width).double().numpy()
        w = wy[:, None] * wx[None, :]
        raw.append(w)
        total[y0:y1, x0:x1] += w
    if np.any(total <= 0):
        raise ValueError("blend_weights: the tiles do not cover the image")
    return [w / total[y0:y1, x0:x1] for w, (y0, y1, x0, x1) in zip(raw, spans)]


def _overlap(spans: Sequence[Span], start: int, stop: int, axis: int) -> int:
    """The largest overlap of [start, stop) with another tile's extent along ``axis``."""
    best = 0
    for span in spans:
        a, b = (span[0], span[1]) if axis == 0 else (span[2], span[3])
        if (a, b) != (start, stop):
            best = max(best, min(stop, b) - max(start, a))
    return best


Restore = Callable[[np.ndarray, int], np.ndarray]


def restore_tiles(image: np.ndarray, spans: Sequence[Span], restore: Restore, margin: int = MARGIN) -> np.ndarray:
    """Blend ``restore(context, index)`` over ``spans`` of an (H, W, ...) float image.

    ``restore`` gets tile ``index`` with up to ``margin`` px of the image around it and returns
    the same shape; the margin is cut off and the tile weighted by `blend_weights`."""
    height, width = image.shape[:2]
    out = np.zeros(image.shape, np.float64)
    for index, (span, weight) in enumerate(zip(spans, blend_weights(spans, height, width))):
        y0, y1, x0, x1 = span
        cy0, cy1 = max(0, y0 - margin), min(height, y1 + margin)
        cx0, cx1 = max(0, x0 - margin), min(width, x1 + margin)
        restored = np.asarray(restore(image[cy0:cy1, cx0:cx1], index), np.float64)
        if restored.shape != image[cy0:cy1, cx0:cx1].shape:
            raise ValueError(f"restore_tiles: tile {index} came back {restored.shape}, expected "
                             f"{image[cy0:cy1, cx0:cx1].shape}")
        core = restored[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        out[y0:y1, x0:x1] += core * (weight if core.ndim == 2 else weight[..., None])
    return out


__all__ = ["MARGIN", "TILE", "blend_weights", "restore_tiles", "tile_layout"]
