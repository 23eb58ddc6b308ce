"""Which PSF a PSF-aware model is given, and the record of it: ``auto``, a spec, a `PSF`, ``none``.

Why a record: a PSF-aware restoration depends on the PSF as much as on the model, so the user
must see which one was used and whether it was estimated or given (`PSFUsed.describe` is the
line `midnet deblur` prints per file, `PSFUsed.note` what the output's processing note keeps).

``auto`` estimates the whole image (`midnet.psf.estimate_blur`: family, width, astigmatism,
noise); an image that reads as in focus (probability at least
`midnet.psf.tiles.IN_FOCUS_CUTOFF`) is given ``none``, because that is what the network was
trained to get for in-focus images (a small estimated width would make it sharpen noise). A
given PSF is used as it is. The noise level is estimated from the image unless the user gives
it (``noise``): a texture finer than the noise can read as noise, and the user who knows the
detector's noise can say so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from midnet.psf import PSF
from midnet.psf.estimate import estimate_array
from midnet.psf.noise import estimate_noise
from midnet.inference.psf_tiles import tile_layout
from midnet.psf.tiles import IN_FOCUS_CUTOFF, TileEstimate, estimate_tiles

AUTO = "auto"
#: accepted values, for error messages
SYNTAX = ("auto, none, gaussian:σ, astigmatic:major,minor,angle (e.g. astigmatic:2.5,1.2,30), "
          "lorentzian:σ or disc:radius")
PSFArg = str | PSF | None
Source = Literal["estimated", "given"]


def parse_psf(value: PSFArg) -> PSF | Literal["auto"] | None:
    """``None`` (the model's default), ``"auto"``, or a `PSF` from a spec string or a `PSF`.

    A bad spec is one line with the accepted syntax."""
    if value is None or isinstance(value, PSF):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return AUTO
        try:
            return PSF.parse(text)
        except ValueError as exc:
            reason = str(exc).removeprefix(repr(text) + ": ")
            if reason.startswith("unknown PSF"):  # PSF.parse lists the families itself
                reason = f"unknown PSF family {text.partition(':')[0]!r}"
            raise ValueError(f"psf {value!r}: {reason}; accepted: {SYNTAX}") from None
    raise TypeError(f"psf must be 'auto', a spec string or a midnet.psf.PSF, got {type(value).__name__} "
                    f"(a sampled kernel cannot be given: describe it as a spec, accepted: {SYNTAX})")


def describe_psf(psf: PSF) -> str:
    """``gaussian σ 2.1 px``, ``astigmatic σ 2.5×1.2 px at 30°``, ``disc R 3 px``, ``none``."""
    if psf.family == "none":
        return "none"
    if psf.family == "astigmatic":
        return f"astigmatic σ {psf.sigma_px:.2g}×{float(psf.sigma_minor_px or 0):.2g} px at {psf.angle_deg:.0f}°"
    if psf.family == "disc":
        return f"disc R {psf.radius:.2g} px"
    return f"{psf.family} σ {psf.sigma_px:.2g} px"


@dataclass(frozen=True)
class PSFUsed:
    """The PSF one image (page) was restored with, and where it came from.

    ``psf``: what the network was given (``none``: denoise only); with per-tile PSFs, the
    whole-image estimate, and ``tiles`` the per-tile ones. ``estimate``: the whole-image
    estimate when there was one (also when ``none`` was chosen because the image is in focus).
    ``noise_sigma``: σ at mid-grey in [0, 1] units (×255 for 8-bit grey levels);
    ``noise_given``: whether the user gave it (else it was estimated).
    """

    psf: PSF
    source: Source
    noise_sigma: float
    in_focus: float | None = None
    estimate: PSF | None = None
    tiles: tuple[TileEstimate, ...] | None = None
    noise_given: bool = False

    def describe(self) -> str:
        """One line for people: ``PSF gaussian σ 2.1 px (estimated)``."""
        if self.tiles:
            widths = self._tile_widths()
            focused = len(self.tiles) - len(widths)
            span = f"{self.psf.family} σ {min(widths):.2g}–{max(widths):.2g} px" if widths else "none"
            extra = f", {focused} in focus" if focused and widths else ""
            count = f"{len(self.tiles)} tile" + ("s" if len(self.tiles) > 1 else "")
            return f"PSF per tile: {span} over {count}{extra} ({self.source}){self._noise_note()}"
        why = ""
        if self.psf.family == "none" and self.source == "estimated" and self.in_focus is not None:
            why = f", in focus P={self.in_focus:.2f}"
        denoise = ", denoise only" if self.psf.family == "none" else ""
        return f"PSF {describe_psf(self.psf)}{denoise} ({self.source}{why}){self._noise_note()}"

    def _noise_note(self) -> str:
        """``; noise 2.0/255 given`` when the user gave the noise (the estimate is not printed)."""
        return f"; noise {self.noise_sigma * 255:.3g}/255 given" if self.noise_given else ""

    def note(self) -> str:
        """Short and machine-readable, for the output's processing note: ``psf gaussian:2.1 estimated``."""
        if self.tiles:
            widths = self._tile_widths()
            span = f"{self.psf.family}:{min(widths):.3g}-{max(widths):.3g}" if widths else "none"
            return f"psf per tile {span} ({len(self.tiles)} tiles) {self.source}{self._noise_tag()}"
        return f"psf {self.psf} {self.source}{self._noise_tag()}"

    def _noise_tag(self) -> str:
        return f" noise {self.noise_sigma:.4g} given" if self.noise_given else ""

    def _tile_widths(self) -> list[float]:
        """σ-equivalent widths of the tiles that were given a blur (not ``none``)."""
        return [t.psf.sigma_px for t in self.tiles or () if t.psf.family != "none"]


def choose_psf(grey: np.ndarray, psf: PSF | Literal["auto"], noise: float | None = None) -> PSFUsed:
    """The `PSFUsed` for a grey float image in [0, 1]: estimated (``auto``) or given.

    ``noise``: σ at mid-grey in [0, 1] units, given by the user; None: estimated."""
    grey = np.asarray(grey, np.float64)
    if psf == AUTO:
        est = estimate_array(grey, with_map=False)
        chosen = PSF("none") if est.in_focus >= IN_FOCUS_CUTOFF else est.psf
        sigma = est.noise.sigma_mid if noise is None else float(noise)
        return PSFUsed(chosen, "estimated", sigma, est.in_focus, est.psf, noise_given=noise is not None)
    sigma = estimate_noise(grey).sigma_mid if noise is None else float(noise)
    return PSFUsed(psf, "given", sigma, noise_given=noise is not None)


def choose_tile_psfs(grey: np.ndarray, tile: int, noise: float | None = None) -> PSFUsed:
    """The `PSFUsed` with one estimated PSF per half-overlapping ``tile`` px tile
    (`midnet.psf.tiles`); its ``psf`` is the whole-image estimate the tiles take their family from."""
    whole = choose_psf(grey, AUTO, noise)
    reference = whole.estimate or whole.psf
    tiles = estimate_tiles(grey, tile_layout(*grey.shape, tile), reference)
    return replace(whole, psf=reference, tiles=tuple(tiles))


def grey_of(image: np.ndarray) -> np.ndarray:
    """(H, W) float64 of an (H, W) or (H, W, K) float image: colour to BT.601 luma, as the PSF of
    a colour micrograph is estimated (the channels share one column)."""
    grey = np.asarray(image, np.float64)
    if grey.ndim == 3:
        grey = grey[..., 0] if grey.shape[2] == 1 else grey[..., :3] @ np.array([0.299, 0.587, 0.114])
    return grey


__all__ = ["AUTO", "SYNTAX", "PSFUsed", "choose_psf", "choose_tile_psfs", "describe_psf", "grey_of", "parse_psf"]
