"""Where the published MIDNet pairs live: ``$MIDNET_DATA``, else the download cache.

Every command that needs the published data calls :func:`data_root` so that tests, CI and
offline users can point all of them at a local copy with one environment variable, while a
fresh install fetches the data once into a per-user cache.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from midnet.sample_data import frames as _frames
from midnet.sample_data.download import download as _download
from midnet.sample_data.published import default_cache_dir, normalise_group, published_files

#: Environment variable naming a local copy of the published pairs.
ENV_DATA = "MIDNET_DATA"

__all__ = ["ENV_DATA", "default_cache_dir", "missing_files", "data_root", "frame_pair"]


def missing_files(root: str | Path) -> list[str]:
    """Published crops and frames absent from ``root`` (existence only, no hashing).

    Cheap enough to run on every command start; ``midnet data verify`` checks the hashes.
    """
    root = Path(root)
    entries = published_files()
    missing = [e.relpath for e in entries if not (root / e.relpath).is_file()]
    for kind, group in sorted({(e.kind, e.group) for e in entries}):
        frame = _frames.frame_path(root, kind, group)
        if not frame.is_file():
            missing.append(frame.relative_to(root).as_posix())
    return missing


def _env_root() -> Path | None:
    value = os.environ.get(ENV_DATA, "").strip()
    if not value:
        return None
    root = Path(value).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"{ENV_DATA}={value}: folder does not exist; point it at a copy of the published "
            "pairs (blur/, sharp/, frames/) or unset it to use the download cache"
        )
    return root.absolute()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def data_root(download: bool = False, *, log: Callable[[str], None] | None = None) -> Path:
    """Folder holding the published pairs in the layout of ``shared/data/midnet-sem``.

    ``$MIDNET_DATA`` wins when set (it must exist; it is used as is, so a partial copy such as
    source images 1..7 is fine). Otherwise the download cache (:func:`default_cache_dir`) is
    used: if files are missing there, ``download=True`` fetches them (progress and the final
    summary go to ``log``, stderr by default) and ``download=False`` raises
    ``FileNotFoundError`` saying how to get them.
    """
    env = _env_root()
    if env is not None:
        return env
    cache = default_cache_dir()
    missing = missing_files(cache)
    if not missing:
        return cache
    if not download:
        raise FileNotFoundError(
            f"{cache}: published MIDNet data not found ({len(missing)} files missing); run "
            f"`midnet data download` or set {ENV_DATA} to a local copy"
        )
    say = log or _stderr
    say(f"downloading the published MIDNet SEM pairs to {cache} ...")
    report = _download(cache, log=say)
    say(report.summary())
    if not report.ok:
        names = sorted(report.failed)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise RuntimeError(
            f"could not fetch {len(names)} published file(s) into {cache}: {shown}; retry "
            f"`midnet data download` or set {ENV_DATA} to a local copy"
        )
    return cache


def frame_pair(
    group: str | int, *, root: str | Path | None = None, download: bool = False
) -> tuple[Path, Path]:
    """Paths ``(blur, sharp)`` of the full 1280x1024 frames of one source image.

    ``group`` is ``"7-1"`` (or ``"7"``/``7``). ``root`` defaults to :func:`data_root`.
    """
    group = normalise_group(group)
    base = Path(root) if root is not None else data_root(download=download)
    paths = tuple(_frames.frame_path(base, kind, group) for kind in _frames.KINDS)
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: frame of source image {group} not found; run `midnet data download` "
                f"(or `midnet data frames {base}` if its crops are there)"
            )
    return paths[0], paths[1]
