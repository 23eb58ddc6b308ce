"""midnet: deblurring SEM images of material microstructures (MIDNet, Wang et al. 2024)."""

from __future__ import annotations

from midnet.version import __version__

__all__ = ["__version__", "Deblurrer", "estimate_blur"]


def __getattr__(name: str):  # lazy: importing midnet must not pull in torch-heavy modules
    if name == "Deblurrer":
        from midnet.inference.deblurrer import Deblurrer

        return Deblurrer
    if name == "estimate_blur":  # `midnet estimate` in Python: blur, noise and focus of one image
        from midnet.psf import estimate_blur

        return estimate_blur
    raise AttributeError(name)
