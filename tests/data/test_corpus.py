"""Sharp-corpus loading (bars cut, split by whole source) and the defocus training samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from midnet.data.corpus import grey_unit, load_corpus
from midnet.data.defocus_dataset import DefocusCropDataset, FixedDefocusDataset


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((h, w)) * 200 + 20).astype(np.uint8)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for src in ("alpha", "beta", "gamma"):
        (root / src / "sub").mkdir(parents=True)
    a = _texture(80, 96, 0)
    a[70:] = 0  # a 10-row "data bar"
    Image.fromarray(a).save(root / "alpha" / "a1.png")
    Image.fromarray(_texture(72, 72, 1)).save(root / "alpha" / "sub" / "a2.png")
    Image.fromarray(np.stack([_texture(64, 64, 2)] * 3, axis=2)).save(root / "beta" / "b1.png")
    tifffile.imwrite(root / "gamma" / "g1.tif", (np.arange(64 * 64).reshape(64, 64) % 4096).astype(np.uint16))
    (root / "inventory.tsv").write_text("relative_path\tdatabar_rows\nalpha/a1.png\t10\n")
    return root


def test_bars_are_cut_and_sources_are_top_folders(corpus: Path) -> None:
    images = load_corpus(corpus)
    by_name = {im.name: im for im in images}
    assert by_name["alpha/a1.png"].image.shape == (70, 96)
    assert by_name["alpha/sub/a2.png"].source == "alpha"
    assert {im.source for im in images} == {"alpha", "beta", "gamma"}
    for im in images:
        assert im.image.dtype == np.float32 and 0 <= im.image.min() and im.image.max() <= 1


def test_deep_data_is_stretched_to_its_range() -> None:
    twelve_bit = (np.arange(256 * 256).reshape(256, 256) % 4096).astype(np.uint16)
    g = grey_unit(twelve_bit)
    assert g.max() > 0.99 and g.min() < 0.01  # not left at 4095/65535


def test_split_by_whole_source(corpus: Path) -> None:
    train = load_corpus(corpus, exclude_sources=["beta"])
    val = load_corpus(corpus, sources=["beta"])
    assert {im.source for im in train} == {"alpha", "gamma"} and {im.source for im in val} == {"beta"}
    with pytest.raises(ValueError, match="not found"):
        load_corpus(corpus, sources=["delta"])


def test_too_small_images_and_empty_folders_are_named(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a1.png.*smaller than the crop size"):
        load_corpus(corpus, min_size=71)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        load_corpus(tmp_path / "empty")


def test_defocus_crops_are_deterministic_and_shaped(corpus: Path) -> None:
    images = load_corpus(corpus)
    ds = DefocusCropDataset(images, crop_size=48, seed=3)
    a, b = ds[11], ds[11]
    for key in ("input", "target", "mask"):
        assert a[key].shape == (1, 48, 48)
        assert np.array_equal(a[key].numpy(), b[key].numpy())
    assert not np.array_equal(ds[12]["target"].numpy(), a["target"].numpy())
    # sources are drawn evenly: gamma (1 image) appears about as often as alpha (2 images)
    rng_sources = [ds.sources[int(np.random.default_rng([3, k]).integers(len(ds.sources)))] for k in range(300)]
    counts = {s: rng_sources.count(s) for s in ds.sources}
    assert min(counts.values()) > 70


def test_fixed_validation_set_is_the_same_every_time(corpus: Path) -> None:
    images = load_corpus(corpus, sources=["beta"])
    one, two = FixedDefocusDataset(images, crop=48), FixedDefocusDataset(images, crop=48)
    assert len(one) == 3
    assert np.array_equal(one[1]["input"].numpy(), two[1]["input"].numpy())
    assert one[1]["name"].endswith("sigma2") and one[1]["group"] == "synthetic"
