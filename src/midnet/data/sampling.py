"""Training samples from pairs: in-memory pairs, random training crops keyed by step, whole images.

Why sampling is keyed by (seed, sample index) instead of a global RNG: resuming a run at
step s must draw exactly the crops an uninterrupted run would have drawn, on any number of
processes and data-loader workers. Sample k of the run is a pure function of (seed, k).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from midnet.data.channels import to_model_channels
from midnet.data.databar import valid_mask
from midnet.data.pairs import ImagePair
from midnet.data.registration import DisplacementField, measure_field, warp
from midnet.io import pair_databar_rows, read_image


class PairStore:
    """Loads pairs as float32 (C, H, W) arrays plus a validity mask, optionally cached in memory."""

    def __init__(self, pairs: Sequence[ImagePair], *, channels: int = 1,
                 databar_rows: int | str | None = "auto", cache: bool = True, align: bool = False) -> None:
        self.pairs = list(pairs)
        self.channels = channels
        self.databar_rows = databar_rows
        self.cache = cache
        self.align = align
        #: pair index -> the displacement field the input was resampled by (``align=True``)
        self.fields: dict[int, DisplacementField] = {}
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input, target, mask) of pair `index`; mask is (1, H, W) with 0 on data-bar rows."""
        if index in self._cache:
            return self._cache[index]
        pair = self.pairs[index]
        files = [read_image(path, databar=self.databar_rows) for path in (pair.input_path, pair.target_path)]
        x, y = (to_model_channels(f.array, self.channels, f.info[0].white) for f in files)
        if x.shape != y.shape:
            raise ValueError(f"{pair.input_path} and {pair.target_path} differ in size; "
                             f"re-run the pair check")
        rows = pair_databar_rows(*(f.info[0] for f in files))  # the rows scoring leaves out
        if self.align:
            item = self._registered(index, x, y, rows)
        else:
            item = (x, y, valid_mask(x.shape[1], x.shape[2], rows))
        if self.cache:
            self._cache[index] = item
        return item

    def _registered(self, index: int, x: np.ndarray, y: np.ndarray, rows: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Resample the input onto the target by the displacement field measured (once per pair)
        between the two captures' image areas (the data bars' text differs), and cut both to the
        largest rectangle the field maps inside the frame: a misregistered pair teaches blurring.
        The target is never resampled; tiles too plain to register and the data bar rows are
        left out of the mask."""
        h = x.shape[1] - rows
        if index not in self.fields:
            self.fields[index] = measure_field(x[:, :h].mean(0), y[:, :h].mean(0))
        field = self.fields[index]
        moved = np.stack([warp(c, field) for c in x[:, :h]]).astype(np.float32)
        x = np.concatenate([moved, x[:, h:]], axis=1)
        keep = valid_mask(*x.shape[1:], rows)[0] > 0
        keep[:h] &= field.score_mask()
        top, end, left, right = _inside_rectangle(field.inside())
        if end - top < h // 2 or right - left < x.shape[2] // 2:
            raise ValueError(f"{self.pairs[index].input_path}: the captures could not be registered (they overlap "
                             f"on less than half the frame); check the pair or set data.align: false")
        bottom = end + rows if end == h else end
        cut = (slice(None), slice(top, bottom), slice(left, right))
        return (np.ascontiguousarray(x[cut]), np.ascontiguousarray(y[cut]),
                keep[None, top:bottom, left:right].astype(np.float32))

    def preload(self) -> None:
        """Fill the cache now so that the first training steps are not slowed by decoding."""
        for i in range(len(self)):
            self.load(i)

    def min_size(self) -> tuple[int, int]:
        sizes = [self.load(i)[0].shape[1:] for i in range(len(self))]
        return min(s[0] for s in sizes), min(s[1] for s in sizes)


def _inside_rectangle(inside: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a large rectangle of True in ``inside`` (H, W): the side with
    the most pixels outside is trimmed until none is left (the fields are smooth, so the mapped
    region is nearly a rectangle)."""
    top, bottom, left, right = 0, inside.shape[0], 0, inside.shape[1]
    while top < bottom and left < right:
        block = inside[top:bottom, left:right]
        if block.all():
            break
        outside = {"top": (~block[0]).sum(), "bottom": (~block[-1]).sum(), "left": (~block[:, 0]).sum(),
                   "right": (~block[:, -1]).sum()}
        side = max(outside, key=outside.get)
        top, bottom = top + (side == "top"), bottom - (side == "bottom")
        left, right = left + (side == "left"), right - (side == "right")
    return top, bottom, left, right


def dihedral(x: np.ndarray, t: int) -> np.ndarray:
    """One of the 8 flips/rotations of the square (t in 0..7) on the last two axes."""
    if t >= 4:
        x = x[..., ::-1]
    return np.rot90(x, k=t % 4, axes=(-2, -1))


class RandomCropDataset(Dataset):
    """Index k -> a random crop (pair, position, dihedral transform) drawn from rng(seed, k).

    The "length" is nominal: any non-negative index is valid, and the sampler decides which
    indices a run consumes.
    """

    def __init__(self, store: PairStore, *, crop_size: int = 256, seed: int = 0,
                 augment: bool = True) -> None:
        self.store, self.crop_size, self.seed, self.augment = store, int(crop_size), int(seed), augment
        if len(store) == 0:
            raise ValueError("no training pairs")

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, int(k)])
        i = int(rng.integers(len(self.store)))
        x, y, m = self.store.load(i)
        h, w = x.shape[1:]
        c = self.crop_size
        if h < c or w < c:
            raise ValueError(f"{self.store.pairs[i].input_path}: image {w}x{h} is smaller than the "
                             f"crop size {c}; lower data.crop_size")
        top, left = int(rng.integers(h - c + 1)), int(rng.integers(w - c + 1))
        t = int(rng.integers(8)) if self.augment else 0
        out = {}
        for key, a in (("input", x), ("target", y), ("mask", m)):
            patch = dihedral(a[:, top:top + c, left:left + c], t)
            out[key] = torch.from_numpy(np.ascontiguousarray(patch))
        return out


class StepBatchSampler(Sampler[list[int]]):
    """Batches of sample indices for steps [start_step, max_steps) on one process.

    Step s of the whole run uses samples s*G .. s*G+G-1 (G = global batch); process `rank`
    takes its contiguous slice of `per_device` of them. Starting at the restored step makes
    a resumed run draw the same crops as an uninterrupted one.
    """

    def __init__(self, *, start_step: int, max_steps: int, global_batch: int, rank: int = 0,
                 world_size: int = 1) -> None:
        if global_batch % world_size:
            raise ValueError(f"batch size {global_batch} is not divisible by the {world_size} "
                             f"processes; choose a multiple of {world_size}")
        self.start_step, self.max_steps = int(start_step), int(max_steps)
        self.global_batch, self.rank = int(global_batch), int(rank)
        self.per_device = self.global_batch // world_size

    def __len__(self) -> int:
        return max(0, self.max_steps - self.start_step)

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.max_steps):
            first = step * self.global_batch + self.rank * self.per_device
            yield list(range(first, first + self.per_device))
