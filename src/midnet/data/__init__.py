"""Paired SEM image data: pair discovery and checks, channel rule, data-bar masks, splits by
source image, and the training/validation datasets."""

from midnet.data.channels import to_model_channels
from midnet.data.databar import valid_mask
from midnet.data.sampling import PairStore, RandomCropDataset, StepBatchSampler, dihedral
from midnet.data.pairs import (ImagePair, PairValidationError, find_pair_folders, list_pairs)
from midnet.data.splits import DEFAULT_GROUP_REGEX, group_key, split_pairs, write_split_json

__all__ = [
    "ImagePair", "PairValidationError", "find_pair_folders", "list_pairs", "to_model_channels",
    "valid_mask", "PairStore", "RandomCropDataset", "StepBatchSampler", "dihedral", "DEFAULT_GROUP_REGEX",
    "group_key", "split_pairs", "write_split_json",
]
