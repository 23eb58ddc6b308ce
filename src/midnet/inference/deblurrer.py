"""`Deblurrer`: restore NumPy arrays and image files with a trained model.

Channel rule (docs/CONTRACT.md): a 1-channel model restores a grey image directly and an RGB
image one colour channel at a time (an RGB file whose three channels are identical, as grey
micrographs saved as RGB are, is restored once and copied to all three, which gives the same
result three times faster); a 3-channel model gets RGB as is and a grey image copied to three
channels, whose outputs are averaged back to grey. Alpha (the 4th channel of RGBA, the 2nd of
grey+alpha) is never touched.

Value range: uint8 and uint16 are scaled by their full range, or by ``max_value`` when the
detector's real range is smaller (a 12-bit frame in a 16-bit file: 4095; for files it is the
page's value of white, `midnet.io.pageinfo.PageInfo.white`); floats already in [0, 1] are used
as is; other floats (and other integer types) are scaled by the image's own minimum and maximum
and mapped back. Results are clipped to the input's range, so they never wrap.

PSF (issue 18): a PSF-aware model (`models.is_psf_aware`, e.g. ``sem-psf-preview``) is given
the PSF of each image: ``psf="auto"`` (its default) estimates it from the image area, a spec
(``gaussian:2.0``) or a `midnet.psf.PSF` is used as given, ``"none"`` only denoises; with
``psf_map`` each tile gets its own estimate (`midnet.inference.psf_tiles`). What was used is
`Deblurrer.last_psf` (a `PSFUsed`) and goes into the output file's processing note. A blind
model takes no PSF: giving it one is an error that names the PSF-aware model.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from midnet import models
from midnet.inference import psf_tiles
from midnet.inference.psf_choice import AUTO, PSFArg, PSFUsed, choose_psf, choose_tile_psfs, grey_of, parse_psf
from midnet.inference.tiling import Progress, TilePlan, model_alignment, run_plan
from midnet.psf import PSF
from midnet.version import __version__

log = logging.getLogger(__name__)

DataBar = int | str
#: the key of a restored `ImageFile`'s metadata that holds the `PSFUsed` of each page
PSF_METADATA = "midnet_psf"


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


#: what ``backend=None`` means; ``$MIDNET_BACKEND`` changes it (e.g. ``eager`` in test suites)
DEFAULT_BACKEND = "auto"
BACKENDS = ("auto", "compiled", "eager")
#: TLC's training size for a model that does not state its own: NAFNet's training crop, the
#: size official NAFNet converts its models at
DEFAULT_TLC_SIZE = 256


class Deblurrer:
    """Restores images with a copy of ``model`` on ``device``, as fast as the machine allows.

    The Deblurrer owns its model: ``model`` is deep-copied (then put in eval mode, moved to
    ``device``, its gradients switched off and, with ``tlc``, converted), so the caller's
    module is never changed. ``from_pretrained`` loads a fresh model and skips the copy.

    Speed (measured in docs/results/speed-cpu.md with benchmarks/inference_throughput.py):

    * ``tile=None`` (default): the whole image goes through in one pass when its activations
      fit `midnet.inference.budget.memory_budget` (free memory of the device); otherwise
      tiles as large as the budget allows. An int forces that tile size; ``0`` forces whole.
    * ``overlap=None``: the model's measured effective receptive radius
      (`midnet.inference.receptive_field.effective_radius`, measured once when tiles are first
      needed), rounded up to the model's alignment.
    * ``batch_size=None``: as many tiles per pass as the budget holds (at most 16).
    * ``backend``: ``"eager"`` is plain fp32 PyTorch (the reference); ``"compiled"`` an
      AOTInductor package of the model (`midnet.inference.compiled`: compiled on first use,
      then loaded from the disk cache in every later process); ``"auto"`` is ``compiled`` on
      the CPU, falling back to eager where compiling fails, and on a CUDA GPU eager with
      channels_last and bf16 (else fp16) autocast. bf16 autocast on the CPU was measured
      12x slower than fp32 on an AVX2 CPU without bf16 instructions, so it is not used there.

    * ``tlc`` (default ``True``): NAFNet's test-time local converter (`midnet.models.tlc`) at
      the model's training crop (`midnet.models.train_size`; ``DEFAULT_TLC_SIZE`` when the
      model does not say), or at an int size; ``False``/``0``: the channel attention pools the
      whole input.

    Same result whatever the machine: with TLC, the channel attention pools a window of 1.5x
    the training crop instead of the whole input, so each output pixel depends only on input
    within a bounded distance; tiles then read ``context`` px (twice the crop) beyond the
    area they restore and reproduce the whole-image result within one grey level of an 8-bit
    image (tests/inference/test_same_output.py, frame 7-1 and synthetic). Without TLC a tile's
    global mean differs from the image's: up to 30 grey levels on frame 7-1 with 256 px tiles,
    so the output would depend on the memory budget. The compiled backend matches eager fp32
    to float rounding (mean absolute difference ~1e-5 grey levels); asserted by tests/inference.
    """

    def __init__(self, model: nn.Module, *, device: str | torch.device = "auto",
                 tile: int | None = None, overlap: int | None = None, batch_size: int | None = None,
                 tlc: bool | int = True, model_name: str | None = None,
                 backend: str | None = None, psf: PSFArg = None, psf_map: bool = False,
                 psf_tile: int = psf_tiles.TILE, noise: float | None = None, _owned: bool = False) -> None:
        import copy

        backend = backend or os.environ.get("MIDNET_BACKEND") or DEFAULT_BACKEND
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.device = resolve_device(device)
        self.model_name = model_name or getattr(model, "midnet_name", type(model).__name__)
        owned = model if _owned else copy.deepcopy(model)
        self.model = owned.eval().to(self.device)
        for param in self.model.parameters():
            param.requires_grad_(False)
        #: the training size TLC converted the model at; None: the model pools globally
        self.tlc_size: int | None = None
        if tlc is True:
            tlc = models.train_size(self.model) or DEFAULT_TLC_SIZE
        if tlc:
            models.enable_tlc(self.model, int(tlc))
            self.tlc_size = int(tlc) if models.tlc_enabled(self.model) else None
        self.tile = tile
        self.overlap = overlap
        self.batch_size = batch_size
        self.backend = backend
        self.in_channels = models.in_channels(self.model)
        self.align = model_alignment(self.model)
        #: whether the network is given a PSF (`midnet.models.psf_aware`)
        self.psf_aware = models.is_psf_aware(self.model)
        self.psf_map = bool(psf_map)
        if psf_tile < 2 * psf_tiles.MARGIN:
            raise ValueError(f"psf_tile must be at least {2 * psf_tiles.MARGIN} px, got {psf_tile}")
        self.psf_tile = int(psf_tile)
        #: ``"auto"`` or a `PSF` for a PSF-aware model, None for a blind one
        self.psf = self._check_psf(parse_psf(psf))
        #: σ at mid-grey in grey levels of the image's value of white, given by the user (None:
        #: estimated per image); only a PSF-aware model is told the noise
        self.noise = _check_noise(noise, self.psf_aware)
        #: the PSF the last restored image (or page) was given; None for a blind model
        self.last_psf: PSFUsed | None = None
        #: called with a one-line message before a long one-off step (compiling)
        self.notify: Callable[[str], None] | None = None
        self._forward: Callable[[torch.Tensor], torch.Tensor] | None = None
        self._per_pixel: float | None = None
        self._radius: int | None = None

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, *, device: str = "auto",
                        tile: int | None = None, overlap: int | None = None,
                        batch_size: int | None = None, tlc: bool | int = True,
                        backend: str | None = None, psf: PSFArg = None, psf_map: bool = False,
                        psf_tile: int = psf_tiles.TILE, noise: float | None = None) -> Deblurrer:
        """Load a model name with trained weights, a checkpoint file, or (``None``) the default model.

        An architecture name without weights is refused (:class:`midnet.models.NoWeightsError`).
        With ``psf``, ``psf_map`` or ``noise`` and no name, the PSF-aware model
        (``models.PSF_MODEL``) is loaded instead of the default, as ``midnet deblur --psf`` does.
        """
        if name_or_path is None and (psf is not None or psf_map or noise is not None):
            name_or_path = models.PSF_MODEL
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
                   tlc=tlc, model_name=name, backend=backend, psf=psf, psf_map=psf_map, psf_tile=psf_tile,
                   noise=noise, _owned=True)

    def _check_psf(self, psf: PSF | str | None) -> PSF | str | None:
        """The PSF setting for this model: a blind model takes none (auto is accepted and
        ignored), per-tile PSFs are estimated ones; errors are one line naming the fix."""
        if not self.psf_aware:
            if (psf is not None and psf != AUTO) or self.psf_map:
                given = "psf_map" if self.psf_map else f"psf {psf}"
                raise ValueError(f"model {self.model_name} is blind (it takes no PSF), so {given} cannot steer "
                                 f"it; use the PSF-aware model: --model {models.PSF_MODEL} "
                                 f"(Deblurrer.from_pretrained({models.PSF_MODEL!r}, psf=...))")
            return None
        if self.psf_map and psf not in (None, AUTO):
            raise ValueError(f"psf_map estimates a PSF per tile, so it needs psf='auto', not psf {psf}")
        return AUTO if psf is None else psf

    # -- execution ----------------------------------------------------------------------------

    def prepare(self, *, compile_if_missing: bool = True) -> str:
        """Choose (and on first use compile or load) how the model runs; returns its name.

        Called by the first restore; call it earlier to pay the one-off cost up front, or with
        ``compile_if_missing=False`` to use a compiled model only when one is cached.
        """
        if self._forward is not None:
            return self.execution
        compiled = None
        if self.psf_aware:  # the compiled package takes the image only, and the PSF is an input
            self._forward, self.execution = self._eager_forward, "eager"
            return self.execution
        use_compiled = self.backend == "compiled" or (self.backend == "auto" and self.device.type == "cpu")
        if use_compiled:
            from midnet.inference.compiled import compiled_forward

            compiled = compiled_forward(self.model, self.device, self.in_channels, self.align,
                                        compile_if_missing=compile_if_missing, notify=self.notify)
        if compiled is not None:
            self._forward, self.execution = compiled, "compiled"
        elif self.backend == "auto" and self.device.type == "cuda":
            self._forward, self.execution = self._cuda_forward(), "eager-cuda-mixed"
        else:
            self._forward, self.execution = self._eager_forward, "eager"
        return self.execution

    execution = "unprepared"

    def _eager_forward(self, batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.model(batch)

    def _cuda_forward(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """channels_last + half-precision autocast: tensor cores on GPUs that have them."""
        self.model.to(memory_format=torch.channels_last)
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

        def run(batch: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode(), torch.autocast("cuda", dtype=dtype):
                return self.model(batch.contiguous(memory_format=torch.channels_last)).float()
        return run

    def pixels_per_pass(self) -> int:
        """How many input pixels one forward pass may take within the device's memory budget."""
        from midnet.inference import budget

        if self._per_pixel is None:
            self._per_pixel = budget.bytes_per_pixel(self.model, self.in_channels, self.align)
        return budget.pixels_per_pass(budget.memory_budget(self.device), self._per_pixel)

    def context(self) -> int:
        """Px a tile reads beyond each interior side of what it restores (weight zero).

        With TLC: twice the training crop, on the alignment grid. Each block's local mean
        reaches half a pool window (0.75 crop) further and a network has several blocks in a
        row, so the dependency is long but fades. Measured with sem-general (crop 128) and
        256 px tiles against the whole image, largest difference in grey levels before
        rounding: a 1024x768 crop of frame 7-1: 2.2 with 128 px of context (next to the image
        border, where the window is shifted inside), 0.27 with 160, 0.15 with 192, 0.02 with
        224, 0.004 with 256; a generated frame whose statistics change across it
        (`tests/inference/test_same_output.py`): 1.8 with 192, 0.11 with 224, 0.03 with 256.
        Without TLC no context helps (the global mean), and tiles are blended over
        `effective_overlap` instead.
        """
        if not self.tlc_size:
            return 0
        return -(-2 * self.tlc_size // self.align) * self.align

    def effective_overlap(self) -> int:
        """Overlap for tiles: the measured effective receptive radius, on the alignment grid;
        with TLC (whose `context` already covers it) one alignment step of blending."""
        if self.overlap is not None:
            return self.overlap
        if self.tlc_size:
            return self.align
        if self._radius is None:
            from midnet.inference.receptive_field import effective_radius

            self._radius = effective_radius(self.model, self.in_channels)
        return max(self.align, -(-self._radius // self.align) * self.align)

    def plan(self, height: int, width: int) -> TilePlan:
        """The `TilePlan` for an image: ``tile`` None means one whole-image pass.

        ``tile`` None (default): whole when the padded image fits the memory budget, else
        tiles whose passes (``tile + 2 * context``) fit it; an int: tiles that restore that
        many px each; 0: whole.
        """
        padded = (-(-(height + 2 * self.align) // self.align) * self.align,
                  -(-(width + 2 * self.align) // self.align) * self.align)
        whole = TilePlan(height, width, align=self.align)
        if self.tile == 0:
            return whole
        context = self.context()
        if self.tile is None:
            limit = self.pixels_per_pass()
            if padded[0] * padded[1] <= limit:
                return whole
            side = int(math.sqrt(limit)) // self.align * self.align
            tile = max(2 * self.align, side - 2 * context)
        else:
            tile = self.tile
        if padded[0] <= tile + 2 * context and padded[1] <= tile + 2 * context:
            return whole
        overlap = min(self.effective_overlap(), tile // 2)
        side = tile + 2 * context
        batch = self.batch_size or max(1, min(16, self.pixels_per_pass() // (side * side)))
        return TilePlan(height, width, tile, overlap, batch, context, self.align)

    # -- arrays -------------------------------------------------------------------------------

    def restore_float(self, image: np.ndarray, psf: PSFUsed | None = None, *, progress: Progress | None = None,
                      cancel: threading.Event | None = None) -> np.ndarray:
        """Restore a (C, H, W) float32 array in [0, 1] with C == the model's channels.

        ``psf`` (PSF-aware models): what the network is given, from `psf_for`; None: ``none``
        with no noise. With per-tile PSFs each tile is restored with its own and blended.
        ``progress(done, total)`` after every model call (with per-tile PSFs: per PSF tile); a
        set ``cancel`` event stops before the next call (`midnet.inference.tiling.Cancelled`)."""
        if psf is not None and psf.tiles:
            tiles = psf.tiles

            def one(context: np.ndarray, index: int) -> np.ndarray:
                out = self._restore_one(context.transpose(2, 0, 1), tiles[index].psf, psf.noise_sigma,
                                        cancel=cancel).transpose(1, 2, 0)
                if progress is not None:
                    progress(index + 1, len(tiles))
                return out

            planes = psf_tiles.restore_tiles(image.transpose(1, 2, 0), [t.span for t in tiles], one,
                                             margin=psf_tiles.MARGIN)
            return planes.transpose(2, 0, 1).astype(np.float32)
        return self._restore_one(image, psf.psf if psf is not None else None,
                                 psf.noise_sigma if psf is not None else 0.0, progress=progress, cancel=cancel)

    def _psf_forward(self, psf: PSF | None, noise_sigma: float) -> Callable[[torch.Tensor], torch.Tensor]:
        """A batch forward of the PSF-aware network with ``psf`` and ``noise_sigma`` for every tile."""
        from midnet.psf.render_torch import psf_params

        rows = None if psf is None or psf.family == "none" else psf_params([psf], device=self.device)
        noise = torch.tensor([float(noise_sigma)], device=self.device)

        def run(batch: torch.Tensor) -> torch.Tensor:
            n = batch.shape[0]
            with torch.inference_mode():
                return self.model(batch, psf=None if rows is None else rows.expand(n, -1),
                                  noise_sigma=noise.expand(n))
        return run

    def _restore_one(self, image: np.ndarray, psf: PSF | None, noise_sigma: float, *,
                     progress: Progress | None = None, cancel: threading.Event | None = None) -> np.ndarray:
        """One (C, H, W) array through the tiler; a PSF-aware network gets ``psf`` and the noise."""
        self.prepare()
        tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
        plan = self.plan(*tensor.shape[2:])
        forward = self._forward
        if self.psf_aware:
            forward = self._psf_forward(psf, noise_sigma)
            if plan.tile and plan.overlap is not None and psf is not None:  # tiles must also hold the PSF's reach
                reach = -(-psf.default_radius() // self.align) * self.align
                plan = replace(plan, overlap=min(plan.tile // 2, max(plan.overlap, reach)))
        out = run_plan(plan, tensor, forward, device=self.device, progress=progress, cancel=cancel)
        return out[0].numpy()

    def _restore_channels(self, colour: np.ndarray, psf: PSFUsed | None = None, **calls: Any) -> np.ndarray:
        """(H, W, K) float in [0, 1], K in (1, 3) -> same shape, by the channel rule; ``calls``:
        ``progress`` and ``cancel`` for `restore_float`."""
        k = colour.shape[2]
        if self.in_channels == k:
            return self.restore_float(colour.transpose(2, 0, 1), psf, **calls).transpose(1, 2, 0)
        if self.in_channels == 1:
            if all(np.array_equal(colour[..., 0], colour[..., c]) for c in range(1, k)):
                grey = self.restore_float(colour[None, :, :, 0], psf, **calls)[0]
                return np.repeat(grey[:, :, None], k, axis=2)
            planes = [self.restore_float(colour[None, :, :, c], psf, **calls)[0] for c in range(k)]
            return np.stack(planes, axis=2)
        if self.in_channels == 3 and k == 1:
            rgb = np.repeat(colour.transpose(2, 0, 1), 3, axis=0)
            return self.restore_float(rgb, psf, **calls).mean(axis=0)[:, :, None]
        raise ValueError(f"a {self.in_channels}-channel model cannot restore a {k}-channel image")

    def __call__(self, array: np.ndarray, *, databar: DataBar = 0, max_value: int | None = None,
                 psf: PSFArg = None, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> np.ndarray:
        """Restore ``array`` ((H, W), (H, W, 2|3|4); uint8, uint16 or float): same shape and dtype.

        ``databar`` rows at the bottom are copied unchanged: an int, ``"auto"`` (heuristic, as
        there is no metadata) or ``"none"``/0. Arrays get 0 by default so that the function is
        a plain image-to-image map; `deblur_file` detects the bar by default. ``max_value``
        (integer images) is the value of white, e.g. 4095 for 12-bit data; the result never
        exceeds it. ``psf`` overrides the Deblurrer's own for this call (PSF-aware models; the
        image area, without the bar, is what ``auto`` estimates); see `last_psf` afterwards.
        ``progress(done, total)`` is called after every model call on a channel plane (a colour
        image restored per channel counts each channel from 1); a set ``cancel`` event stops
        before the next call with `midnet.inference.tiling.Cancelled`.
        """
        array = np.asarray(array)
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4)):
            raise ValueError(f"expected an (H, W) or (H, W, 1-4) image, got shape {array.shape}")
        self.last_psf = None
        rows = self._databar_rows(array, databar, max_value)
        height = array.shape[0]
        if rows >= height:
            return array.copy()
        colour, alpha = _split_alpha(array)
        area = colour[:height - rows]
        scaled, unscale = _to_unit(area, max_value)
        used = self.psf_for(scaled, psf, white=_white(area, max_value))
        restored = unscale(self._restore_channels(scaled, used, progress=progress, cancel=cancel))
        self.last_psf = used
        out = array.copy()
        if array.ndim == 2:
            out[:height - rows] = restored[..., 0]
        else:
            out[:height - rows, :, :colour.shape[2]] = restored
        if alpha is not None:
            out[..., -1] = alpha
        return out

    def psf_for(self, scaled: np.ndarray, psf: PSFArg = None, white: float = 1.0) -> PSFUsed | None:
        """The `PSFUsed` for an (H, W) or (H, W, K) float image in [0, 1] (colour: its luma);
        None for a blind model. ``psf`` overrides the Deblurrer's setting; ``white`` converts a
        given `noise` (grey levels) to [0, 1] units."""
        if not self.psf_aware:
            self._check_psf(parse_psf(psf))  # a blind model given a PSF per call: the same error
            return None
        choice = self.psf if psf is None else self._check_psf(parse_psf(psf))
        grey = grey_of(scaled)
        noise = None if self.noise is None else self.noise / white
        return (choose_tile_psfs(grey, self.psf_tile, noise) if self.psf_map
                else choose_psf(grey, choice, noise))

    @staticmethod
    def _databar_rows(array: np.ndarray, databar: DataBar, max_value: int | None = None) -> int:
        from midnet.io import parse_databar

        rows = parse_databar(databar)
        if rows == "auto":  # a bare array has no metadata: its pixels decide
            from midnet.io.databar import detect_databar_array

            return detect_databar_array(array, max_value=max_value)
        if rows >= len(array):  # nothing would be restored: say so rather than copy the input
            raise ValueError(f"databar rows {rows} cover the whole {len(array)}-row image, nothing to restore; "
                             f"give fewer rows (--databar N with N < {len(array)}) or --databar auto")
        return rows

    def restore_dask(self, array: Any, **options: Any) -> Any:
        """A lazy Dask array of ``array`` (..., Y, X) restored blockwise with margins of the
        measured receptive radius, for images larger than memory, napari and dask-image
        (`midnet.inference.blockwise.restore_dask`; needs the ``cluster`` extra)."""
        from midnet.inference.blockwise import restore_dask

        return restore_dask(self, array, **options)

    # -- files --------------------------------------------------------------------------------

    def processing_note(self, psf: PSFUsed | list[PSFUsed | None] | None = None) -> str:
        """The note written into the output's metadata (where it overwrites no vendor field):
        the model and, for a PSF-aware one, the PSF of each page (`PSFUsed.note`)."""
        used = [p for p in (psf if isinstance(psf, list) else [psf]) if p is not None]
        notes = list(dict.fromkeys(p.note() for p in used))
        if len(notes) > 3:  # a stack estimated page by page: say so rather than list them
            notes = [f"psf per page, {len(notes)} different ({used[0].source})"]
        extra = "".join(f"; {n}" for n in notes)
        return f"midnet {__version__} deblur (model: {self.model_name}{extra})"

    def deblur_file(self, src: str | Path, dst: str | Path, *, databar: DataBar = "auto",
                    overwrite: bool = False) -> Path:
        """Restore one image file into ``dst`` (same format, size, dtype, metadata, data bar).

        Never writes over ``src``; refuses an existing ``dst`` unless ``overwrite``; writes a
        temporary file beside ``dst`` and renames it. Sidecar ``.txt`` files (JEOL, Hitachi) are
        copied beside the output. The three steps are also public (`read_file`,
        `restore_image`, `write_file`) so that a folder run can read the next file and write
        the previous one while the model computes.
        """
        image = self.read_file(src, dst, overwrite=overwrite, databar=databar)  # a given bar: no detection
        return self.write_file(self.restore_image(image), src, dst, overwrite=overwrite)

    @staticmethod
    def read_file(src: str | Path, dst: str | Path | None = None, *, overwrite: bool = False,
                  databar: DataBar = "auto") -> Any:
        """Check the destination, then read ``src`` (a `midnet.io` image with its pages and
        their facts, `midnet.io.pageinfo.PageInfo`; ``databar`` as `midnet.io.read_image`)."""
        from midnet.io import read_image

        if dst is not None:
            _check_destination(Path(src), Path(dst), overwrite)
        return read_image(Path(src), databar=databar)

    def restore_image(self, image: Any, *, databar: DataBar = "auto", progress: Progress | None = None) -> Any:
        """Every page of a read image restored, page by page (a stack shows its own progress).

        ``progress(done, total)``: model calls within each page (see `__call__`).

        Each page is restored with the facts `midnet.io.read_image` decided for it (``info``):
        its data bar (or the user's ``databar`` setting) and its value of white; nothing is
        derived again here. An error names the file and, in a stack, the page.
        """
        src = Path(image.path)
        if len(image.info) != len(image.pages):
            raise ValueError(f"{src}: the image carries no page facts (info); read it with midnet.io.read_image")
        try:
            image = image.with_databar(databar)
        except ValueError as exc:
            raise ValueError(f"{src}: {exc}") from None
        pages = []
        used: list[PSFUsed | None] = []
        total = len(image.pages)
        bar = None
        if total > 1:  # a stack: page by page, with its own progress line
            from tqdm import tqdm

            bar = tqdm(total=total, unit="page", desc=src.name, leave=False, disable=None)
        try:
            for index, (page, info) in enumerate(zip(image.pages, image.info, strict=True)):
                try:
                    pages.append(self(page, databar=info.databar.rows, max_value=info.white, progress=progress))
                    used.append(self.last_psf)
                except Exception as exc:
                    message = " ".join(str(exc).split()).removeprefix(f"{src}: ")
                    where = f"page {index + 1} of {total}: " if total > 1 else ""
                    raise ValueError(f"{src}: {where}{message}") from exc
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        restored = image.with_pages(pages)
        # per file, not on the Deblurrer: a pipelined batch writes one file while restoring the next
        return replace(restored, metadata={**restored.metadata, PSF_METADATA: used})

    def write_file(self, image: Any, src: str | Path, dst: str | Path, *, overwrite: bool = False) -> Path:
        """Write a restored image atomically, with the processing note and the sidecar."""
        from midnet.io import write_image
        from midnet.io.sidecar import copy_sidecar

        src, dst = Path(src), Path(dst)
        _check_destination(src, dst, overwrite)
        dst.parent.mkdir(parents=True, exist_ok=True)
        write_image(dst, image, note=self.processing_note(image.metadata.get(PSF_METADATA)), overwrite=overwrite)
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


def _check_noise(noise: float | None, psf_aware: bool) -> float | None:
    """A given noise level: finite and ≥ 0, and only for a PSF-aware model (a blind one is not told)."""
    if noise is None:
        return None
    value = float(noise)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"noise must be a finite σ ≥ 0 in grey levels, got {noise}")
    if not psf_aware:
        raise ValueError(f"noise {value:g}: this is a blind model, which is not told the noise; use the "
                         f"PSF-aware model ({models.PSF_MODEL!r})")
    return value


def _white(array: np.ndarray, max_value: int | None) -> float:
    """The value of white `_to_unit` divides by, in the image's own grey levels (1 for floats)."""
    if max_value:
        return float(max_value)
    if np.issubdtype(array.dtype, np.integer):
        return float(np.iinfo(array.dtype).max)
    return 1.0


def _to_unit(array: np.ndarray, max_value: int | None = None) -> tuple[np.ndarray, Any]:
    """Scale to float32 [0, 1] and return the inverse map (which clips into the input's range).

    ``max_value`` (integer arrays) replaces the dtype's maximum as the value of white.
    """
    from midnet.io import from_float, to_float

    dtype = array.dtype
    below = max_value and np.issubdtype(dtype, np.unsignedinteger) and max_value < np.iinfo(dtype).max
    if dtype in (np.uint8, np.uint16) or below:
        return to_float(array, max_value), lambda x: from_float(x, dtype, max_value)
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
