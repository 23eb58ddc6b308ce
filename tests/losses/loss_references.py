"""Independent NumPy/SciPy computations of the loss terms (no midnet code), shared by the loss tests."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def reference_laplacian(img: np.ndarray) -> np.ndarray:
    """MPRNet's pyramid step per (H, W) plane: SciPy correlate with 'nearest' = replicate padding."""
    g = np.array([0.05, 0.25, 0.4, 0.25, 0.05])
    kernel = np.outer(g, g)
    filtered = ndimage.correlate(img, kernel, mode="nearest")
    up = np.zeros_like(img)
    up[::2, ::2] = 4 * filtered[::2, ::2]
    return img - ndimage.correlate(up, kernel, mode="nearest")


def reference_edge_loss(pred: np.ndarray, target: np.ndarray, eps: float = 1e-3) -> float:
    b, c = pred.shape[:2]
    diffs = [reference_laplacian(pred[i, j]) - reference_laplacian(target[i, j]) for i in range(b) for j in range(c)]
    d = np.stack(diffs)
    return float(np.mean(np.sqrt(d**2 + eps**2)))


def reference_weight(h: int, w: int, gain: float) -> np.ndarray:
    """|frequency| in cycles/pixel from integer indices (min(u, H−u)/H), divided by Nyquist 0.5."""
    fy = np.array([min(u, h - u) / h for u in range(h)])
    fx = np.array([min(v, w - v) / w for v in range(w)])
    rho = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2) / 0.5
    return 1 + gain * rho


def reference_weighted_l2(pred: np.ndarray, target: np.ndarray, gain: float) -> float:
    """Eq. 12 with an unnormalised DFT, 1/(W·H), and one more 1/(W·H); averaged over images and channels."""
    h, w = pred.shape[-2:]
    weight = reference_weight(h, w, gain)
    values = []
    for plane_p, plane_t in zip(pred.reshape(-1, h, w), target.reshape(-1, h, w)):
        f = np.fft.fft2(plane_p) - np.fft.fft2(plane_t)
        values.append(np.sum(weight * np.abs(f) ** 2) / (w * h) / (w * h))
    return float(np.mean(values))


def reference_l1(pred: np.ndarray, target: np.ndarray) -> float:
    h, w = pred.shape[-2:]
    f = (np.fft.rfft2(pred) - np.fft.rfft2(target)) / np.sqrt(h * w)
    return float(np.mean(np.concatenate([np.abs(f.real).ravel(), np.abs(f.imag).ravel()])))


def reference_l1_term(pred: np.ndarray, target: np.ndarray) -> float:
    """L_d: the mean absolute difference over every pixel and channel."""
    return float(np.mean(np.abs(pred - target)))
