"""midnet's napari plugin (npe2): a reader for SEM files, the deblurring widget, the demo frame.

napari finds it through the ``napari.manifest`` entry point (``napari.yaml`` beside this file)
and imports the contributions lazily, so this package imports neither napari nor torch.
Install with ``pip install midnet[napari]``.
"""
