"""The demo frame: one real blurry SEM frame that the demo, the napari sample and exports share.

It is source image 7-1 of the published MIDNet pairs, held out from the bundled model's
training. Exports use a crop of it as the bioimage.io test input and cover, and napari
offers it as sample data, so everyone sees the same, real image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from midnet.inference.demo import DEMO_GROUP, _inset_box


def demo_frame_path() -> Path:
    """The blurry demo frame's file (``$MIDNET_DATA`` or the download cache; no download here).

    Raises ``FileNotFoundError`` saying how to get it (`midnet data download`).
    """
    from midnet.datasets import frame_pair

    return frame_pair(DEMO_GROUP)[0]


def demo_crop(size: int = 256) -> np.ndarray:
    """A ``size`` x ``size`` uint8 crop of the demo frame's image area: its most textured one,
    as the demo figure's zoom picks it (a test tensor of flat background would pass any model)."""
    from midnet.io import read_image

    frame = read_image(demo_frame_path()).array
    if frame.ndim == 3:
        frame = frame[..., 0]
    y, x, size = _inset_box(frame, size)
    return np.ascontiguousarray(frame[y:y + size, x:x + size])
