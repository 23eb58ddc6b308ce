"""The demo frame: one real blurry SEM frame that the demo, the napari sample and exports share.

It is source image 7-1 of the published MIDNet pairs, held out from the bundled model's
training. Exports use a crop of it as the bioimage.io test input and cover, and napari
offers it as sample data, so everyone sees the same, real image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: the source image held out from the bundled model's training (validation image)
DEMO_GROUP = "7-1"
#: rows 960..1023 of a published 1280x1024 frame are the microscope's data bar
FRAME_IMAGE_ROWS = 960


def demo_frame_path() -> Path:
    """The blurry demo frame's file (``$MIDNET_DATA`` or the download cache; no download here).

    Raises ``FileNotFoundError`` saying how to get it (`midnet data download`).
    """
    from midnet.datasets import frame_pair

    return frame_pair(DEMO_GROUP)[0]


def demo_crop(size: int = 256) -> np.ndarray:
    """A ``size`` x ``size`` uint8 crop of the demo frame's image area, its most textured one.

    Texture matters: a test tensor of flat background would pass any model.
    """
    from midnet.io import read_image

    frame = read_image(demo_frame_path()).array
    if frame.ndim == 3:
        frame = frame[..., 0]
    area = frame[:FRAME_IMAGE_ROWS].astype(np.float32)
    best, best_yx = -1.0, (0, 0)
    for y in range(0, area.shape[0] - size + 1, size // 2):
        for x in range(0, area.shape[1] - size + 1, size // 2):
            v = float(area[y:y + size, x:x + size].var())
            if v > best:
                best, best_yx = v, (y, x)
    y, x = best_yx
    return np.ascontiguousarray(frame[y:y + size, x:x + size])
