"""JEOL and Hitachi sidecar files: the ``.txt`` beside an image that holds its SEM metadata.

Only files that look like an instrument's sidecar are copied: JEOL's start with ``$`` keys
(``$CM_FORMAT``, ``$$SM_...``), Hitachi's hold a ``[SemImageFile]`` section. A user's unrelated
notes with the same name are left alone. What a sidecar says is parsed by `midnet.io.vendors`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from midnet.io.atomic import atomic_write

_SUFFIXES = (".txt", ".TXT", ".Txt")


def read_text(path: Path) -> str:
    return path.read_bytes().decode("latin-1")


def sidecar_kind(text: str) -> str | None:
    """``"jeol"``, ``"hitachi"`` or None for the text of a candidate sidecar."""
    head = text.lstrip()[:4096]
    if head.startswith("$") and re.search(r"^\$+CM_", head, re.MULTILINE):
        return "jeol"
    if "[SemImageFile]" in head:
        return "hitachi"
    return None


def find_sidecar(image_path: Path) -> Path | None:
    """The instrument sidecar beside ``image_path`` (same stem, ``.txt``), if there is one."""
    for suffix in _SUFFIXES:
        candidate = image_path.with_suffix(suffix)
        if candidate.is_file():
            try:
                if sidecar_kind(read_text(candidate)) is not None:
                    return candidate
            except OSError:
                return None
    return None


def copy_sidecar(src_image: Path, dst_image: Path, *, overwrite: bool = False) -> Path | None:
    """Copy ``src_image``'s sidecar beside ``dst_image`` (named after it); returns the new path."""
    found = find_sidecar(Path(src_image))
    if found is None:
        return None
    target = Path(dst_image).with_suffix(found.suffix)
    if target.exists() and target.resolve() == found.resolve():
        raise ValueError(f"{target}: sidecar copy would overwrite its source; choose another output folder")
    if target.is_file() and target.read_bytes() == found.read_bytes():
        return target  # already there (e.g. a.tif and a.png sharing a.txt)
    return atomic_write(target, lambda tmp: shutil.copyfile(found, tmp), overwrite=overwrite)
