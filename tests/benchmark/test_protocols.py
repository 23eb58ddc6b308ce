"""``data.protocol``: the paper's random crop split against the by-source split (issue 19).

The published layout in miniature: 7 source images x 12 crops. Under ``paper`` the test crops are
drawn at random across source images (seeded, so a rerun scores the same crops) and training
excludes exactly those crops; under ``by-source`` no crop of a test source image is ever trained on.
Fast: splits and training configurations only, nothing trains.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from midnet.benchmark import load_benchmark_config
from midnet.benchmark.runner import split_data
from midnet.benchmark.training_runs import training_config
from midnet.config import ConfigError
from midnet.config.benchmark import BenchmarkConfig
from midnet.data import group_key, list_pairs, split_pairs
from midnet.data.synthetic import write_synthetic_pairs

GROUPS = [f"{g}-1" for g in range(1, 8)]


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_pairs(tmp_path_factory.mktemp("protocol_pairs"), groups=7, per_group=12, size=(16, 16))


def _cfg(root: Path, *extra: str) -> BenchmarkConfig:
    return load_benchmark_config(None, [f"data.root={root}", "data.use_frames=false",
                                        "data.train_groups=[1-1, 2-1, 3-1, 4-1, 5-1, 6-1]",
                                        "data.test_groups=[7-1]", *extra])


def _split(root: Path, *extra: str):
    return split_data(_cfg(root, *extra).data, root / "blur", root / "sharp")


def _names(pairs: list) -> set[str]:
    return {p.name for p in pairs}


def test_paper_split_is_random_across_groups_seeded_and_disjoint(crops: Path) -> None:
    a = _split(crops, "data.protocol=paper", "data.split_seed=3")
    again = _split(crops, "data.protocol=paper", "data.split_seed=3")
    other = _split(crops, "data.protocol=paper", "data.split_seed=4")
    test, train = _names(a.subsets["test"]), _names(a.subsets["train"])
    assert len(test) == 12 and len(train) == 72          # test size defaults to what 7-1 holds
    assert not test & train and len(test | train) == 84   # disjoint, nothing left out
    assert len({group_key(n) for n in test}) > 1          # drawn across source images, not one
    assert test == _names(again.subsets["test"])          # reproducible
    assert test != _names(other.subsets["test"])          # and the seed matters
    assert sorted(test) == a.holdout                      # training excludes exactly the test crops


def test_paper_test_count_and_fraction(crops: Path) -> None:
    assert len(_split(crops, "data.protocol=paper", "data.paper_test_count=5").subsets["test"]) == 5
    assert len(_split(crops, "data.protocol=paper", "data.paper_test_fraction=0.1").subsets["test"]) == 8
    with pytest.raises(ConfigError, match="paper_test_count or data.paper_test_fraction, not both"):
        _cfg(crops, "data.paper_test_count=5", "data.paper_test_fraction=0.1")
    with pytest.raises(ConfigError, match="set data.val_groups=\\[\\]"):
        _cfg(crops, "data.protocol=paper", "data.val_groups=[6-1]", "data.train_groups=[1-1]")


@pytest.mark.parametrize("protocol", ["paper", "by-source"])
def test_training_never_sees_a_test_pair(crops: Path, protocol: str) -> None:
    """The row's `midnet train` config, split the way training splits it, leaves every test pair out;
    under by-source no crop of a test source image is in training either."""
    cfg = _cfg(crops, f"data.protocol={protocol}")
    split = split_data(cfg.data, crops / "blur", crops / "sharp")
    train_cfg = training_config(cfg, cfg.table2.models[0], label="row", input_dir=crops / "blur",
                                target_dir=crops / "sharp", excluded_groups=split.holdout,
                                group_regex=split.unit_regex)
    d = train_cfg.data
    trained = split_pairs(list_pairs(crops / "blur", crops / "sharp"), val_groups=d.val_groups,
                          test_groups=d.test_groups, regex=d.group_regex)["train"]
    assert not _names(trained) & _names(split.subsets["test"])
    if protocol == "by-source":
        test_groups = {group_key(p.name) for p in split.subsets["test"]}
        assert test_groups == {"7-1"} and len(split.subsets["test"]) == 12
        assert not {group_key(p.name) for p in trained} & test_groups
        assert len(trained) == 72
    else:
        assert len(trained) == 72
        assert {group_key(p.name) for p in trained} == set(GROUPS)   # the paper's leak: every scene trained on


def test_split_document_names_both_sides(crops: Path) -> None:
    split = _split(crops, "data.protocol=paper", "data.split_seed=1")
    doc = json.loads(json.dumps(split.document(r"^(.*?)_s\d+")))
    assert doc["protocol"] == "paper" and doc["seed"] == 1
    assert doc["test"]["count"] == 12 and doc["train"]["count"] == 72
    assert set(doc["test"]["pairs"]) == _names(split.subsets["test"])
    assert doc["groups_in_train_and_test"]                  # the overlap the paper split has
    by_source = _split(crops).document(r"^(.*?)_s\d+")
    assert by_source["groups_in_train_and_test"] == [] and by_source["test"]["groups"] == ["7-1"]
