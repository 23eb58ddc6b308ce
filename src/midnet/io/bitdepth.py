"""The real value range of integer pixels: a 12-bit detector in a 16-bit container is 0..4095.

Scaling such a frame by 65535 feeds the model an image 16 times too dark (it comes back washed
out and checkerboarded) and lets the output leave the detector's range. The range is decided,
in this order, from the TIFF BitsPerSample tag (when it is not the container's size, as in
packed 12-bit TIFFs), SMaxSampleValue / MaxSampleValue, the vendor's metadata, PNG's sBIT
chunk, and finally the data itself, with 4095 (12-bit) and 16383 (14-bit) as the usual ceilings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: detector ceilings tried when the file does not say, smallest first
USUAL_CEILINGS = (4095, 16383)


def value_range(array: np.ndarray, page_meta: dict[str, Any] | None = None, *,
                vendor_bits: int | None = None) -> tuple[int, str]:
    """(maximum value, where it came from) for an integer page; floats get (0, "float").

    ``page_meta`` holds what the reader found: ``bitspersample``, ``smaxsamplevalue`` and
    ``sbit`` (PNG significant bits); ``vendor_bits`` is the bit depth the vendor's metadata
    records (`midnet.io.vendors`, `midnet.io.pageinfo.Vendor.bits`).
    """
    dtype = np.dtype(array.dtype)
    if not np.issubdtype(dtype, np.integer):
        return 0, "float"
    full = int(np.iinfo(dtype).max)
    if dtype.itemsize == 1:
        return full, "dtype"
    meta = page_meta or {}
    container = dtype.itemsize * 8

    def ok(bits: Any) -> bool:
        return isinstance(bits, (int, np.integer)) and 1 <= int(bits) < container

    bits = meta.get("bitspersample")
    if ok(bits):
        return (1 << int(bits)) - 1, "BitsPerSample"
    smax = meta.get("smaxsamplevalue")
    if isinstance(smax, (int, float, np.integer, np.floating)) and 0 < smax < full:
        return int(smax), "SMaxSampleValue"
    if ok(vendor_bits):
        return (1 << int(vendor_bits)) - 1, "vendor metadata"
    bits = meta.get("sbit")
    if ok(bits):
        return (1 << int(bits)) - 1, "sBIT"
    if dtype.kind == "u":
        top = int(array.max()) if array.size else 0
        for ceiling in USUAL_CEILINGS:
            if ceiling < full and top <= ceiling:
                return ceiling, "data"
    return full, "dtype"
