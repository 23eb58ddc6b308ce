"""The demo frame: one real blurry SEM frame that the demo, the napari sample and exports share.

It is source image 7-1 of the published MIDNet pairs, held out from every shipped model's
training. Exports use a crop of it as the bioimage.io test input and cover, and napari
offers it as sample data, so everyone sees the same, real image. Without the published data
at hand it is the crop of 7-1 shipped in the package, so none of this needs the network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from midnet.evaluation.demo import DEMO_GROUP, _inset_box, demo_pair
from midnet.io import read_image


def demo_frame_path() -> Path:
    """The blurry demo frame's file: the full frame when the data is at hand, else the shipped crop."""
    return demo_pair(DEMO_GROUP)[0]


def demo_crop(size: int = 256) -> np.ndarray:
    """A ``size`` x ``size`` uint8 crop of the demo frame's image area: its most textured one,
    as the demo figure's zoom picks it (a test tensor of flat background would pass any model)."""
    image = read_image(demo_frame_path())
    frame = image.array
    if frame.ndim == 3:
        frame = frame[..., 0]
    rows = frame.shape[0] - image.info[0].databar.rows
    y, x, size = _inset_box(frame, rows, size)
    return np.ascontiguousarray(frame[y:y + size, x:x + size])
