"""What was published and where: the packaged SHA-256 list, the source URL, the cache folder.

The checksum list (``published.sha256``, package data) pins every one of the 216 published
crops, so a truncated transfer, a proxy error page or a changed upstream file is caught instead
of silently poisoning training and evaluation. It is the single source of truth: the pooch
registry (:func:`registry`), ``midnet data verify`` and the path helpers all read it from here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

#: Commit of woshigui/MIDNet whose ``datasets/`` folder the checksum list describes.
PUBLISHED_COMMIT = "6d17edf057f8e88ee92cba0a4eb398c231448518"
#: Where ``<blur|sharp>/<name>`` is appended to fetch a file.
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/woshigui/MIDNet/{PUBLISHED_COMMIT}/datasets"
#: Environment variable that replaces :data:`DEFAULT_BASE_URL` (mirrors, tests).
ENV_DATA_URL = "MIDNET_DATA_URL"

_LINE = re.compile(r"^([0-9a-f]{64})\s+\*?((blur|sharp)/((\d+-\d+)_s(\d{3})\.png))$")


@dataclass(frozen=True)
class PublishedFile:
    """One crop of the publication: ``relpath`` is ``<kind>/<name>`` as in the layout."""

    relpath: str
    sha256: str
    kind: str
    name: str
    group: str
    index: int


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/midnet/midnet-sem`` (``~/.cache/midnet/midnet-sem`` by default).

    Not ``pooch.os_cache``: that moves to ``~/Library/Caches`` on macOS, where the README and
    existing caches say ``~/.cache``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "midnet" / "midnet-sem"


def resolve_base_url(base_url: str | None = None) -> str:
    """Explicit argument, else ``$MIDNET_DATA_URL``, else the pinned GitHub commit."""
    url = base_url or os.environ.get(ENV_DATA_URL) or DEFAULT_BASE_URL
    return url.rstrip("/")


@lru_cache(maxsize=1)
def _all_files() -> tuple[PublishedFile, ...]:
    """The packaged list, parsed once (every command start reads it)."""
    text = resources.files("midnet.sample_data").joinpath("published.sha256").read_text("ascii")
    entries: list[PublishedFile] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line.strip())
        if match is None:
            raise ValueError(
                f"midnet/sample_data/published.sha256 line {number} is malformed: {line!r}; "
                "reinstall midnet"
            )
        digest, relpath, kind, name, group, index = match.groups()
        entries.append(PublishedFile(relpath, digest, kind, name, group, int(index)))
    return tuple(entries)


def published_files(
    groups: Iterable[str] | None = None, names: Iterable[str] | None = None
) -> list[PublishedFile]:
    """The published crops from the packaged checksum list, optionally restricted.

    ``groups`` keeps only those source images (``"7-1"``; a bare ``"7"`` means ``"7-1"``);
    ``names`` keeps only those files (``"1-1_s001.png"`` for both kinds, or ``"blur/1-1_s001.png"``).
    Unknown groups or names raise ``ValueError`` so a typo does not silently fetch nothing.
    """
    entries = list(_all_files())
    if groups is not None:
        wanted = {normalise_group(g) for g in groups}
        known = {e.group for e in entries}
        if wanted - known:
            raise ValueError(
                f"unknown source image(s) {sorted(wanted - known)}; published groups are {sorted(known)}"
            )
        entries = [e for e in entries if e.group in wanted]
    if names is not None:
        wanted_names = set(names)
        unknown = wanted_names - {e.name for e in entries} - {e.relpath for e in entries}
        if unknown:
            raise ValueError(
                f"unknown published file(s) {sorted(unknown)}; names look like "
                "'1-1_s001.png' or 'blur/1-1_s001.png' (source images 1..9, crops s001..s012)"
            )
        entries = [e for e in entries if e.name in wanted_names or e.relpath in wanted_names]
    return entries


def registry() -> dict[str, str]:
    """``relpath -> "sha256:<hex>"``: the checksum list in the form ``pooch.create`` takes."""
    return {e.relpath: f"sha256:{e.sha256}" for e in _all_files()}


def published_groups() -> list[str]:
    """Source-image groups of the publication, in numeric order (``["1-1", ..., "9-1"]``)."""
    groups = {e.group for e in _all_files()}
    return sorted(groups, key=lambda g: tuple(int(p) for p in g.split("-")))


def normalise_group(group: str | int) -> str:
    """Accept ``7``, ``"7"`` or ``"7-1"`` for source image 7 and return ``"7-1"``."""
    text = str(group).strip()
    if re.fullmatch(r"\d+", text):
        return f"{text}-1"
    if re.fullmatch(r"\d+-\d+", text):
        return text
    raise ValueError(f"source image {group!r} is not of the form '7' or '7-1'")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file: ``pooch.file_hash``, the very hash pooch checks downloads with.

    pooch is imported here, not at the top, because it pulls in tqdm and requests, which every
    ``import midnet.sample_data`` (the demo, the benchmark CLI) would otherwise pay for.
    """
    from pooch import file_hash

    return str(file_hash(str(path), alg="sha256"))
