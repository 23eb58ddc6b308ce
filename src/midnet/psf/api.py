"""`estimate_blur`: the public entry point, from a file or an array to a `BlurEstimate`.

A file is read with `midnet.io.read_image`; its first page is scaled by its value of white
(`midnet.io.PageInfo.white`: a 12-bit frame in a 16-bit container is 0..4095, and dividing by
65535 would make its noise look 16 times smaller), colour is averaged to grey, and the data bar
(the page's `PageInfo.databar`) is left out, because its text and flat strip are no specimen and
would read as sharp edges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from midnet.psf.estimate import DEFAULT_METHOD, BlurEstimate, estimate_array

#: BT.601 luma, as the rest of midnet turns colour into grey
_LUMA = np.array([0.299, 0.587, 0.114])


def grey_unit_range(array: np.ndarray, max_value: float | None) -> np.ndarray:
    """(H, W) float64 in [0, 1]: alpha dropped, colour to luma, divided by the value of white.

    Floats outside [0, 1] are stretched by their own minimum and maximum."""
    a = np.asarray(array)
    if a.ndim == 3:
        colour = (a[..., :-1] if a.shape[2] in (2, 4) else a).astype(np.float64)
        a = colour @ _LUMA if colour.shape[2] == 3 else colour.mean(axis=2)
    x = a.astype(np.float64)
    if max_value:
        return x / float(max_value)
    if np.issubdtype(np.asarray(array).dtype, np.integer):
        return x / float(np.iinfo(np.asarray(array).dtype).max)
    finite = x[np.isfinite(x)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        lo, hi = float(finite.min()), float(finite.max())
        return (x - lo) / ((hi - lo) or 1.0)
    return x


def estimate_file(path: str | Path, *, with_map: bool = True, databar: int | str = "auto",
                  method: str = DEFAULT_METHOD) -> BlurEstimate:
    """`BlurEstimate` of the first page of an image file; errors are one line naming the file."""
    from midnet.io import read_image

    path = Path(path)
    image = read_image(path, databar=databar)
    page, info = image.pages[0], image.info[0]
    top, rows = info.white, info.databar.rows
    grey = grey_unit_range(page, top)
    if rows:
        grey = grey[: grey.shape[0] - rows]
    try:
        return estimate_array(grey, max_value=float(top or 1.0), with_map=with_map, file=str(path),
                              method=method)
    except ValueError as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def estimate_blur(image: str | Path | np.ndarray, *, with_map: bool = True, max_value: float | None = None,
                  method: str = DEFAULT_METHOD) -> BlurEstimate:
    """Blur, noise and focus of one image: a file path, or a grey array.

    An integer array is scaled by ``max_value`` (default its dtype's maximum); a float array
    must be in [0, 1] (or is stretched to it). Noise is reported in grey levels of that range.
    ``method``: ``"spectral"`` or ``"learned"`` (`midnet.psf.estimate.METHODS`).
    """
    if isinstance(image, (str, Path)):
        return estimate_file(image, with_map=with_map, method=method)
    array = np.asarray(image)
    if max_value is None and np.issubdtype(array.dtype, np.integer):
        max_value = float(np.iinfo(array.dtype).max)
    grey = grey_unit_range(array, max_value)
    return estimate_array(grey, max_value=float(max_value or 1.0), with_map=with_map, method=method)
