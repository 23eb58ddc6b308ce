"""The widget's PSF controls: the estimate of the current layer is shown, and with the PSF-aware
model the user steers it (auto, a typed spec, none) and gets what the `Deblurrer` gives."""

from __future__ import annotations

import numpy as np
import pytest

from midnet.psf import PSF
from specimens import degrade, textured


@pytest.fixture
def psf_viewer(viewer, qtbot):
    from midnet.napari.widget import DeblurWidget

    image = np.rint(degrade(textured((192, 256), seed=2), PSF("gaussian", 2.5), 2.0) * 255).astype(np.uint8)
    layer = viewer.add_image(image, name="blurred")
    widget = DeblurWidget(viewer)
    qtbot.addWidget(widget)
    widget.device_combo.setCurrentText("cpu")
    widget.tile_spin.setValue(0)
    widget.databar_check.setChecked(False)
    return viewer, widget, layer


def test_psf_controls_follow_the_model(psf_viewer):
    from midnet.napari.widget import DEFAULT_MODEL, PSF_AUTO, PSF_SPEC

    _, widget, _ = psf_viewer
    assert widget.model_combo.currentText() == DEFAULT_MODEL
    assert not widget.psf_combo.isEnabled() and widget.psf_choice() == (None, False)  # sem-general is blind
    widget.model_combo.setCurrentText("sem-psf-preview")
    assert widget.psf_combo.isEnabled() and widget.psf_map_check.isEnabled() and not widget.psf_edit.isEnabled()
    assert widget.psf_choice() == ("auto", False)
    widget.psf_combo.setCurrentText(PSF_SPEC)
    assert widget.psf_edit.isEnabled() and not widget.psf_map_check.isEnabled()
    widget.psf_combo.setCurrentText(PSF_AUTO)
    widget.psf_map_check.setChecked(True)
    assert widget.psf_choice() == ("auto", True)


def test_estimate_shows_the_layers_psf(psf_viewer, qtbot):
    from midnet.napari.estimate import summary
    from midnet.psf import estimate_blur

    _, widget, layer = psf_viewer
    worker = widget.estimate()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    expected = estimate_blur(np.asarray(layer.data), with_map=False)
    assert widget.psf_label.text() == summary(expected)
    assert widget.psf_label.text().startswith(("gaussian σ ", "astigmatic σ ")) and "in focus" in widget.psf_label.text()
    assert widget.estimate_button.isEnabled()


def test_a_typed_spec_steers_the_restoration(psf_viewer, qtbot):
    from midnet import Deblurrer
    from midnet.napari.widget import PSF_NONE, PSF_SPEC

    _, widget, layer = psf_viewer
    widget.model_combo.setCurrentText("sem-psf-preview")
    widget.psf_combo.setCurrentText(PSF_SPEC)
    widget.psf_edit.setText("gaussian:x")
    assert widget.run() is None and "accepted: auto, none" in widget.status.text()
    widget.psf_edit.setText("gaussian:2")
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    expected = Deblurrer.from_pretrained("sem-psf-preview", device="cpu", tile=0, psf="gaussian:2")(
        np.asarray(layer.data), databar="none")
    np.testing.assert_array_equal(widget.last_output.data, expected)
    assert "PSF gaussian σ 2 px (given)" in widget.status.text()
    assert widget.last_output.metadata["midnet_processing"].endswith("psf gaussian:2 given)")
    widget.psf_combo.setCurrentText(PSF_NONE)
    worker = widget.run()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    assert "PSF none, denoise only (given)" in widget.status.text()
    assert not np.array_equal(widget.last_output.data, expected)
