"""Take the README's napari screenshot headless: the demo frame restored by the widget, side by side.

    xvfb-run -a python docs/napari_screenshot.py [--out docs/napari-widget.png]

Needs ``midnet[napari]``, the published frames (``MIDNET_DATA`` or ``midnet data download``)
and a display (Xvfb is enough: napari's canvas needs OpenGL, which Qt's offscreen platform lacks).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "napari-widget.png")
    parser.add_argument("--tile", type=int, default=512)
    args = parser.parse_args()

    import napari
    from npe2 import PluginManager, PluginManifest
    from PIL import Image
    from napari._qt.dialogs.qt_notification import NapariQtNotification
    from qtpy.QtCore import QEventLoop
    from qtpy.QtWidgets import QApplication

    from midnet.io.atomic import atomic_write
    from midnet.napari.widget import DeblurWidget

    manager = PluginManager.instance()
    if "midnet" not in manager:  # a source checkout run with PYTHONPATH=src
        from importlib.resources import files

        manager.register(PluginManifest.from_file(str(files("midnet.napari") / "napari.yaml")))
    viewer = napari.Viewer(title="midnet in napari", show=True)
    viewer.window.resize(1500, 820)
    (layer,) = viewer.open_sample("midnet", "demo-frame")
    widget = DeblurWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Deblur (MIDNet)", area="right")
    widget.device_combo.setCurrentText("cpu")
    widget.tile_spin.setValue(args.tile)
    worker = widget.run()
    loop = QEventLoop()
    worker.finished.connect(loop.quit)
    loop.exec()
    widget.side_by_side_check.setChecked(True)
    viewer.layers.selection.active = layer
    for _ in range(3):  # let the canvas take its size before fitting the view to it
        QApplication.processEvents()
        viewer.reset_view()
    for notification in list(viewer.window._qt_window.findChildren(NapariQtNotification)):
        notification.close()
    QApplication.processEvents()
    pixels = viewer.screenshot(canvas_only=False, flash=False)
    atomic_write(args.out, lambda tmp: Image.fromarray(pixels).save(tmp, format="PNG"), overwrite=True)
    print(f"wrote {args.out} ({pixels.shape[1]}x{pixels.shape[0]})")
    viewer.close()


if __name__ == "__main__":
    main()
