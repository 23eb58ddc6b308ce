"""Evaluation metrics (PSNR, SSIM as in the paper's BasicSR code) and model cost (parameters, MACs).

The quantisation rule is in :mod:`midnet.metrics.quantize`, the formulas in
:mod:`midnet.metrics.image_quality` and :mod:`midnet.metrics.model_cost`.
"""

from midnet.metrics.image_quality import gaussian_window_1d, psnr, ssim, ssim_map
from midnet.metrics.model_cost import count_macs, count_parameters
from midnet.metrics.quantize import quantize, rows_mask

__all__ = [
    "count_macs",
    "count_parameters",
    "gaussian_window_1d",
    "psnr",
    "quantize",
    "rows_mask",
    "ssim",
    "ssim_map",
]
