"""Restore one image with a PSF-aware network, given a `PSF` and a noise level.

Why a separate, small entry point: the `Deblurrer` (tiling, bit depths, backends) calls a network
with the image only; until it learns to pass a PSF (issue 18, section 1: ``--psf``), this is how
a trained PSF-aware model is scored, e.g. by `midnet.benchmark.heldout`, which treats any
callable taking ``psf=`` and ``noise_sigma=`` (8-bit grey levels) as PSF-aware:

    MIDNET_PSF_MODEL=runs/sem-psf/best.safetensors python -m midnet.benchmark.heldout \\
        --corpus ../shared/data/sem-sharp-corpus --model psf=midnet.inference.psf_restore:restore ...
"""

from __future__ import annotations

import functools
import os

import numpy as np
import torch

from midnet import models
from midnet.psf import PSF
from midnet.psf.render_torch import psf_params

#: the environment variable `restore` reads the model from (a weights file or a registry name)
MODEL_ENV = "MIDNET_PSF_MODEL"


class PSFRestorer:
    """A PSF-aware network on the CPU (or ``device``), restoring whole (H, W) float images."""

    def __init__(self, model: str | torch.nn.Module, device: str = "cpu") -> None:
        net = models.load_model(model) if isinstance(model, str) else model
        if not getattr(net, "psf_aware", False):
            raise ValueError(f"{model}: not a PSF-aware network (it takes no psf=, noise_sigma=)")
        self.net, self.device = net.to(device).eval(), torch.device(device)

    @torch.inference_mode()
    def __call__(self, image: np.ndarray, psf: PSF | None, noise_sigma: float) -> np.ndarray:
        """``image`` float (H, W) in [0, 1]; ``psf`` None or ``PSF("none")``: denoise only;
        ``noise_sigma`` in 8-bit grey levels at mid-grey (as `midnet.psf.estimate_blur` reports)."""
        x = torch.from_numpy(np.asarray(image, np.float32))[None, None].to(self.device)
        rows = None if psf is None or psf.family == "none" else psf_params([psf], device=self.device)
        noise = torch.tensor([float(noise_sigma) / 255.0], device=self.device)
        out = self.net(x, psf=rows, noise_sigma=noise)
        return out[0, 0].clamp(0, 1).cpu().numpy()


@functools.lru_cache(maxsize=2)
def _restorer(model: str) -> PSFRestorer:
    """One restorer per model; ``NAME:untrained`` builds the registered architecture untrained."""
    name, _, state = model.rpartition(":")
    return PSFRestorer(models.create(name) if state == "untrained" else model)


def restore(image: np.ndarray, psf: PSF | None = None, noise_sigma: float = 0.0) -> np.ndarray:
    """`PSFRestorer` of the model named by ``$MIDNET_PSF_MODEL``, as a plain function (for
    ``--model LABEL=midnet.inference.psf_restore:restore``)."""
    model = os.environ.get(MODEL_ENV)
    if not model:
        raise RuntimeError(f"set {MODEL_ENV} to the PSF-aware model's weights file (e.g. runs/sem-psf/best.safetensors)")
    return _restorer(model)(image, psf, noise_sigma)


def wiener_base(image: np.ndarray, psf: PSF | None = None, noise_sigma: float = 0.0) -> np.ndarray:
    """The untrained (identity-initialised) PSF-aware network: its middle Wiener–Tikhonov estimate
    at the initial balance, with no per-image oracle. The reference that shows what training adds
    (``--model wiener-base=midnet.inference.psf_restore:wiener_base``)."""
    return _restorer("midnet-psf-tiny:untrained")(image, psf, noise_sigma)
