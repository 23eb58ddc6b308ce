"""Grey-ramp palettes with overlay colours, as Zeiss SmartSEM writes its 8-bit TIFFs.

SmartSEM stores an 8-bit frame as a palette image (Photometric = 3) whose colour map is a grey
ramp except for a few *overlay* entries (in the files seen, every 9th index: 9, 18, ..., 243)
that only the annotation and data-bar overlay uses. The raw index therefore *is* the grey
level: applying the colour map (or converting with Pillow) would paint overlay colours into
the data and change the bar's pixels. So midnet restores the raw indices and, before writing,
maps every restored value to the nearest index that is on the grey ramp; overlay pixels are
put back exactly where they were. The output is then still a valid Zeiss file whose overlay
colours appear only where SmartSEM drew them.

One type for every format: TIFF colour maps, PNG and BMP palettes are all read into an
`OverlayPalette` that keeps the file's own colours, so every writer puts the same palette back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a palette is "grey with overlays" when at least this fraction of its entries is on the ramp
MIN_GREY_FRACTION = 0.5
#: an entry is "on the ramp" when R = G = B (within this fraction of full scale) ~ index level
RAMP_TOLERANCE = 0.01


def grey_ramp_entries(palette: np.ndarray) -> np.ndarray:
    """Boolean (N,): which entries of an (N, 3) palette are grey and at the level of their index."""
    palette = np.asarray(palette, dtype=np.float64)
    if palette.ndim != 2 or palette.shape[1] < 3 or palette.shape[0] < 2:
        return np.zeros(len(palette), dtype=bool)
    n = palette.shape[0]
    full = 65535.0 if palette.max() > 255 else 255.0
    ramp = np.arange(n) * full / (n - 1)
    grey = np.ptp(palette[:, :3], axis=1) <= RAMP_TOLERANCE * full
    return grey & (np.abs(palette[:, 0] - ramp) <= RAMP_TOLERANCE * full)


def is_grey_with_overlays(palette: np.ndarray, min_fraction: float = MIN_GREY_FRACTION) -> bool:
    """True when the palette is a grey ramp apart from (up to half of) its entries.

    The ramp entries must also span the range (from the bottom tenth to the top tenth), so a
    false-colour map that happens to cross grey somewhere is not taken for one.
    """
    on_ramp = grey_ramp_entries(palette)
    grey = np.flatnonzero(on_ramp)
    n = len(on_ramp)
    return bool(grey.size and on_ramp.mean() >= min_fraction and grey[0] <= 0.1 * n and grey[-1] >= 0.9 * (n - 1))


@dataclass(frozen=True, eq=False)
class OverlayPalette:
    """What a palette page needs to be written back validly (see the module docstring)."""

    #: the file's colours, (N, 3), in its own units (uint16 for a TIFF colour map, uint8 for PNG/BMP)
    colours: np.ndarray
    #: the N entries' lookup: value v -> nearest index on the grey ramp
    nearest_grey: np.ndarray
    #: the overlay (non-ramp) indices, sorted
    overlay: np.ndarray

    @classmethod
    def from_palette(cls, palette: np.ndarray) -> OverlayPalette:
        on_ramp = grey_ramp_entries(palette)
        grey = np.flatnonzero(on_ramp)
        values = np.arange(len(on_ramp))
        # nearest ramp index; ties go to the lower one (argmin takes the first)
        nearest = grey[np.argmin(np.abs(values[:, None] - grey[None, :]), axis=1)]
        dtype = np.uint8 if len(on_ramp) <= 256 else np.uint16
        return cls(np.asarray(palette), nearest.astype(dtype), np.flatnonzero(~on_ramp))

    def overlay_mask(self, indices: np.ndarray) -> np.ndarray:
        """Where ``indices`` holds an overlay colour."""
        return np.isin(indices, self.overlay)

    def conform(self, restored: np.ndarray,
                original_overlay: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """``restored`` with every value on the ramp and the original overlay pixels put back.

        ``original_overlay`` is (flat positions, values) of the overlay pixels of the input page
        (None: it had none).
        """
        out = self.nearest_grey[np.clip(restored, 0, len(self.nearest_grey) - 1)].astype(restored.dtype)
        if original_overlay is not None:
            positions, values = original_overlay
            out.reshape(-1)[positions] = values
        return out
