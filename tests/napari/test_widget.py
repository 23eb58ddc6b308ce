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
    rows = layer.metadata["midnet_pages"][0].databar.rows
    assert rows == 64  # the published frames' data bar (rows 960..1023)
    expected = Deblurrer.from_pretrained(device="cpu", tile=TILE)(np.asarray(layer.data), databar=rows)
    np.testing.assert_array_equal(restored.data, expected)
    np.testing.assert_array_equal(restored.data[-rows:], layer.data[-rows:])
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


def test_widget_on_a_12_bit_tiff_equals_the_file_midnet_deblur_writes(viewer, qtbot,
                                                                       tmp_path):
    """Issue 21: the widget used to scale a 12-bit frame by 65535 (16 times too dark). It now
    reads the page's value of white from the reader's `PageInfo`, as `midnet deblur` does."""
    import tifffile
    from click.testing import CliRunner
    from scipy.ndimage import gaussian_filter

    from midnet.cli.main import cli
    from midnet.napari.widget import DeblurWidget

    rng = np.random.default_rng(0)
    image = gaussian_filter(rng.random((96, 128)), 2.0)
    image = np.rint((0.15 + 0.7 * (image - image.min()) / np.ptp(image)) * 4095).astype(np.uint16)
    image[-16:] = 0
    image[-12:-7, 4:120:10] = 4095
    path = tmp_path / "f12.tif"
    tifffile.imwrite(path, image)
    res = CliRunner().invoke(cli, ["deblur", str(path), "--out", str(tmp_path / "out"), "--device", "cpu",
                                   "--backend", "eager", "--tile", "0", "-q"])
    assert res.exit_code == 0, res.output

    (layer,) = viewer.open(str(path), plugin="midnet")
    assert [(p.white, p.databar.rows) for p in layer.metadata["midnet_pages"]] == [(4095, 16)]
    widget = DeblurWidget(viewer)
    qtbot.addWidget(widget)
    widget.device_combo.setCurrentText("cpu")
    widget.tile_spin.setValue(0)  # whole image, as --tile 0
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=300_000):
        pass
    np.testing.assert_array_equal(widget.last_output.data, tifffile.imread(tmp_path / "out" / "f12.tif"))
