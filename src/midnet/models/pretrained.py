"""Trained models shipped in ``midnet/weights/``, usable by name (`midnet deblur --model NAME`).

One line per model: name, architecture, weights file, and the training crop size (both were
trained on 128 px crops; the model cards say so), which sets TLC's window at inference. ``DEFAULT_MODEL`` is what commands use
when no ``--model`` is given. Model cards: ``docs/models/``.
"""

from __future__ import annotations

from midnet.models import zoo as _zoo  # noqa: F401  (the architectures must be registered first)
from midnet.models.registry import register_alias, register_weights

register_weights("sem-general", "midnet-tiny", "sem-general.safetensors", train_size=128,
                 description="midnet-tiny trained on synthetic SEM defocus of sharp micrographs from many "
                             "microscopes plus the published real pairs; leaves in-focus images alone "
                             "(docs/models/sem-general.md)")
register_weights("sem-jeol-alloy", "midnet-tiny", "sem-jeol-alloy.safetensors", train_size=128,
                 description="sem-general fine-tuned on the published JEOL alloy pairs 1-1..6-1 "
                             "(docs/models/sem-jeol-alloy.md)")
# opt-in, never a default: told the PSF (--psf auto|SPEC|none), it is a 17-minute CPU preview
register_weights("sem-psf-preview", "midnet-psf-tiny", "sem-psf-preview.safetensors", train_size=128,
                 description="PSF-aware preview (midnet-psf-tiny, 17 min on 2 CPU cores): Wiener deconvolutions "
                             "with the given or estimated PSF refined by MIDNet; use with --psf "
                             "(docs/models/sem-psf-preview.md)")
#: the model `--psf` uses when no --model is given
PSF_MODEL = "sem-psf-preview"
# the first bundled model (trained on the alloy pairs alone) harmed other microscopes' images and
# in-focus ones; its name now loads the specialist that replaced it
register_alias("midnet-sem-default", "sem-jeol-alloy",
               note="the first bundled model was retired (docs/models/sem-jeol-alloy.md)", deprecated=True)

#: the model used when a command gets no --model
DEFAULT_MODEL = "sem-general"
