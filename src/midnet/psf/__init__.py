"""Blur and noise of SEM images: the PSF families (`PSF`) and their estimation from one image.

    from midnet.psf import estimate_blur
    est = estimate_blur("frame.tif")       # or a grey float array in [0, 1]
    est.psf, est.noise_sigma, est.in_focus, est.as_dict()
"""

from midnet.psf.api import estimate_blur
from midnet.psf.estimate import BlurEstimate, estimate_array
from midnet.psf.kernels import FAMILIES, PSF
from midnet.psf.noise import NoiseEstimate, estimate_noise

__all__ = ["FAMILIES", "PSF", "BlurEstimate", "NoiseEstimate", "estimate_array", "estimate_blur", "estimate_noise"]
