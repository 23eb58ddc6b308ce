"""The widget restores a layer in a worker thread exactly as the `Deblurrer` does, adds it above
its input with the data bar untouched, cancels cleanly and shows blurry and restored side by side."""

from __future__ import annotations

import numpy as np
import pytest

TILE = 256


@pytest.fixture
def demo_viewer(viewer, sem_data, monkeypatch, qtbot):
    """A viewer holding the plugin's sample data (the demo frame), and the widget napari would dock."""
    from midnet.napari.widget import DeblurWidget

    monkeypatch.setenv("MIDNET_DATA", str(sem_data))
    (layer,) = viewer.open_sample("midnet", "demo-frame")
    widget = DeblurWidget(viewer)
    qtbot.addWidget(widget)
    widget.device_combo.setCurrentText("cpu")
    widget.tile_spin.setValue(TILE)
    return viewer, widget, layer


def test_widget_result_equals_deblurrer(demo_viewer, qtbot):
    from midnet import Deblurrer

    viewer, widget, layer = demo_viewer
    assert widget.layer_combo.currentText() == layer.name
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=300_000):
        pass
    restored = widget.last_output
    assert restored is not None and restored.name == f"{layer.name} (restored)"
    assert viewer.layers.index(restored) == viewer.layers.index(layer) + 1
    rows = layer.metadata["midnet_databar_rows"][0]
    assert rows == 64  # the published frames' data bar (rows 960..1023)
    expected = Deblurrer.from_pretrained(device="cpu", tile=TILE)(np.asarray(layer.data), databar=rows)
    np.testing.assert_array_equal(restored.data, expected)
    np.testing.assert_array_equal(restored.data[-rows:], layer.data[-rows:])
    assert not np.array_equal(restored.data[:-rows], layer.data[:-rows])
    assert tuple(restored.scale) == tuple(layer.scale)
    assert widget.progress_bar.value() == widget.progress_bar.maximum() > 1

    widget.side_by_side_check.setChecked(True)
    assert viewer.grid.enabled


def test_cancel_adds_nothing(demo_viewer, qtbot):
    viewer, widget, layer = demo_viewer
    count = len(viewer.layers)
    widget.cancel()  # pressed before the first tile: the worker stops at its first model call
    worker = widget.run()
    widget.cancel()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    assert len(viewer.layers) == count
    assert "cancelled" in widget.status.text()
    assert widget.run_button.isEnabled() and not widget.cancel_button.isEnabled()
