"""Split pairs by source image, never by crop.

The MIDNet crops overlap by half inside each source frame, so a random split of crops puts
the same pixels in training and test. A group key taken from the file name keeps all crops
of one frame on the same side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from midnet.data.pairs import ImagePair
from midnet.io.atomic import atomic_write_text

#: MIDNet names: `1-1_s009` -> group `1-1` (everything before `_s<digits>`)
DEFAULT_GROUP_REGEX = r"^(.*?)_s\d+"


def group_key(name: str, regex: str = DEFAULT_GROUP_REGEX) -> str:
    """Group of a file stem: the regex's first capture group (or whole match); the stem if no match."""
    m = re.search(regex, name)
    if m is None:
        return name
    return m.group(1) if m.groups() else m.group(0)


def split_pairs(pairs: Sequence[ImagePair], *, val_groups: Iterable[str] = (),
                test_groups: Iterable[str] = (), regex: str = DEFAULT_GROUP_REGEX
                ) -> dict[str, list[ImagePair]]:
    """Assign pairs to train/val/test by group; unknown requested groups are an error."""
    val, test = [str(g) for g in val_groups], [str(g) for g in test_groups]
    overlap = set(val) & set(test)
    if overlap:
        raise ValueError(f"groups {sorted(overlap)} are in both val_groups and test_groups; pick one")
    present = {group_key(p.name, regex) for p in pairs}
    missing = (set(val) | set(test)) - present
    if missing:
        raise ValueError(f"groups {sorted(missing)} not found in the data; groups present: "
                         f"{sorted(present)} (group regex {regex!r})")
    out: dict[str, list[ImagePair]] = {"train": [], "val": [], "test": []}
    for p in pairs:
        g = group_key(p.name, regex)
        out["val" if g in val else "test" if g in test else "train"].append(p)
    if not out["train"]:
        raise ValueError("no training pairs left after removing the val/test groups")
    return out


def write_split_json(split: dict[str, list[ImagePair]], path: str | Path, regex: str) -> None:
    """Write the assignment (group and file names per subset) atomically as JSON."""
    doc = {"group_regex": regex}
    for subset, items in split.items():
        doc[subset] = {"groups": sorted({group_key(p.name, regex) for p in items}),
                       "pairs": [{"name": p.name, "input": str(p.input_path),
                                  "target": str(p.target_path)} for p in items]}
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")


#: a group regex under which every file stem is its own group (the paper's crop-level split)
EACH_FILE_REGEX = r"^(.*)$"


def random_test_pairs(pairs: Sequence[ImagePair], n_test: int, *, seed: int) -> list[str]:
    """Names of ``n_test`` pairs drawn at random (seeded) from all pairs, ignoring source images.

    Why it exists although :func:`split_pairs` is the safe split: it reproduces the MIDNet
    paper's protocol (a random 108/12 split of overlapping crops), so the benchmark can show how
    much of the paper's score comes from test crops whose pixels were also trained on. The draw
    depends only on the sorted names and the seed, not on the order the files were listed in.
    """
    names = sorted(p.name for p in pairs)
    if len(set(names)) != len(names):
        raise ValueError("pair names are not unique; a crop-level split needs one name per pair")
    if not 0 < n_test < len(names):
        raise ValueError(f"a random split of {len(names)} pairs needs 1..{len(names) - 1} test pairs, got "
                         f"{n_test}; set data.paper_test_count")
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(names), size=n_test, replace=False)
    return sorted(names[i] for i in picked)
