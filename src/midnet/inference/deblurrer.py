"""`Deblurrer`: restore NumPy arrays and image files with a trained model.

Channel rule (docs/CONTRACT.md): a 1-channel model restores a grey image directly and an RGB
image one colour channel at a time (an RGB file whose three channels are identical, as grey
micrographs saved as RGB are, is restored once and copied to all three, which gives the same
result three times faster); a 3-channel model gets RGB as is and a grey image copied to three
channels, whose outputs are averaged back to grey. Alpha (the 4th channel of RGBA, the 2nd of
grey+alpha) is never touched.

Value range: uint8 and uint16 are scaled by their full range, or by ``max_value`` when the
detector's real range is smaller (a 12-bit frame in a 16-bit file: 4095; files decide it with
`midnet.io.bitdepth.value_range`); floats already in [0, 1] are used as is; other floats (and other integer types) are scaled by the image's own minimum and maximum
and mapped back. Results are clipped to the input's range, so they never wrap.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from midnet import models
from midnet.version import __version__
from midnet.inference.tiling import tiled_inference

log = logging.getLogger(__name__)

DataBar = int | str


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU; ``"cuda"`` without a GPU is an error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was requested but no CUDA GPU is available; use --device cpu")
    return torch.device(device)


#: kept for callers of the old name; the registry answers (first conv of the entry)
model_in_channels = models.in_channels


class Deblurrer:
    """Restores images with ``model``, tile by tile, on ``device``.

    ``tile`` bounds memory (``None``/0: whole image at once); ``overlap`` defaults to
    ``max(32, tile // 8)``; ``batch_size`` tiles go through the model together. ``tlc``
    (True, or the training crop size in px; True means 256) switches on NAFNet's test-time
    local converter: channel attention averages over a local window instead of the whole
    input, which matches how the model was trained and makes tiles agree with each other.
    """

    def __init__(self, model: nn.Module, *, device: str | torch.device = "auto",
                 tile: int | None = 512, overlap: int | None = None, batch_size: int = 4,
                 tlc: bool | int = False, model_name: str | None = None) -> None:
        self.device = resolve_device(device)
        self.model = model.eval().to(self.device)
        if tlc:
            models.enable_tlc(self.model, 256 if tlc is True else int(tlc))
        self.tile = tile
        self.overlap = overlap
        self.batch_size = batch_size
        self.in_channels = models.in_channels(self.model)
        self.model_name = model_name or getattr(model, "midnet_name", type(model).__name__)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, *, device: str = "auto",
                        tile: int | None = 512, overlap: int | None = None, batch_size: int = 4,
                        tlc: bool | int = False) -> Deblurrer:
        """Load a model name with trained weights, a checkpoint file, or (``None``) the default model.

        An architecture name without weights is refused (:class:`midnet.models.NoWeightsError`).
        """
        if name_or_path is None:
            name_or_path = models.DEFAULT_MODEL
            path = models.entry(models.DEFAULT_MODEL).weights_path
            if not path.is_file():
                raise FileNotFoundError(
                    f"the bundled default model is not installed ({path}); pass a model with "
                    "--model NAME_OR_CHECKPOINT (Python: Deblurrer.from_pretrained('path.safetensors'))")
        model = models.load_model(str(name_or_path))
        name = Path(name_or_path).name if Path(str(name_or_path)).suffix else str(name_or_path)
        return cls(model, device=device, tile=tile, overlap=overlap, batch_size=batch_size,
                   tlc=tlc, model_name=name)

    # -- arrays -------------------------------------------------------------------------------

    def restore_float(self, image: np.ndarray) -> np.ndarray:
        """Restore a (C, H, W) float32 array in [0, 1] with C == the model's channels."""
        tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
        out = tiled_inference(self.model, tensor, tile=self.tile, overlap=self.overlap,
                              batch_size=self.batch_size, device=self.device)
        return out[0].numpy()

    def _restore_channels(self, colour: np.ndarray) -> np.ndarray:
        """(H, W, K) float in [0, 1], K in (1, 3) -> same shape, by the channel rule."""
        k = colour.shape[2]
        if self.in_channels == k:
            return self.restore_float(colour.transpose(2, 0, 1)).transpose(1, 2, 0)
        if self.in_channels == 1:
            if all(np.array_equal(colour[..., 0], colour[..., c]) for c in range(1, k)):
                grey = self.restore_float(colour[None, :, :, 0])[0]
                return np.repeat(grey[:, :, None], k, axis=2)
            planes = [self.restore_float(colour[None, :, :, c])[0] for c in range(k)]
            return np.stack(planes, axis=2)
        if self.in_channels == 3 and k == 1:
            rgb = np.repeat(colour.transpose(2, 0, 1), 3, axis=0)
            return self.restore_float(rgb).mean(axis=0)[:, :, None]
        raise ValueError(f"a {self.in_channels}-channel model cannot restore a {k}-channel image")

    def __call__(self, array: np.ndarray, *, databar: DataBar = 0, max_value: int | None = None) -> np.ndarray:
        """Restore ``array`` ((H, W), (H, W, 2|3|4); uint8, uint16 or float): same shape and dtype.

        ``databar`` rows at the bottom are copied unchanged: an int, ``"auto"`` (heuristic, as
        there is no metadata) or ``"none"``/0. Arrays get 0 by default so that the function is
        a plain image-to-image map; `deblur_file` detects the bar by default. ``max_value``
        (integer images) is the value of white, e.g. 4095 for 12-bit data; the result never
        exceeds it.
        """
        array = np.asarray(array)
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4)):
            raise ValueError(f"expected an (H, W) or (H, W, 1-4) image, got shape {array.shape}")
        rows = self._databar_rows(array, databar, max_value)
        height = array.shape[0]
        if rows >= height:
            return array.copy()
        colour, alpha = _split_alpha(array)
        area = colour[:height - rows]
        scaled, unscale = _to_unit(area, max_value)
        restored = unscale(self._restore_channels(scaled))
        out = array.copy()
        if array.ndim == 2:
            out[:height - rows] = restored[..., 0]
        else:
            out[:height - rows, :, :colour.shape[2]] = restored
        if alpha is not None:
            out[..., -1] = alpha
        return out

    @staticmethod
    def _databar_rows(array: np.ndarray, databar: DataBar, max_value: int | None = None) -> int:
        if databar in (None, "none", 0):
            return 0
        if databar == "auto":
            from midnet.io.databar import detect_databar_array

            return detect_databar_array(array, max_value=max_value)
        rows = int(databar)
        if rows < 0:
            raise ValueError(f"databar rows must be >= 0, got {rows}")
        return rows

    # -- files --------------------------------------------------------------------------------

    def processing_note(self) -> str:
        """The note written into the output's metadata (where it overwrites no vendor field)."""
        return f"midnet {__version__} deblur (model: {self.model_name})"

    def deblur_file(self, src: str | Path, dst: str | Path, *, databar: DataBar = "auto",
                    overwrite: bool = False) -> Path:
        """Restore one image file into ``dst`` (same format, size, dtype, metadata, data bar).

        Never writes over ``src``; refuses an existing ``dst`` unless ``overwrite``; writes a
        temporary file beside ``dst`` and renames it. Sidecar ``.txt`` files (JEOL, Hitachi) are
        copied beside the output.
        """
        from midnet.io import read_image, write_image
        from midnet.io.bitdepth import value_range
        from midnet.io.databar import detect_databar
        from midnet.io.sidecar import copy_sidecar

        src, dst = Path(src), Path(dst)
        _check_destination(src, dst, overwrite)
        image = read_image(src)
        pages_meta = image.metadata.get("tiff_pages") or [{"sbit": image.metadata.get("sbit")}]
        pages = []
        total = len(image.pages)
        progress = None
        if total > 1:  # a stack: page by page, with its own progress line
            from tqdm import tqdm

            progress = tqdm(total=total, unit="page", desc=src.name, leave=False, disable=None)
        try:
            for index, page in enumerate(image.pages):
                try:
                    top = value_range(page, pages_meta[index])[0] or None
                    if databar == "auto":
                        rows: DataBar = detect_databar(image, page=index, max_value=top)
                    else:
                        rows = databar
                    pages.append(self(page, databar=rows, max_value=top))
                except Exception as exc:
                    message = " ".join(str(exc).split()).removeprefix(f"{src}: ")
                    where = f"page {index + 1} of {total}: " if total > 1 else ""
                    raise ValueError(f"{src}: {where}{message}") from exc
                if progress is not None:
                    progress.update(1)
        finally:
            if progress is not None:
                progress.close()
        dst.parent.mkdir(parents=True, exist_ok=True)
        write_image(dst, image.with_pages(pages), note=self.processing_note(), overwrite=overwrite)
        copy_sidecar(src, dst, overwrite=overwrite)
        return dst


