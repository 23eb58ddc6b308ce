"""The napari dock widget: restore the selected image layer with a MIDNet model.

Choose the model (the shipped default, a registry name, or a checkpoint file), the device and
the tile size; *Deblur* runs in a worker thread (the viewer stays responsive) with a progress
bar and a *Cancel* button, and adds the restored layer right above its input, with the same
scale and metadata and the data bar passed through unchanged. *Side by side* switches the
viewer to a grid of blurry and restored.

PSF (issue 18): *Estimate PSF* shows the blur of the current layer (family, width, angle of
astigmatism, noise, in-focus probability; `midnet.napari.estimate`). When a PSF-aware model is
chosen (``sem-psf-preview``), the PSF it is given can be ``auto`` (estimated per image, or per
tile), a typed spec (``gaussian:2.0``) or ``none`` (denoise only); a blind model takes none, so
those controls are disabled. The PSF used is shown after the run and kept in the new layer's
processing note.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

#: the model combo's entry for the shipped default model
DEFAULT_MODEL = "default (shipped model)"
#: the model combo's entry that enables the checkpoint path field
CHECKPOINT = "checkpoint file..."
#: the PSF combo's entries (PSF-aware models)
PSF_AUTO = "auto (estimate)"
PSF_SPEC = "typed spec"
PSF_NONE = "none (denoise only)"


class _Progress(QObject):
    """Carries progress from the worker thread to the GUI thread (a queued Qt signal)."""

    changed = Signal(int, int)


def _devices() -> list[str]:
    import torch

    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


class DeblurWidget(QWidget):
    """Dock widget; napari passes the viewer (npe2 widget contribution)."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self._deblurrers: dict[tuple[str | None, str, int, str | None, bool], Any] = {}
        self._cancel = threading.Event()
        self.worker: Any = None
        self.last_output: Any = None
        self.last_estimate: Any = None
        self._input_layer: Any = None
        self._running: Any = None  # the Deblurrer of the run in progress

        self.layer_combo = QComboBox()
        self.model_combo = QComboBox()
        self.model_combo.addItems([DEFAULT_MODEL, *self._shipped_names(), CHECKPOINT])
        self.checkpoint_edit = QLineEdit()
        self.checkpoint_edit.setPlaceholderText("path/to/model.safetensors")
        self.browse_button = QPushButton("Browse...")
        checkpoint_row = QHBoxLayout()
        checkpoint_row.addWidget(self.checkpoint_edit)
        checkpoint_row.addWidget(self.browse_button)
        self.device_combo = QComboBox()
        self.device_combo.addItems(_devices())
        self.tile_spin = QSpinBox()
        self.tile_spin.setRange(0, 8192)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setValue(512)
        self.tile_spin.setSpecialValueText("whole image")
        self.tile_spin.setSuffix(" px")
        self.psf_combo = QComboBox()
        self.psf_combo.addItems([PSF_AUTO, PSF_SPEC, PSF_NONE])
        self.psf_edit = QLineEdit()
        self.psf_edit.setPlaceholderText("gaussian:2.0, astigmatic:2.5,1.2,30, lorentzian:1.5, disc:3")
        self.psf_map_check = QCheckBox("per tile")
        psf_row = QHBoxLayout()
        psf_row.addWidget(self.psf_combo)
        psf_row.addWidget(self.psf_edit)
        psf_row.addWidget(self.psf_map_check)
        self.estimate_button = QPushButton("Estimate PSF")
        self.psf_label = QLabel("")
        self.psf_label.setWordWrap(True)
        self._estimating: Any = None
        self.databar_check = QCheckBox("keep the data bar unchanged (metadata, else detected)")
        self.databar_check.setChecked(True)
        self.run_button = QPushButton("Deblur")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.side_by_side_check = QCheckBox("side by side (blurry | restored)")
        self.status = QLabel("")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("image", self.layer_combo)
        form.addRow("model", self.model_combo)
        form.addRow("checkpoint", checkpoint_row)
        form.addRow("device", self.device_combo)
        form.addRow("tile", self.tile_spin)
        form.addRow("PSF", psf_row)
        form.addRow(self.estimate_button, self.psf_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.databar_check)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.side_by_side_check)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self._progress = _Progress()
        self._progress.changed.connect(self._on_progress)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.browse_button.clicked.connect(self._browse)
        self.model_combo.currentTextChanged.connect(self._model_changed)
        self.psf_combo.currentTextChanged.connect(self._psf_changed)
        self.estimate_button.clicked.connect(self.estimate)
        self.side_by_side_check.toggled.connect(self.set_side_by_side)
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed,
                      self.viewer.layers.events.moved):
            event.connect(self._refresh_layers)
        self.viewer.layers.selection.events.active.connect(self._refresh_layers)
        self._model_changed(self.model_combo.currentText())
        self._refresh_layers()

    # -- choices ----------------------------------------------------------------------------

    @staticmethod
    def _shipped_names() -> list[str]:
        """Registry names that carry trained weights (where the registry knows them)."""
        from midnet import models

        try:
            return list(models.available(trained=True))
        except TypeError:  # a registry without weight entries: only the default and checkpoints
            return []

    def _image_layers(self) -> list[Any]:
        from napari.layers import Image

        return [layer for layer in self.viewer.layers if isinstance(layer, Image)]

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.currentText()
        names = [layer.name for layer in self._image_layers()]
        active = self.viewer.layers.selection.active
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems(names)
        if active is not None and active.name in names:
            self.layer_combo.setCurrentText(active.name)
        elif current in names:
            self.layer_combo.setCurrentText(current)
        self.layer_combo.blockSignals(False)

    def _model_changed(self, text: str) -> None:
        custom = text == CHECKPOINT
        self.checkpoint_edit.setEnabled(custom)
        self.browse_button.setEnabled(custom)
        self._psf_changed(self.psf_combo.currentText())

    def psf_aware(self) -> bool:
        """Whether the chosen model takes a PSF (a checkpoint: whatever it holds; the Deblurrer
        refuses a PSF for a blind one)."""
        from midnet import models

        text = self.model_combo.currentText()
        if text == CHECKPOINT:
            return True
        return models.is_psf_aware(models.DEFAULT_MODEL if text == DEFAULT_MODEL else text)

    def _psf_changed(self, text: str) -> None:
        aware = self.psf_aware()
        self.psf_combo.setEnabled(aware)
        self.psf_edit.setEnabled(aware and text == PSF_SPEC)
        self.psf_map_check.setEnabled(aware and text == PSF_AUTO)

    def psf_choice(self) -> tuple[str | None, bool]:
        """(psf, per tile) for the Deblurrer: (None, False) for a blind model; a typed spec is
        checked here, so that a bad one is an error line before anything runs."""
        if not self.psf_aware():
            return None, False
        text = self.psf_combo.currentText()
        if text == PSF_NONE:
            return "none", False
        if text == PSF_SPEC:
            from midnet.inference.psf_choice import parse_psf

            spec = self.psf_edit.text().strip()
            if not spec:
                raise ValueError("type a PSF spec (e.g. gaussian:2.0) or choose auto or none")
            parse_psf(spec)
            return spec.lower(), False
        return "auto", self.psf_map_check.isChecked()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model checkpoint", "",
                                              "Checkpoints (*.safetensors *.ckpt *.pth *.pt)")
        if path:
            self.checkpoint_edit.setText(path)

    def model_choice(self) -> str | None:
        """None for the shipped default, else a registry name or a checkpoint path."""
        text = self.model_combo.currentText()
        if text == DEFAULT_MODEL:
            return None
        if text == CHECKPOINT:
            path = self.checkpoint_edit.text().strip()
            if not path:
                raise ValueError("choose a checkpoint file (Browse...) or another model")
            if not Path(path).is_file():
                raise FileNotFoundError(f"{path}: no such checkpoint file")
            return path
        return text

    def selected_layer(self) -> Any:
        name = self.layer_combo.currentText()
        for layer in self._image_layers():
            if layer.name == name:
                return layer
        raise ValueError("open an image first (File > Open, or File > Open Sample > midnet)")

    def deblurrer(self) -> Any:
        """The `Deblurrer` for the current choices (cached: loading a model takes a moment)."""
        from midnet.inference.deblurrer import Deblurrer

        psf, psf_map = self.psf_choice()
        key = (self.model_choice(), self.device_combo.currentText(), self.tile_spin.value(), psf, psf_map)
        if key not in self._deblurrers:
            deblurrer = Deblurrer.from_pretrained(key[0], device=key[1], tile=key[2],  # tile 0: whole image
                                                  psf=psf, psf_map=psf_map)
            deblurrer.prepare(compile_if_missing=False)  # interactive: a cached compiled model or eager
            self._deblurrers[key] = deblurrer
        return self._deblurrers[key]

    # -- running ----------------------------------------------------------------------------

    def run(self) -> Any:
        """Start restoring the selected layer in a worker thread; returns the worker."""
        from napari.qt.threading import create_worker

        from midnet.napari.restore import restore_layer

        if self.worker is not None:
            return self.worker
        try:
            layer = self.selected_layer()
            deblurrer = self.deblurrer()
        except (FileNotFoundError, KeyError, ValueError) as exc:
            self._say(str(exc).strip("'\""), error=True)
            return None
        rows, white = self.page_facts(layer)
        self._cancel.clear()
        self._input_layer = layer
        self._running = deblurrer
        worker = create_worker(restore_layer, deblurrer, np.asarray(layer.data), rgb=bool(layer.rgb),
                               databar=rows, white=white, cancel=self._cancel, progress=self._progress.changed.emit,
                               _start_thread=False)
        worker.returned.connect(self._add_result)
        worker.errored.connect(self._failed)
        worker.finished.connect(self._finished)
        self.worker = worker
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._say(f"restoring {layer.name} with {deblurrer.model_name} on {deblurrer.device}...")
        worker.start()
        return worker

    def estimate(self) -> Any:
        """Estimate the PSF of the selected layer's shown plane in a worker thread; the result
        goes into the PSF label. Returns the worker (None when there is no layer)."""
        from napari.qt.threading import create_worker

        from midnet.napari.estimate import estimate_layer

        if self._estimating is not None:
            return self._estimating
        try:
            layer = self.selected_layer()
        except ValueError as exc:
            self._say(str(exc), error=True)
            return None
        rows, _white = self.page_facts(layer)
        worker = create_worker(estimate_layer, np.asarray(layer.data), rgb=bool(layer.rgb), databar=rows,
                               plane=self._shown_plane(layer), _start_thread=False)
        worker.returned.connect(self._show_estimate)
        worker.errored.connect(lambda exc: self.psf_label.setText(f"cannot estimate: {exc}"))
        worker.finished.connect(self._estimate_finished)
        self._estimating = worker
        self.estimate_button.setEnabled(False)
        self.psf_label.setText(f"estimating the PSF of {layer.name}...")
        worker.start()
        return worker

    def _shown_plane(self, layer: Any) -> int:
        """The index of the plane the viewer shows of a stack (0 for a single image)."""
        spatial = 3 if layer.rgb else 2
        leading = np.asarray(layer.data).shape[:-spatial]
        if not leading:
            return 0
        step = self.viewer.dims.current_step[:len(leading)]
        return int(np.ravel_multi_index(tuple(min(s, n - 1) for s, n in zip(step, leading)), leading))

    def _show_estimate(self, est: Any) -> None:
        from midnet.napari.estimate import summary

        self.last_estimate = est
        self.psf_label.setText(summary(est))

    def _estimate_finished(self) -> None:
        self._estimating = None
        self.estimate_button.setEnabled(True)

    def page_facts(self, layer: Any) -> tuple[list[int] | str, list[int | None] | None]:
        """(data bar rows, value of white) per plane, from the pages' `midnet.io.PageInfo` that the
        reader put into the layer; a layer from elsewhere gets ``"auto"`` (its pixels) and its
        dtype's range. The checkbox off: no data bar."""
        pages = layer.metadata.get("midnet_pages") or []
        rows: list[int] | str = [page.databar.rows for page in pages] or "auto"
        if not self.databar_check.isChecked():
            rows = "none"
        return rows, [page.white for page in pages] or None

    def cancel(self) -> None:
        self._cancel.set()
        self._say("cancelling...")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    def _add_result(self, restored: np.ndarray | None) -> None:
        if restored is None:
            self._say("cancelled; nothing was added")
            return
        layer, deblurrer = self._input_layer, self._running
        metadata = dict(layer.metadata)
        metadata["midnet_processing"] = deblurrer.processing_note(deblurrer.last_psf)
        kwargs: dict[str, Any] = dict(
            name=f"{layer.name} (restored)", scale=layer.scale, translate=layer.translate,
            metadata=metadata, rgb=layer.rgb, colormap=layer.colormap.name,
            contrast_limits=layer.contrast_limits)
        if getattr(layer, "units", None) is not None:
            kwargs["units"] = layer.units
        new = self.viewer.add_image(restored, **kwargs)
        # beside its input: directly above it in the layer list
        here, there = self.viewer.layers.index(new), self.viewer.layers.index(layer) + 1
        if here != there:
            self.viewer.layers.move(here, there)
        self.last_output = new
        used = f"; {deblurrer.last_psf.describe()}" if deblurrer.last_psf is not None else ""
        self._say(f"restored {layer.name} -> {new.name}{used}")
        if self.side_by_side_check.isChecked():
            self.set_side_by_side(True)

    def _failed(self, exc: BaseException) -> None:
        self._say(f"failed: {type(exc).__name__}: {exc}", error=True)

    def _finished(self) -> None:
        self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def set_side_by_side(self, on: bool) -> None:
        """Grid view: each layer in its own linked panel, the input beside its restored copy."""
        self.viewer.grid.enabled = bool(on)
        if on:
            self.viewer.grid.stride = 1
            self.viewer.grid.shape = (1, -1)
        if self.side_by_side_check.isChecked() != bool(on):
            self.side_by_side_check.setChecked(bool(on))

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #e05050" if error else "")
