"""The PSF panel's work, free of Qt: estimate the blur of a layer's plane and say it in one line.

Kept apart from the widget for the same reason as `midnet.napari.restore`: the tests compare what
the widget shows with `midnet.psf.estimate_blur` directly. The plane is the one the viewer shows
(the first of a stack unless told), its data bar left out (the layer's rows from the reader, or
detected), scaled by its dtype, colour averaged to grey as `estimate_blur` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from midnet.inference.psf_choice import describe_psf
from midnet.napari.restore import planes
from midnet.psf import BlurEstimate, estimate_blur


def estimate_layer(data: np.ndarray, *, rgb: bool, databar: Sequence[int | str] | int | str = "auto",
                   plane: int = 0) -> BlurEstimate:
    """`BlurEstimate` of plane ``plane`` of a layer's data; ``databar`` as `restore_layer` takes it."""
    todo = planes(np.asarray(data), rgb)
    if not 0 <= plane < len(todo):
        raise ValueError(f"plane {plane} does not exist; the layer has {len(todo)}")
    image = todo[plane]
    rows = databar[plane] if isinstance(databar, (list, tuple)) else databar
    if rows == "auto":
        from midnet.io.databar import detect_databar_array

        rows = detect_databar_array(image)
    rows = 0 if rows in (None, "none") else int(rows)
    if 0 < rows < image.shape[0]:
        image = image[:image.shape[0] - rows]
    return estimate_blur(image, with_map=False)


def summary(est: BlurEstimate) -> str:
    """``gaussian σ 2.1 px · noise 2.3 grey levels · in focus 2 %`` (angle for astigmatism)."""
    return (f"{describe_psf(est.psf)} · noise {est.noise_sigma:.1f} grey levels · "
            f"in focus {100 * est.in_focus:.0f} %")


__all__ = ["estimate_layer", "summary"]
