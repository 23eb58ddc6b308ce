"""Training losses of MIDNet: L1 (L_d), edge (L_e) and FFT (L_f) terms and their weighted sum.

Formulas are in each module's docstring: :mod:`midnet.losses.edge`, :mod:`midnet.losses.fft`,
:mod:`midnet.losses.multi`.
"""

from midnet.losses.edge import EdgeLoss, charbonnier, gaussian_kernel, laplacian
from midnet.losses.fft import DEFAULT_FFT_MODE, FFT_MODES, FFTLoss, radial_weight
from midnet.losses.multi import MultiLoss

__all__ = [
    "DEFAULT_FFT_MODE",
    "FFT_MODES",
    "EdgeLoss",
    "FFTLoss",
    "MultiLoss",
    "charbonnier",
    "gaussian_kernel",
    "laplacian",
    "radial_weight",
]
