"""Find and check paired image folders before any training starts.

Why check everything first: a training run that dies after an hour on pair 73 wastes the
hour; a lab fixing its folders wants the full list of problems at once, not one per try.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from midnet.io import SUFFIXES, read_image

#: accepted (input, target) folder-name pairs, in lookup order
FOLDER_PAIRS: tuple[tuple[str, str], ...] = (("blur", "sharp"), ("input", "target"), ("lq", "gt"))


class PairValidationError(ValueError):
    """Raised once with every bad pair listed (missing partner, size mismatch, unreadable)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"{len(self.problems)} bad image pair(s); fix or remove them before training:\n{lines}"
        )


@dataclass(frozen=True)
class ImagePair:
    """One blurry/sharp pair; `name` is the shared file stem (e.g. ``1-1_s009``)."""

    name: str
    input_path: Path
    target_path: Path


def find_pair_folders(root: str | Path) -> tuple[Path, Path]:
    """Return the (input, target) folders under `root` (blur/sharp, input/target or lq/gt)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: data folder not found; point data.root at a folder "
                                f"holding blur/ and sharp/ (or input/+target/, lq/+gt/)")
    for inp, tgt in FOLDER_PAIRS:
        if (root / inp).is_dir() and (root / tgt).is_dir():
            return root / inp, root / tgt
    names = ", ".join(f"{a}/+{b}/" for a, b in FOLDER_PAIRS)
    raise FileNotFoundError(f"{root}: no paired sub-folders found; expected one of {names}")


def _images_by_stem(folder: Path, problems: list[str]) -> dict[str, Path]:
    """Image files by stem; two files with one stem (a.png, a.tif) are ambiguous and reported."""
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if not (p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")):
            continue
        if p.stem in found:
            problems.append(f"{p}: same name as {found[p.stem].name}; keep one file per image name")
            continue
        found[p.stem] = p
    return found


def _image_size(path: Path) -> tuple[int, int]:
    """(height, width) of an image; decodes the file fully so corrupt data is caught here (its
    data bar is not looked for: the check needs only the size)."""
    array = read_image(path, databar=0).array
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(f"{path}: unexpected image shape {array.shape}")
    return int(array.shape[0]), int(array.shape[1])


def list_pairs(input_dir: str | Path, target_dir: str | Path, *, check: bool = True) -> list[ImagePair]:
    """Pair files of two folders by stem and (by default) check every pair.

    Files match by name without suffix, so ``blur/a.tif`` pairs with ``sharp/a.png``. With
    `check`, every file is decoded and sizes compared; all problems are collected and raised
    together as one :class:`PairValidationError`.
    """
    input_dir, target_dir = Path(input_dir), Path(target_dir)
    for folder in (input_dir, target_dir):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: folder not found; check the path")
    problems: list[str] = []
    inputs, targets = _images_by_stem(input_dir, problems), _images_by_stem(target_dir, problems)
    for stem in sorted(set(inputs) - set(targets)):
        problems.append(f"{inputs[stem]}: no partner in {target_dir}")
    for stem in sorted(set(targets) - set(inputs)):
        problems.append(f"{targets[stem]}: no partner in {input_dir}")
    pairs: list[ImagePair] = []
    for stem in sorted(set(inputs) & set(targets)):
        pair = ImagePair(stem, inputs[stem], targets[stem])
        if check:
            sizes = []
            for path in (pair.input_path, pair.target_path):
                try:
                    sizes.append(_image_size(path))
                except ImportError:  # a broken installation is not a bad pair
                    raise
                except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad pair
                    problems.append(f"{path}: unreadable ({str(exc).splitlines()[0]})")
            if len(sizes) == 2 and sizes[0] != sizes[1]:
                problems.append(f"{stem}: size mismatch, {pair.input_path} is {sizes[0][1]}x{sizes[0][0]} "
                                f"but {pair.target_path} is {sizes[1][1]}x{sizes[1][0]} (width x height)")
        pairs.append(pair)
    if problems:
        raise PairValidationError(problems)
    if not pairs:
        raise FileNotFoundError(f"{input_dir}, {target_dir}: no image pairs found "
                                f"(suffixes {', '.join(sorted(SUFFIXES))})")
    return pairs
