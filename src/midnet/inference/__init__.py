"""Inference: tiled restoration of arbitrarily large images and the `Deblurrer` API.

`Deblurrer` (in `midnet.inference.deblurrer`) is imported lazily so that asking for
`default_model_path()` does not import torch.
"""

from __future__ import annotations

from pathlib import Path

#: file name of the bundled default model: the weights of ``models.DEFAULT_MODEL`` (`sem-general`,
#: models/pretrained.py), named here as well so that finding it does not import torch; a test
#: checks that the two agree
DEFAULT_MODEL_FILE = "sem-general.safetensors"

__all__ = ["DEFAULT_MODEL_FILE", "Deblurrer", "default_model_path", "tiled_inference"]


def default_model_path() -> Path:
    """Where the bundled default model lives: ``midnet/weights/sem-general.safetensors``.

    Returns the path whether or not the file exists; `Deblurrer.from_pretrained` checks it and
    tells the user to pass ``--model`` when it is missing.
    """
    return Path(__file__).resolve().parent.parent / "weights" / DEFAULT_MODEL_FILE


def __getattr__(name: str):
    if name == "Deblurrer":
        from midnet.inference.deblurrer import Deblurrer

        return Deblurrer
    if name == "tiled_inference":
        from midnet.inference.tiling import tiled_inference

        return tiled_inference
    raise AttributeError(name)
