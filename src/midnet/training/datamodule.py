"""The Lightning data module: checked pairs split by source image, crops keyed by run step."""

from __future__ import annotations

from typing import Any

import lightning as L
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from midnet.data import (PairStore, RandomCropDataset, StepBatchSampler, WholeImageDataset,
                         find_pair_folders, list_pairs, split_pairs)
from midnet.data.corpus import SharpImage, load_corpus
from midnet.data.defocus import DefocusRanges
from midnet.data.defocus_dataset import DefocusCropDataset, FixedDefocusDataset
from midnet.data.pairs import ImagePair


def resolve_split(data_cfg: dict[str, Any]) -> dict[str, list[ImagePair]]:
    """List and check every pair (one error listing all bad pairs), then split by group.

    Without real pairs (only a synthetic corpus), every split is empty."""
    if data_cfg.get("root") is None and not (data_cfg.get("input_dir") and data_cfg.get("target_dir")):
        return {"train": [], "val": [], "test": []}
    if data_cfg.get("input_dir") and data_cfg.get("target_dir"):
        inp, tgt = data_cfg["input_dir"], data_cfg["target_dir"]
    else:
        inp, tgt = find_pair_folders(data_cfg["root"])
    pairs = list_pairs(inp, tgt, check=True)
    return split_pairs(pairs, val_groups=data_cfg["val_groups"] or [],
                       test_groups=data_cfg["test_groups"] or [], regex=data_cfg["group_regex"])


class _Grouped(Dataset):
    """Tags each item with a validation group, so metrics are also logged per group."""

    def __init__(self, inner: Dataset, group: str) -> None:
        self.inner, self.group = inner, group

    def __len__(self) -> int:
        return len(self.inner)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {**self.inner[i], "group": self.group}


def load_sharp_sets(syn: dict[str, Any], crop_size: int) -> tuple[list[SharpImage], list[SharpImage]]:
    """(train, val) sharp images of the synthetic corpus, split by whole source."""
    if syn["corpus"] is None:
        return [], []
    held = list(syn["val_sources"] or [])
    train = load_corpus(syn["corpus"], sources=syn["train_sources"], exclude_sources=held,
                        inventory=syn["inventory"], min_size=crop_size)
    val = load_corpus(syn["corpus"], sources=held, inventory=syn["inventory"]) if held else []
    return train, val


class PairedDataModule(L.LightningDataModule):
    """Training crops from the train split; whole validation images from the val split.

    The training loader starts at the trainer's (restored) global step, so after a resume the
    run continues with exactly the crops an uninterrupted run would have used.
    """

    def __init__(self, config: dict[str, Any], split: dict[str, list[ImagePair]]) -> None:
        super().__init__()
        self.config = config
        d = config["data"]
        channels = int(config["model"]["in_channels"])
        self.train_store = PairStore(split["train"], channels=channels,
                                     databar_rows=d["databar_rows"], cache=bool(d["cache"]))
        val_pairs = split["val"][: d["val_max_images"]] if d["val_max_images"] else split["val"]
        self.val_store = PairStore(val_pairs, channels=channels, databar_rows=d["databar_rows"],
                                   cache=bool(d["cache"]))
        syn = config["synthetic"]
        self.synthetic = syn["corpus"] is not None
        if self.synthetic and channels != 1:
            raise ValueError("synthetic defocus training makes grey (1-channel) samples; set "
                             "model.in_channels=1")
        self.sharp_train, self.sharp_val = load_sharp_sets(syn, int(d["crop_size"]))

    def corpus_split(self) -> dict[str, Any]:
        """Sources and images of the sharp corpus on each side of the split (for the run folder)."""
        return {side: {"sources": sorted({im.source for im in ims}), "images": [im.name for im in ims]}
                for side, ims in (("train", self.sharp_train), ("val", self.sharp_val))}

    def has_validation(self) -> bool:
        return len(self.val_store) > 0 or bool(self.sharp_val)

    def _real_targets(self) -> list[SharpImage]:
        """The sharp frames of the real training pairs (image area only) as one more source."""
        out = []
        for i, pair in enumerate(self.train_store.pairs):
            _, y, m = self.train_store.load(i)
            rows = int(m[0, :, 0].sum())  # the mask is 0 on data-bar rows at the bottom
            out.append(SharpImage("published-pairs", pair.name, y[0, :rows]))
        return out

    def setup(self, stage: str | None = None) -> None:
        d = self.config["data"]
        if d["cache"]:
            self.train_store.preload()
            self.val_store.preload()
        if not len(self.train_store):
            return
        h, w = self.train_store.min_size()
        if min(h, w) < d["crop_size"]:
            raise ValueError(f"the smallest training image is {w}x{h}, smaller than data.crop_size="
                             f"{d['crop_size']}; lower the crop size")

    def train_dataloader(self) -> DataLoader:
        d, t = self.config["data"], self.config["train"]
        trainer = self.trainer
        sampler = StepBatchSampler(start_step=trainer.global_step if trainer else 0,
                                   max_steps=int(t["max_steps"]), global_batch=int(d["batch_size"]),
                                   rank=trainer.global_rank if trainer else 0,
                                   world_size=trainer.world_size if trainer else 1)
        if self.synthetic:
            syn = self.config["synthetic"]
            sharp = self.sharp_train + (self._real_targets() if syn["use_real_targets"] else [])
            ds: Dataset = DefocusCropDataset(
                sharp, real=self.train_store, ranges=DefocusRanges.from_dict(syn["degradation"]),
                crop_size=int(d["crop_size"]), seed=int(t["seed"]), real_fraction=float(syn["real_fraction"]))
        else:
            ds = RandomCropDataset(self.train_store, crop_size=int(d["crop_size"]), seed=int(t["seed"]))
        return DataLoader(ds, batch_sampler=sampler, num_workers=int(d["num_workers"]),
                          persistent_workers=False)

    def val_dataloader(self) -> DataLoader | list:
        parts: list[Dataset] = []
        if len(self.val_store):
            parts.append(_Grouped(WholeImageDataset(self.val_store), "real"))
        if self.sharp_val:
            syn = self.config["synthetic"]
            parts.append(FixedDefocusDataset(self.sharp_val, sigmas=syn["val_sigmas"], noise_sigma=float(syn["val_noise"]),
                                             crop=syn["val_crop"], seed=0))  # the same set for every run
        if not parts:
            return []
        return DataLoader(ConcatDataset(parts), batch_size=1, shuffle=False,
                          num_workers=int(self.config["data"]["num_workers"]))

    def state_dict(self) -> dict[str, Any]:
        """Sampling state: crops are a function of (seed, global batch, global step)."""
        return {"seed": int(self.config["train"]["seed"]),
                "batch_size": int(self.config["data"]["batch_size"]),
                "crop_size": int(self.config["data"]["crop_size"])}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        now = self.state_dict()
        changed = {k: (state.get(k), v) for k, v in now.items() if state.get(k) != v}
        if changed:
            import warnings

            warnings.warn(f"resuming with changed sampling settings {changed} (was, now): the crops "
                          f"will differ from an uninterrupted run", stacklevel=2)
