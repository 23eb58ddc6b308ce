"""The Lightning data module: checked pairs split by source image, crops keyed by run step,
optionally mixed with synthetic defocus of sharp images (:mod:`midnet.data.defocus`).

Validation items are :class:`~midnet.evaluation.EvalPair` objects scored by the module under
the shared rule (:mod:`midnet.evaluation.scoring`): the real validation pairs are read once as
files (so training validation reports what `midnet evaluate` reports on the same files), and
the fixed synthetic defocus of held-out corpus sources is rounded to 8 bit as a file would be.
The validation loader only hands out indices into that list.
"""

from __future__ import annotations

import warnings
from typing import Any

import lightning as L
import numpy as np
from torch.utils.data import DataLoader, Dataset

from midnet.config.train import DataSection, SyntheticSection, TrainConfig
from midnet.data import PairStore, RandomCropDataset, StepBatchSampler, find_pair_folders, list_pairs, split_pairs
from midnet.data.corpus import SharpImage, load_corpus
from midnet.data.defocus_dataset import DefocusCropDataset, FixedDefocusDataset
from midnet.data.pairs import ImagePair
from midnet.evaluation import EvalPair, load_pair
from midnet.io import from_float


def resolve_split(data_cfg: DataSection) -> dict[str, list[ImagePair]]:
    """List and check every pair (one error listing all bad pairs), then split by group.

    Without real pairs (only a synthetic corpus), every split is empty."""
    if not data_cfg.has_source():
        return {"train": [], "val": [], "test": []}
    if data_cfg.input_dir and data_cfg.target_dir:
        inp, tgt = data_cfg.input_dir, data_cfg.target_dir
    else:
        inp, tgt = find_pair_folders(data_cfg.root)
    pairs = list_pairs(inp, tgt, check=True)
    return split_pairs(pairs, val_groups=data_cfg.val_groups, test_groups=data_cfg.test_groups,
                       regex=data_cfg.group_regex)


def load_sharp_sets(syn: SyntheticSection, crop_size: int) -> tuple[list[SharpImage], list[SharpImage]]:
    """(train, val) sharp images of the synthetic corpus, split by whole source."""
    if syn.corpus is None:
        return [], []
    held = list(syn.val_sources)
    train = load_corpus(syn.corpus, sources=syn.train_sources, exclude_sources=held,
                        inventory=syn.inventory, min_size=crop_size)
    val = load_corpus(syn.corpus, sources=held, inventory=syn.inventory) if held else []
    return train, val


def _synthetic_pair(item: dict[str, Any]) -> EvalPair:
    """A fixed synthetic validation sample as the 8-bit pair a microscope file would hold."""
    x = from_float(item["input"][0].numpy(), np.uint8)
    y = from_float(item["target"][0].numpy(), np.uint8)
    return EvalPair(str(item["name"]), x, y, 0, 0)


class PairedDataModule(L.LightningDataModule):
    """Training crops from the train split (and synthetic defocus); validation pairs as files.

    The training loader starts at the trainer's (restored) global step, so after a resume the
    run continues with exactly the crops an uninterrupted run would have used.
    """

    def __init__(self, config: TrainConfig, split: dict[str, list[ImagePair]]) -> None:
        super().__init__()
        self.config = config
        d = config.data
        self.train_store = PairStore(split["train"], channels=config.model.in_channels,
                                     databar_rows=d.databar_rows, cache=d.cache, align=d.align)
        self.val_items = split["val"][: d.val_max_images] if d.val_max_images else split["val"]
        self.synthetic = config.synthetic.corpus is not None
        self.sharp_train, self.sharp_val = load_sharp_sets(config.synthetic, d.crop_size)
        self._val_pairs: list[tuple[str, EvalPair]] | None = None

    def corpus_split(self) -> dict[str, Any]:
        """Sources and images of the sharp corpus on each side of the split (for the run folder)."""
        return {side: {"sources": sorted({im.source for im in ims}), "images": [im.name for im in ims]}
                for side, ims in (("train", self.sharp_train), ("val", self.sharp_val))}

    def has_validation(self) -> bool:
        return bool(self.val_items) or bool(self.sharp_val)

    @property
    def val_pairs(self) -> list[tuple[str, EvalPair]]:
        """(group, pair) for every validation item: "real" files, then "synthetic" defocus."""
        if self._val_pairs is None:
            bar = self.config.data.databar_rows
            pairs = [("real", load_pair(p.input_path, p.target_path, databar=bar, name=p.name))
                     for p in self.val_items]
            if self.sharp_val:
                syn = self.config.synthetic
                fixed = FixedDefocusDataset(self.sharp_val, sigmas=syn.val_sigmas, noise_sigma=syn.val_noise,
                                            crop=syn.val_crop, seed=0)  # the same set for every run
                pairs += [("synthetic", _synthetic_pair(fixed[i])) for i in range(len(fixed))]
            self._val_pairs = pairs
        return self._val_pairs

    def _real_targets(self) -> list[SharpImage]:
        """The sharp frames of the real training pairs (image area only) as one more source."""
        out = []
        for i, pair in enumerate(self.train_store.pairs):
            _, y, m = self.train_store.load(i)
            rows = int(np.flatnonzero(m[0].any(axis=1))[-1]) + 1  # the mask is 0 on the data-bar rows
            out.append(SharpImage("published-pairs", pair.name, y[0, :rows]))
        return out

    def setup(self, stage: str | None = None) -> None:
        d = self.config.data
        if d.cache:
            self.train_store.preload()
        if not len(self.train_store):
            return
        h, w = self.train_store.min_size()
        if min(h, w) < d.crop_size:
            raise ValueError(f"the smallest training image is {w}x{h}, smaller than data.crop_size="
                             f"{d.crop_size}; lower the crop size")

    def train_dataloader(self) -> DataLoader:
        d, t = self.config.data, self.config.train
        trainer = self.trainer
        sampler = StepBatchSampler(start_step=trainer.global_step if trainer else 0,
                                   max_steps=t.max_steps, global_batch=d.batch_size,
                                   rank=trainer.global_rank if trainer else 0,
                                   world_size=trainer.world_size if trainer else 1)
        if self.synthetic:
            syn = self.config.synthetic
            sharp = self.sharp_train + (self._real_targets() if syn.use_real_targets else [])
            ds: Dataset = DefocusCropDataset(
                sharp, real=self.train_store, ranges=None if syn.on_device else syn.ranges(),
                crop_size=d.crop_size, seed=t.seed, real_fraction=syn.real_fraction, degrade=not syn.on_device)
        else:
            ds = RandomCropDataset(self.train_store, crop_size=d.crop_size, seed=t.seed)
        return DataLoader(ds, batch_sampler=sampler, num_workers=d.num_workers, persistent_workers=False)

    def val_dataloader(self) -> DataLoader | list:
        if not self.has_validation():
            return []
        return DataLoader(list(range(len(self.val_pairs))), batch_size=1, shuffle=False)

    def state_dict(self) -> dict[str, Any]:
        """Sampling state: crops are a function of (seed, global batch, global step)."""
        return {"seed": self.config.train.seed, "batch_size": self.config.data.batch_size,
                "crop_size": self.config.data.crop_size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        now = self.state_dict()
        changed = {k: (state.get(k), v) for k, v in now.items() if state.get(k) != v}
        if changed:
            warnings.warn(f"resuming with changed sampling settings {changed} (was, now): the crops "
                          f"will differ from an uninterrupted run", stacklevel=2)
