"""Register a blurry capture to its sharp partner: a global shift, and a smooth displacement field.

Why a field: a re-take after refocusing is moved by the stage or beam, and the scan is
distorted differently in the two captures. On the published MIDNet pairs the displacement
varies across one frame (per-tile shifts on 7-1 run from -20 to -1 px in x), so no single
translation registers a pair, and a score after one global shift still punishes sharp
restorations. A network trained on such pairs learns to blur; a score measured on them
rewards smoothing.

How (:func:`measure_field`), measured between the two *captures*, never on a restoration:

1. both images are low-passed alike (so that the blur and noise of one capture do not bias the
   measurement) and a global shift is found by cross-correlation;
2. then, a few times over: the moving image is warped by the current field, each tile of a
   half-overlapping grid is matched to the reference by windowed cross-correlation with
   sub-pixel refinement, tiles whose match is poor (too little texture, a normalised
   correlation below ``min_correlation``) or that disagree with their neighbours are left out,
   and the residual shifts are interpolated into a smooth field (a thin-plate spline through
   the tile centres) that is added to the current one.

The field maps each reference pixel to where its content lies in the moving image:
``aligned[y, x] = moving[y + dy[y, x], x + dx[y, x]]`` (:func:`warp`). Tiles left out are
reported and are not scored (:meth:`DisplacementField.score_mask`). Accuracy on synthetic
pairs with a known warp: ``python benchmarks/registration_accuracy.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.interpolate import RBFInterpolator
from skimage.registration import phase_cross_correlation

#: a field whose every displacement is below this (px) is taken as none: resampling would only
#: smooth an already registered pair
MIN_FIELD = 0.25


def estimate_shift(moving: np.ndarray, reference: np.ndarray, *, smooth: float = 4.0) -> tuple[float, float]:
    """(dy, dx) that, applied to ``moving`` (H, W), best aligns it with ``reference``."""
    a = ndimage.gaussian_filter(np.asarray(moving, np.float64), smooth)
    b = ndimage.gaussian_filter(np.asarray(reference, np.float64), smooth)
    # plain (not phase-normalised) cross-correlation: the whitening of phase correlation would
    # weight the high frequencies that the blur removed and only noise is left in
    shift, _, _ = phase_cross_correlation(b, a, upsample_factor=10, normalization=None)
    return float(shift[0]), float(shift[1])


def align_to_reference(moving: np.ndarray, *others: np.ndarray, shift: tuple[float, float]
                       ) -> tuple[np.ndarray, ...]:
    """Cut (C, H, W) arrays to their overlap after moving ``moving`` by the whole-pixel ``shift``.

    Returns ``(moving_cut, *others_cut)``; all share one shape."""
    dy, dx = (int(round(s)) for s in shift)
    h, w = moving.shape[-2:]
    # moving[y - dy, x - dx] lands on reference[y, x]
    ys, xs = slice(max(0, dy), h + min(0, dy)), slice(max(0, dx), w + min(0, dx))
    ms, mx = slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx))
    return (moving[..., ms, mx],) + tuple(o[..., ys, xs] for o in others)


# -- displacement fields ------------------------------------------------------------------------

@dataclass(frozen=True)
class DisplacementField:
    """Where each reference pixel's content lies in the moving image, plus how it was measured.

    ``dy``, ``dx``: float32 (H, W); ``tile_centres``: (N, 2) tile centres (y, x); ``tile_used``:
    (N,) whether a tile's match counted; ``tile``: the tile size in pixels."""

    dy: np.ndarray
    dx: np.ndarray
    tile_centres: np.ndarray
    tile_used: np.ndarray
    tile: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.dy.shape  # type: ignore[return-value]

    @property
    def is_identity(self) -> bool:
        return bool(max(np.abs(self.dy).max(initial=0), np.abs(self.dx).max(initial=0)) < MIN_FIELD)

    @classmethod
    def constant(cls, shape: tuple[int, int], dy: float = 0.0, dx: float = 0.0) -> DisplacementField:
        """A translation (or none) as a field: the global-shift registration in this form."""
        return cls(np.full(shape, dy, np.float32), np.full(shape, dx, np.float32), np.zeros((0, 2)),
                   np.zeros(0, bool), 0)

    def inverted(self, iterations: int = 30) -> DisplacementField:
        """The field that undoes this one (f(p) = -g(p + f(p)), by fixed-point iteration; smooth
        fields converge in a few steps): what registering a capture warped by this field must find."""
        h, w = self.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        fy, fx = -self.dy.astype(np.float64), -self.dx.astype(np.float64)
        for _ in range(iterations):
            at = [yy + fy, xx + fx]
            fy = -ndimage.map_coordinates(self.dy, at, order=1, mode="nearest")
            fx = -ndimage.map_coordinates(self.dx, at, order=1, mode="nearest")
        return DisplacementField(fy.astype(np.float32), fx.astype(np.float32), np.zeros((0, 2)), np.zeros(0, bool), 0)

    def inside(self) -> np.ndarray:
        """Boolean (H, W): reference pixels whose source lies inside the moving image."""
        h, w = self.shape
        yy, xx = np.mgrid[0:h, 0:w]
        sy, sx = yy + self.dy, xx + self.dx
        return (sy >= 0) & (sy <= h - 1) & (sx >= 0) & (sx <= w - 1)

    def left_out(self) -> np.ndarray:
        """Boolean (H, W): pixels of tiles whose match did not count (too little texture), where
        no neighbouring counted tile covers them either."""
        h, w = self.shape
        covered = np.zeros((h, w), bool)
        half = self.tile // 2
        for (cy, cx), used in zip(self.tile_centres.astype(int), self.tile_used):
            if used:
                covered[max(0, cy - half):cy + half, max(0, cx - half):cx + half] = True
        if not len(self.tile_centres):
            covered[:] = True
        return ~covered

    def score_mask(self) -> np.ndarray:
        """Boolean (H, W): the pixels a registered score counts."""
        return self.inside() & ~self.left_out()

    def stats(self) -> dict[str, float]:
        """Median shift, spread (the 5-95 % range of each component) and tiles left out."""
        q = {k: np.percentile(v, [5, 50, 95]) for k, v in (("y", self.dy), ("x", self.dx))}
        return {"median_shift_y": float(q["y"][1]), "median_shift_x": float(q["x"][1]),
                "spread_y": float(q["y"][2] - q["y"][0]), "spread_x": float(q["x"][2] - q["x"][0]),
                "tiles": int(len(self.tile_used)), "tiles_left_out": int((~self.tile_used).sum())}


