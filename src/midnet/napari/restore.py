"""The work behind the napari widget, free of Qt: restore a layer's array with a `Deblurrer`,
reporting progress per model call and stopping when asked.

Kept apart from the widget so that what the widget computes is exactly ``Deblurrer(...)(plane,
databar=rows, max_value=white)`` for every plane, with the rows and value of white of the page's
`midnet.io.PageInfo` (as `midnet deblur` restores the file), which the tests compare against the
`Deblurrer` and the file `midnet deblur` writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


from midnet.inference.tiling import Cancelled


def model_calls(deblurrer, height: int, width: int) -> int:
    """How many times the tiler will call the model on one (height, width) plane and channel.

    Follows the Deblurrer's own plan (tile, overlap and batch, from its memory budget and
    measured receptive field unless given) and the tiler's rules for whole-image passes; with
    PSFs per tile (``psf_map``), one call per PSF tile (each fits one pass).
    """
    if getattr(deblurrer, "psf_map", False):  # a PSF per tile: one call per tile (with its margin)
        from midnet.inference.psf_tiles import tile_layout

        return len(tile_layout(height, width, deblurrer.psf_tile))
    return deblurrer.plan(height, width).calls


def planes(data: np.ndarray, rgb: bool) -> list[np.ndarray]:
    """The 2-D images (H, W) or (H, W, C) of a layer: the layer itself, or each plane of a stack."""
    spatial = 3 if rgb else 2
    if data.ndim == spatial:
        return [data]
    return [plane for plane in data.reshape((-1, *data.shape[-spatial:]))]


def _per_plane(value: Any, count: int) -> list[Any]:
    """One value per plane: a list as given (its first entry for all when the count differs)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * count
    return values if len(values) == count else [values[0]] * count


def restore_layer(deblurrer, data: np.ndarray, *, rgb: bool, databar: Sequence[int | str] | int | str,
                  white: Sequence[int | None] | int | None = None,
                  cancel: threading.Event | None = None,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray | None:
    """``deblurrer`` applied to every plane of ``data``: same shape and dtype.

    ``databar``: rows per plane (a list) or one value for all (rows, ``"auto"``, ``"none"``);
    ``white``: the value of white per plane or for all (None: the dtype's range).
    ``progress(done, total)`` is called after every model call; when ``cancel`` is set, the
    next model call stops the work and None is returned.
    """
    data = np.asarray(data)
    todo = planes(data, rgb)
    rows, whites = _per_plane(databar, len(todo)), _per_plane(white, len(todo))
    per_plane = model_calls(deblurrer, *todo[0].shape[:2])
    channels = todo[0].shape[2] if todo[0].ndim == 3 else 1
    colour = 1 if deblurrer.in_channels == channels or channels == 1 else min(channels, 3)
    total = max(1, per_plane * colour * len(todo))
    done = 0

    def after_call(_done: int, _total: int) -> None:  # the Deblurrer counts per plane; this, overall
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total)

    try:
        out = [deblurrer(plane, databar=r, max_value=w, progress=after_call, cancel=cancel)
               for plane, r, w in zip(todo, rows, whites)]
    except Cancelled:
        return None
    if progress is not None:
        progress(total, total)
    return out[0] if len(out) == 1 and data.ndim == out[0].ndim else np.stack(out).reshape(data.shape)
