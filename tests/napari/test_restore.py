"""The widget's worker function: progress counts every model call exactly, cancel stops it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from midnet import Deblurrer
from midnet.napari.restore import model_calls, restore_layer


@pytest.fixture(scope="module")
def deblurrer():
    return Deblurrer.from_pretrained(device="cpu", tile=128)


@pytest.mark.parametrize("shape", [(300, 410), (100, 90), (2, 150, 170)])
def test_progress_total_is_the_number_of_model_calls(deblurrer, shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    reports: list[tuple[int, int]] = []
    out = restore_layer(deblurrer, image, rgb=False, databar=0, progress=lambda d, t: reports.append((d, t)))
    calls = reports[:-1]  # the last report closes the bar
    total = model_calls(deblurrer, *shape[-2:]) * (shape[0] if len(shape) == 3 else 1)
    assert [d for d, _ in calls] == list(range(1, total + 1)) and {t for _, t in reports} == {total}
    planes = image.reshape((-1, *shape[-2:]))
    np.testing.assert_array_equal(out.reshape(planes.shape), np.stack([deblurrer(p) for p in planes]))


def test_cancel_returns_none(deblurrer):
    cancel = threading.Event()
    cancel.set()
    image = np.zeros((200, 200), np.uint8)
    assert restore_layer(deblurrer, image, rgb=False, databar=0, cancel=cancel) is None


def test_progress_counts_psf_tiles():
    """With a PSF per tile every tile is one model call, so the bar ends exactly at its total."""
    psf_tiles = Deblurrer.from_pretrained("sem-psf-preview", device="cpu", psf_map=True)
    image = np.random.default_rng(1).integers(0, 256, (300, 410), dtype=np.uint8)
    reports: list[tuple[int, int]] = []
    restore_layer(psf_tiles, image, rgb=False, databar=0, progress=lambda d, t: reports.append((d, t)))
    total = model_calls(psf_tiles, 300, 410)
    assert total == len(psf_tiles.last_psf.tiles) == 6
    assert [d for d, _ in reports[:-1]] == list(range(1, total + 1))
