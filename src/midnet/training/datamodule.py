"""The Lightning data module: checked pairs split by source image, crops keyed by run step."""

from __future__ import annotations

from typing import Any

import lightning as L
from torch.utils.data import DataLoader

from midnet.data import (PairStore, RandomCropDataset, StepBatchSampler, WholeImageDataset,
                         find_pair_folders, list_pairs, split_pairs)
from midnet.data.pairs import ImagePair


def resolve_split(data_cfg: dict[str, Any]) -> dict[str, list[ImagePair]]:
    """List and check every pair (one error listing all bad pairs), then split by group."""
    if data_cfg.get("input_dir") and data_cfg.get("target_dir"):
        inp, tgt = data_cfg["input_dir"], data_cfg["target_dir"]
    else:
        inp, tgt = find_pair_folders(data_cfg["root"])
    pairs = list_pairs(inp, tgt, check=True)
    return split_pairs(pairs, val_groups=data_cfg["val_groups"] or [],
                       test_groups=data_cfg["test_groups"] or [], regex=data_cfg["group_regex"])


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

    def setup(self, stage: str | None = None) -> None:
        d = self.config["data"]
        if d["cache"]:
            self.train_store.preload()
            self.val_store.preload()
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
        ds = RandomCropDataset(self.train_store, crop_size=int(d["crop_size"]), seed=int(t["seed"]))
        return DataLoader(ds, batch_sampler=sampler, num_workers=int(d["num_workers"]),
                          persistent_workers=False)

    def val_dataloader(self) -> DataLoader | list:
        if len(self.val_store) == 0:
            return []
        return DataLoader(WholeImageDataset(self.val_store), batch_size=1, shuffle=False,
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