def _check_destination(src: Path, dst: Path, overwrite: bool) -> None:
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: output would overwrite its input; choose another output folder")
    if dst.exists() and not overwrite:
        raise FileExistsError(f"{dst}: output exists; pass --overwrite (overwrite=True) to replace it")


def _split_alpha(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W) -> ((H, W, 1), None); (H, W, 2|4) -> (colour, alpha); (H, W, 1|3) -> (it, None)."""
    if array.ndim == 2:
        return array[:, :, None], None
    if array.shape[2] in (2, 4):
        return array[:, :, :-1], array[:, :, -1].copy()
    return array, None


def _to_unit(array: np.ndarray, max_value: int | None = None) -> tuple[np.ndarray, Any]:
    """Scale to float32 [0, 1] and return the inverse map (which clips into the input's range).

    ``max_value`` (integer arrays) replaces the dtype's maximum as the value of white.
    """
    from midnet.io import from_float, to_float

    dtype = array.dtype
    if max_value and np.issubdtype(dtype, np.unsignedinteger) and max_value < np.iinfo(dtype).max:
        top = float(max_value)
        return ((array.astype(np.float32) / top),
                lambda x: np.clip(np.rint(x.astype(np.float64) * top), 0, top).astype(dtype))
    if dtype in (np.uint8, np.uint16):
        return to_float(array), lambda x: from_float(x, dtype)
    if np.issubdtype(dtype, np.floating):
        finite = np.isfinite(array)
        values = array[finite]
        lo = float(values.min()) if values.size else 0.0
        hi = float(values.max()) if values.size else 1.0
        if lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0
        span = hi - lo or 1.0
        scaled = np.where(finite, (array.astype(np.float64) - lo) / span, 0.0).astype(np.float32)

        def unscale_float(x: np.ndarray) -> np.ndarray:
            out = np.clip(x.astype(np.float64) * span + lo, lo, hi).astype(dtype)
            return np.where(finite, out, array)

        return scaled, unscale_float
    if np.issubdtype(dtype, np.integer):
        lo, hi = int(array.min()), int(array.max())
        span = (hi - lo) or 1
        scaled = ((array.astype(np.float64) - lo) / span).astype(np.float32)
        return scaled, lambda x: np.clip(np.rint(x.astype(np.float64) * span + lo), lo, hi).astype(dtype)
    raise ValueError(f"unsupported image dtype {dtype}")