def warp(image: np.ndarray, field: DisplacementField, *, order: int = 3) -> np.ndarray:
    """``image`` (H, W) or (H, W, C) resampled onto the reference grid: ``out[y, x] =
    image[y + dy, x + dx]`` (cubic spline; outside the image the nearest edge value, which
    :meth:`DisplacementField.inside` masks). Float64 output on the input's scale."""
    image = np.asarray(image, np.float64)
    if field.is_identity:
        return image.copy()
    h, w = field.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    coords = np.stack([yy + field.dy, xx + field.dx])
    if image.ndim == 2:
        return ndimage.map_coordinates(image, coords, order=order, mode="nearest")
    return np.stack([ndimage.map_coordinates(image[..., c], coords, order=order, mode="nearest")
                     for c in range(image.shape[2])], axis=-1)


def _tile_starts(size: int, tile: int) -> list[int]:
    step = max(1, tile // 2)
    starts = list(range(0, max(1, size - tile + 1), step))
    if starts[-1] + tile < size:
        starts.append(size - tile)
    return starts


def _parabola(lo: float, mid: float, hi: float) -> float:
    """Sub-sample offset of a peak from three samples around it (vertex of the parabola)."""
    den = lo - 2 * mid + hi
    return 0.0 if den >= 0 else float(np.clip(0.5 * (lo - hi) / den, -0.5, 0.5))


def _match(ref: np.ndarray, mov: np.ndarray, window: np.ndarray) -> tuple[float, float, float]:
    """(dy, dx, correlation): the shift that moves ``mov`` onto ``ref`` (as skimage's
    ``phase_cross_correlation(ref, mov)``), by windowed cross-correlation with a parabolic
    sub-pixel peak, and the normalised correlation at that peak (how well the tiles match)."""
    a, b = (ref - ref.mean()) * window, (mov - mov.mean()) * window
    energy = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if energy <= 1e-12:
        return 0.0, 0.0, 0.0
    cc = np.fft.irfft2(np.fft.rfft2(a) * np.conj(np.fft.rfft2(b)), s=a.shape)
    py, px = np.unravel_index(int(np.argmax(cc)), cc.shape)
    h, w = cc.shape
    fy = _parabola(cc[(py - 1) % h, px], cc[py, px], cc[(py + 1) % h, px])
    fx = _parabola(cc[py, (px - 1) % w], cc[py, px], cc[py, (px + 1) % w])
    dy = (py + h // 2) % h - h // 2 + fy
    dx = (px + w // 2) % w - w // 2 + fx
    return float(dy), float(dx), float(cc[py, px] / energy)


def _tile_shifts(moving: np.ndarray, reference: np.ndarray, tile: int, min_correlation: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tile centres (N, 2), residual shifts (N, 2) as field increments, and which tiles matched."""
    h, w = reference.shape
    window = np.outer(np.hanning(tile), np.hanning(tile))
    centres, shifts, used = [], [], []
    for y0 in _tile_starts(h, tile):
        for x0 in _tile_starts(w, tile):
            dy, dx, corr = _match(reference[y0:y0 + tile, x0:x0 + tile], moving[y0:y0 + tile, x0:x0 + tile], window)
            centres.append((y0 + tile / 2, x0 + tile / 2))
            # (dy, dx) moves the moving tile onto the reference: the field (reference -> moving) is minus that
            shifts.append((-dy, -dx))
            used.append(corr >= min_correlation and max(abs(dy), abs(dx)) < tile / 4)
    return np.asarray(centres, float), np.asarray(shifts, float), np.asarray(used, bool)


def _reject_outliers(centres: np.ndarray, shifts: np.ndarray, used: np.ndarray, tile: int,
                     tolerance: float) -> np.ndarray:
    """Leave out tiles whose shift differs from the median of their counted neighbours by more
    than ``tolerance`` plus the neighbours' own spread (a strongly varying field is no outlier)."""
    keep = used.copy()
    for i in np.flatnonzero(used):
        d = np.abs(centres - centres[i]).max(axis=1)
        near = used & (d <= tile * 1.01) & (d > 0)
        if near.sum() >= 2:
            spread = np.ptp(shifts[near], axis=0)
            if (np.abs(shifts[i] - np.median(shifts[near], axis=0)) > tolerance + spread).any():
                keep[i] = False
    return keep


def _interpolate(centres: np.ndarray, values: np.ndarray, shape: tuple[int, int], step: int) -> np.ndarray:
    """A smooth (2, H, W) field through the tile values: a smoothing thin-plate spline evaluated
    on a coarse grid, then resampled to every pixel with a cubic spline."""
    h, w = shape
    gy, gx = np.arange(0, h + step, step, dtype=float), np.arange(0, w + step, step, dtype=float)
    grid = np.stack(np.meshgrid(gy, gx, indexing="ij"), axis=-1).reshape(-1, 2)
    if len(centres) >= 3:
        rbf = RBFInterpolator(centres, values, kernel="thin_plate_spline", smoothing=1.0, degree=1)
        coarse = rbf(grid).reshape(len(gy), len(gx), 2)
    else:
        coarse = np.broadcast_to(values.mean(axis=0) if len(values) else np.zeros(2), (len(gy), len(gx), 2))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    coords = np.stack([yy / step, xx / step])
    return np.stack([ndimage.map_coordinates(np.ascontiguousarray(coarse[..., k]), coords, order=3,
                                             mode="nearest") for k in range(2)])


def measure_field(moving: np.ndarray, reference: np.ndarray, *, tile: int = 128, smooth: float = 2.0,
                  iterations: int = 8, min_correlation: float = 0.5, tolerance: float = 2.0
                  ) -> DisplacementField:
    """The displacement field that registers ``moving`` (H, W) onto ``reference`` (module docstring).

    ``tile``: side of the matched tiles (half-overlapping); ``smooth``: the Gaussian low-pass
    (px) applied to both images alike; ``min_correlation``: the normalised correlation a tile
    must reach after its shift to count; ``tolerance``: px a tile may differ from its
    neighbours' median before it is left out."""
    moving = np.asarray(moving, np.float64)
    reference = np.asarray(reference, np.float64)
    if moving.shape != reference.shape or moving.ndim != 2:
        raise ValueError(f"measure_field: give two grey images of one shape, got {moving.shape} and "
                         f"{reference.shape}")
    h, w = reference.shape
    tile = int(min(tile, h, w))
    a, b = ndimage.gaussian_filter(moving, smooth), ndimage.gaussian_filter(reference, smooth)
    gy, gx = estimate_shift(moving, reference)
    field = DisplacementField.constant((h, w), -gy, -gx)
    centres, used = np.zeros((0, 2)), np.zeros(0, bool)
    for _ in range(max(1, iterations)):
        warped = warp(a, field, order=1) if not field.is_identity else a
        centres, shifts, used = _tile_shifts(warped, b, tile, min_correlation)
        used = _reject_outliers(centres, shifts, used, tile, tolerance)
        if not used.any():
            break
        step = max(8, tile // 4)
        inc = _interpolate(centres[used], shifts[used], (h, w), step)
        field = DisplacementField((field.dy + inc[0]).astype(np.float32), (field.dx + inc[1]).astype(np.float32),
                                  centres, used, tile)
        if np.abs(shifts[used]).max() < 0.1:   # converged: what is left is below the measurement's noise
            break
    return DisplacementField(field.dy, field.dx, centres, used, tile)
