"""Trained models shipped in ``midnet/weights/``, usable by name (`midnet deblur --model NAME`).

One line per model: name, architecture, weights file. ``DEFAULT_MODEL`` is what commands use
when no ``--model`` is given.
"""

from __future__ import annotations

from midnet.models import zoo as _zoo  # noqa: F401  (the architectures must be registered first)
from midnet.models.registry import register_weights

register_weights("midnet-sem-default", "midnet-tiny", "midnet-sem-default.safetensors",
                 description="midnet-tiny trained on the published SEM frames 1-1..6-1 (docs/model-card.md)")

#: the model used when a command gets no --model
DEFAULT_MODEL = "midnet-sem-default"
