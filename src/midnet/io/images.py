"""Minimal image reading (to be extended with metadata handling by the io work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class ImageFile:
    path: Path
    array: np.ndarray
    format: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype


def read_image(path: str | Path) -> ImageFile:
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile

            return ImageFile(path, tifffile.imread(path), "tiff")
        from PIL import Image

        with Image.open(path) as im:
            return ImageFile(path, np.asarray(im), (im.format or suffix.lstrip(".")).lower())
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the same user error
        raise ValueError(f"{path}: cannot read image ({exc}); check the file is a valid image") from exc


def to_float(array: np.ndarray) -> np.ndarray:
    """Scale to float32 [0, 1] by the dtype's range (uint8 /255, uint16 /65535, floats as is)."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32)
    if array.dtype == bool:
        return array.astype(np.float32)
    raise ValueError(f"unsupported image dtype {array.dtype}")


def from_float(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Inverse of `to_float`: clip to the dtype's range and round (never wraps)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.clip(np.rint(x * 65535.0), 0, 65535).astype(np.uint16)
    if np.issubdtype(dtype, np.floating):
        return x.astype(dtype)
    raise ValueError(f"unsupported image dtype {dtype}")
