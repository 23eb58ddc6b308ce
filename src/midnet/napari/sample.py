"""napari sample data: the blurry demo frame, read through the plugin's own reader."""

from __future__ import annotations

from midnet.napari.reader import LayerData, layer_data


def demo_frame() -> list[LayerData]:
    """The demo's blurry SEM frame (source image 7-1, held out from the bundled model's training)."""
    from midnet.evaluation.demo_frame import demo_frame_path

    data, kwargs, kind = layer_data(demo_frame_path())
    kwargs["name"] = "SEM demo frame (blurry)"
    return [(data, kwargs, kind)]
