"""Fetch the published MIDNet SEM pairs, verify every file by SHA-256, rebuild the frames.

Why it is built this way:

* The checksum list (``published.sha256``, package data) pins every one of the 216 published
  crops, so a truncated transfer, a proxy error page or a changed upstream file is caught
  instead of silently poisoning training and evaluation.
* Each file is streamed to a temp file *in the destination folder* and renamed onto its final
  name only after its hash matches, so nothing half-written ever looks complete, even if the
  process is killed.
* Files already present with the right hash are skipped, which makes a second run fetch
  nothing; a present file with the wrong hash is reported and fetched again.
* Failures are retried a bounded number of times and collected into a :class:`DownloadReport`
  that names every file that could not be fetched (the CLI exits non-zero on them).

Only the standard library (``urllib``) is used, so downloading adds no dependency. The base
URL can be overridden (``MIDNET_DATA_URL`` or ``base_url=``), which is how the tests point it
at a loopback server.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from midnet.sample_data import frames as _frames

#: Commit of woshigui/MIDNet whose ``datasets/`` folder the checksum list describes.
PUBLISHED_COMMIT = "6d17edf057f8e88ee92cba0a4eb398c231448518"
#: Where ``<blur|sharp>/<name>`` is appended to fetch a file.
DEFAULT_BASE_URL = (
    f"https://raw.githubusercontent.com/woshigui/MIDNet/{PUBLISHED_COMMIT}/datasets"
)
#: Environment variable that replaces :data:`DEFAULT_BASE_URL` (mirrors, tests).
ENV_DATA_URL = "MIDNET_DATA_URL"

_CHUNK = 1 << 16
_TEMP_SUFFIX = _frames.TEMP_SUFFIX
_TEMP_PREFIX = _frames.TEMP_PREFIX
#: a temp file untouched for this long belongs to a dead run, not to a concurrent one
_STALE_AFTER_S = 3600.0
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
    """``$XDG_CACHE_HOME/midnet/midnet-sem`` (``~/.cache/midnet/midnet-sem`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "midnet" / "midnet-sem"


def published_files(
    groups: Iterable[str] | None = None, names: Iterable[str] | None = None
) -> list[PublishedFile]:
    """The published crops from the packaged checksum list, optionally restricted.

    ``groups`` keeps only those source images (``"7-1"``; a bare ``"7"`` means ``"7-1"``);
    ``names`` keeps only those files (``"1-1_s001.png"`` for both kinds, or ``"blur/1-1_s001.png"``).
    Unknown groups or names raise ``ValueError`` so a typo does not silently fetch nothing.
    """
    text = resources.files("midnet.sample_data").joinpath("published.sha256").read_text("ascii")
    entries: list[PublishedFile] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line.strip())
        if match is None:
            raise ValueError(f"midnet/sample_data/published.sha256 line {number} is malformed: {line!r}")
        digest, relpath, kind, name, group, index = match.groups()
        entries.append(PublishedFile(relpath, digest, kind, name, group, int(index)))

    if groups is not None:
        wanted = {normalise_group(g) for g in groups}
        unknown = wanted - {e.group for e in entries}
        if unknown:
            raise ValueError(
                f"unknown source image(s) {sorted(unknown)}; published groups are "
                f"{sorted({e.group for e in entries})}"
            )
        entries = [e for e in entries if e.group in wanted]
    if names is not None:
        wanted_names = set(names)
        known = {e.name for e in entries} | {e.relpath for e in entries}
        unknown = wanted_names - known
        if unknown:
            raise ValueError(
                f"unknown published file(s) {sorted(unknown)}; names look like "
                "'1-1_s001.png' or 'blur/1-1_s001.png' (source images 1..9, crops s001..s012)"
            )
        entries = [e for e in entries if e.name in wanted_names or e.relpath in wanted_names]
    return entries


def published_groups() -> list[str]:
    """Source-image groups of the publication, in numeric order (``["1-1", ..., "9-1"]``)."""
    groups = {e.group for e in published_files()}
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
    """Hex SHA-256 of a file, read in chunks (crops are ~300 kB, frames ~700 kB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_base_url(base_url: str | None = None) -> str:
    """Explicit argument, else ``$MIDNET_DATA_URL``, else the pinned GitHub commit."""
    url = base_url or os.environ.get(ENV_DATA_URL) or DEFAULT_BASE_URL
    return url.rstrip("/")


@dataclass
class DownloadReport:
    """What a :func:`download` run did; ``ok`` is False when any file could not be fetched."""

    dest: Path
    base_url: str
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: present on disk with a wrong hash before this run (then fetched again)
    damaged_on_disk: list[str] = field(default_factory=list)
    #: (file, reason) for every failed attempt, including ones that a retry fixed
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: file -> reason of its last failed attempt, for files still not verified
    failed: dict[str, str] = field(default_factory=dict)
    #: frame path (relative to dest) -> "written" | "replaced" | "kept"
    frames: dict[str, str] = field(default_factory=dict)
    #: groups whose frames could not be built because crops are missing
    frames_skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        """Human-readable multi-line summary (what the CLI prints at the end)."""
        lines = [
            f"destination: {self.dest}",
            f"crops: {len(self.fetched)} downloaded, {len(self.skipped)} already verified, "
            f"{len(self.failed)} failed",
        ]
        if self.damaged_on_disk:
            lines.append(
                f"replaced {len(self.damaged_on_disk)} damaged local file(s): "
                + ", ".join(self.damaged_on_disk)
            )
        retried = [(f, r) for f, r in self.problems if f not in self.failed]
        if retried:
            lines.append(f"recovered after retry: {len(retried)} failed attempt(s)")
            lines.extend(f"  {name}: {reason}" for name, reason in retried)
        written = sorted(k for k, v in self.frames.items() if v != "kept")
        kept = sum(v == "kept" for v in self.frames.values())
        lines.append(f"frames: {len(written)} written, {kept} already up to date")
        if self.frames_skipped:
            lines.append("frames not built (crops missing): " + ", ".join(self.frames_skipped))
        if self.failed:
            lines.append(f"FAILED to fetch {len(self.failed)} file(s) from {self.base_url}:")
            lines.extend(f"  {name}: {reason}" for name, reason in sorted(self.failed.items()))
            lines.append("run `midnet data download` again, or set MIDNET_DATA to a local copy")
        else:
            lines.append("all requested files verified (SHA-256)")
        return "\n".join(lines)


class TransferError(Exception):
    """A single attempt failed; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def _fetch_once(url: str, target: Path, expected_sha256: str, timeout: float) -> None:
    """Stream ``url`` into a temp file next to ``target``; rename only if the hash matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f"{_TEMP_PREFIX}{target.name}.", suffix=_TEMP_SUFFIX
    )
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        request = urllib.request.Request(url, headers={"User-Agent": "midnet-data-download"})
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
                length_header = response.headers.get("Content-Length", "")
                expected_length = int(length_header) if length_header.isdigit() else None
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except urllib.error.HTTPError as error:
            # 4xx will not fix itself by asking again; 5xx (and 429) might.
            retryable = error.code >= 500 or error.code == 429
            raise TransferError(f"HTTP {error.code} {error.reason}", retryable=retryable) from None
        except http.client.IncompleteRead as error:
            raise TransferError(
                f"connection closed early ({received + len(error.partial)} bytes received)"
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", None) or error
            raise TransferError(f"transfer error: {reason}") from None

        if expected_length is not None and received != expected_length:
            raise TransferError(
                f"incomplete transfer: {received} of {expected_length} bytes received"
            )
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise TransferError(
                f"SHA-256 mismatch ({received} bytes, got {actual[:12]}..., "
                f"expected {expected_sha256[:12]}...)"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; data files should read like any other
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


class OfflineError(ConnectionError):
    """The download server (or the proxy) cannot be reached at all: no use trying 216 files."""


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """Raise `OfflineError` within ``timeout`` seconds when ``url``'s host (or its proxy) is unreachable.

    One TCP connection, before any file: without it, an offline machine would try every
    published file ``attempts`` times and wait out each timeout (minutes) before saying so.
    """
    import socket
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return  # file:// mirrors and the like need no network
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise OfflineError(
            f"cannot reach {host}:{port} ({reason}); check the network connection or proxy, or use "
            f"a local copy (MIDNET_DATA=...) or a mirror (--url / {ENV_DATA_URL})"
        ) from None


def _remove_stale_temp_files(dest: Path) -> None:
    """Delete temp files that a killed earlier run left behind.

    Only our own names (``.midnet-*.part``) and only ones untouched for an hour, so a
    download running concurrently into the same folder keeps its files.
    """
    now = time.time()
    folders = [dest / kind for kind in _frames.KINDS] + [dest / "frames" / k for k in _frames.KINDS]
    for folder in folders:
        if folder.is_dir():
            for stale in folder.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
                try:
                    if now - stale.stat().st_mtime > _STALE_AFTER_S:
                        stale.unlink()
                except FileNotFoundError:
                    pass


def download(
    dest: str | Path | None = None,
    *,
    base_url: str | None = None,
    groups: Iterable[str] | None = None,
    names: Iterable[str] | None = None,
    attempts: int = 3,
    timeout: float = 60.0,
    retry_wait: float = 1.0,
    build_frames: bool = True,
    log: Callable[[str], None] | None = None,
) -> DownloadReport:
    """Download (a subset of) the published crops into ``dest`` and rebuild their frames.

    ``dest`` defaults to the cache folder of :func:`midnet.sample_data.default_cache_dir`. The
    result has the layout of ``shared/data/midnet-sem``: ``blur/``, ``sharp/``,
    ``frames/blur/``, ``frames/sharp/``. Each file gets at most ``attempts`` tries, waiting
    ``retry_wait * try`` seconds between them. Frames are rebuilt for every requested group
    whose 24 crops are all verified. Returns a :class:`DownloadReport`; inspect ``.ok``.
    Raises `OfflineError` within seconds when files are needed and the server cannot be reached.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    say = log or (lambda message: None)
    dest = Path(dest) if dest is not None else default_cache_dir()
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest}: destination exists and is not a folder; pick another --dest")
    url = resolve_base_url(base_url)
    wanted = published_files(groups=groups, names=names)
    report = DownloadReport(dest=dest, base_url=url)
    dest.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(dest)

    good_on_disk = {e.relpath for e in wanted
                    if (dest / e.relpath).is_file() and sha256_file(dest / e.relpath) == e.sha256}
    if len(good_on_disk) < len(wanted):
        check_reachable(url, timeout=min(timeout, 5.0))

    verified: set[str] = set()
    for number, entry in enumerate(wanted, start=1):
        target = dest / entry.relpath
        if target.is_file():
            if entry.relpath in good_on_disk:
                report.skipped.append(entry.relpath)
                verified.add(entry.relpath)
                continue
            report.damaged_on_disk.append(entry.relpath)
            say(f"{entry.relpath}: local copy has the wrong SHA-256, fetching it again")

        for attempt in range(1, attempts + 1):
            try:
                _fetch_once(f"{url}/{entry.relpath}", target, entry.sha256, timeout)
            except TransferError as error:
                report.problems.append((entry.relpath, str(error)))
                say(f"{entry.relpath}: attempt {attempt}/{attempts} failed: {error}")
                if not error.retryable or attempt == attempts:
                    report.failed[entry.relpath] = str(error)
                    break
                if retry_wait > 0:
                    time.sleep(retry_wait * attempt)
            else:
                report.fetched.append(entry.relpath)
                verified.add(entry.relpath)
                say(f"[{number}/{len(wanted)}] {entry.relpath} verified")
                break

        if entry.relpath in report.failed and target.is_file():
            # A damaged local copy that we could not replace must not pass for a good one.
            target.unlink()

    if build_frames:
        _rebuild_frames(dest, wanted, verified, report, say)
    return report


def _rebuild_frames(
    dest: Path,
    wanted: list[PublishedFile],
    verified: set[str],
    report: DownloadReport,
    say: Callable[[str], None],
) -> None:
    """Stitch a frame for every (kind, group) whose 12 crops are all verified in ``dest``."""
    pairs = sorted({(e.kind, e.group) for e in wanted})
    expected = {e.relpath: e.sha256 for e in published_files()}
    for kind, group in pairs:
        needed = {f"{kind}/{_frames.crop_name(group, i)}" for i in range(1, _frames.CROPS_PER_FRAME + 1)}
        # Crops of this group that were not requested may still be on disk from an earlier run.
        for relpath in needed - verified:
            path = dest / relpath
            if path.is_file() and sha256_file(path) == expected[relpath]:
                verified.add(relpath)
        if not needed <= verified:
            report.frames_skipped.append(f"{kind}/{group}")
            continue
        status = _frames.ensure_frame(dest, kind, group)
        relframe = _frames.frame_path(dest, kind, group).relative_to(dest).as_posix()
        report.frames[relframe] = status
        if status != "kept":
            say(f"{relframe}: frame {status}")


@dataclass
class VerifyReport:
    """Result of :func:`verify_folder`: crops by status and frames that differ from a rebuild."""

    root: Path
    good: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    #: frame relpath -> "matches" | "differs" | "missing" | "crops missing"
    frames: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No corrupt crop and no frame that differs from the stitch of its crops."""
        return not self.corrupt and "differs" not in self.frames.values()


def verify_folder(
    root: str | Path,
    *,
    groups: Iterable[str] | None = None,
    check_frames: bool = True,
) -> VerifyReport:
    """Check every published crop present under ``root`` against its SHA-256.

    With ``check_frames``, each existing frame is compared pixel for pixel with the stitch
    of its crops (when all 12 crops are good). Missing files are listed but are not an error
    by themselves: a local copy may hold only some source images (e.g. 1..7).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: folder does not exist")
    report = VerifyReport(root=root)
    entries = published_files(groups=groups)
    for entry in entries:
        path = root / entry.relpath
        if not path.is_file():
            report.missing.append(entry.relpath)
        elif sha256_file(path) == entry.sha256:
            report.good.append(entry.relpath)
        else:
            report.corrupt.append(entry.relpath)
    if check_frames:
        good = set(report.good)
        for kind, group in sorted({(e.kind, e.group) for e in entries}):
            target = _frames.frame_path(root, kind, group)
            rel = target.relative_to(root).as_posix()
            crops = {f"{kind}/{_frames.crop_name(group, i)}" for i in range(1, _frames.CROPS_PER_FRAME + 1)}
            if not target.is_file():
                report.frames[rel] = "missing"
            elif not crops <= good:
                report.frames[rel] = "crops missing"
            else:
                same = np.array_equal(_frames.read_frame(target), _frames.build_frame(root, kind, group))
                report.frames[rel] = "matches" if same else "differs"
    return report
