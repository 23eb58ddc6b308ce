"""Fetch the published MIDNet SEM pairs with pooch, then rebuild their full frames.

pooch does the transfer work: its registry is the packaged SHA-256 list
(:func:`midnet.sample_data.published.registry`), it streams each file to a temp file in the
destination folder and renames it onto its final name only when the hash matches (so nothing
half-written ever looks complete), re-fetches a local copy whose hash is wrong, and retries a
failed file (``retry_if_failed``, waiting 1 s, 2 s, ... between tries).

What midnet adds, because pooch does not do it:

* one connection before the first file, so an offline machine hears so in seconds
  (:mod:`midnet.sample_data.reachable`), not after 216 x ``attempts`` timeouts;
* why each attempt failed (pooch only logs *that* it did), collected into a
  :class:`~midnet.sample_data.report.DownloadReport` that names every file still missing, so
  the CLI can exit non-zero on them;
* no retry of an HTTP 4xx answer, which asking again will not change;
* removal of the temp files a killed earlier run left behind;
* the frames, stitched from the verified crops.

The base URL can be overridden (``MIDNET_DATA_URL`` or ``base_url=``), which is how the tests
point it at a loopback server.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from midnet.sample_data import frames as _frames
from midnet.sample_data.published import (
    PublishedFile,
    default_cache_dir,
    published_files,
    registry,
    resolve_base_url,
    sha256_file,
)
from midnet.sample_data.reachable import OfflineError, check_reachable
from midnet.sample_data.report import DownloadReport

__all__ = ["DownloadReport", "OfflineError", "download"]

#: a temp file untouched for this long belongs to a dead run, not to a concurrent one
_STALE_AFTER_S = 3600.0
#: names of pooch's temp files (``tempfile.NamedTemporaryFile`` in the destination folder)
_POOCH_TEMP = re.compile(r"tmp[a-z0-9_]{8}")


class _GiveUp(Exception):
    """An answer that asking again cannot change (HTTP 4xx).

    pooch retries only ``ValueError`` and requests' errors, so raising this ends the file's
    attempts at once.
    """


class _AttemptLog:
    """A pooch downloader that records why each attempt at one file failed.

    pooch calls it once per attempt. It wraps ``pooch.HTTPDownloader`` and notes transfer
    errors as they happen; a hash mismatch is noticed by pooch only after this returns, so a
    second call (or :meth:`hash_rejected` after pooch gave up) is how it learns of one.
    """

    def __init__(self, inner: Callable[..., Any], relpath: str, attempts: int,
                 say: Callable[[str], None]) -> None:
        self.inner, self.relpath, self.attempts, self.say = inner, relpath, attempts, say
        self.tries = 0
        self.problems: list[str] = []
        self._received: int | None = None  # bytes of an attempt pooch has not yet judged

    def __call__(self, url: str, output_file: str, pooch: Any) -> None:
        import requests

        self.hash_rejected()
        self.tries += 1
        try:
            self.inner(url, output_file, pooch)
        except requests.HTTPError as error:
            status = error.response.status_code
            reason = f"HTTP {status} {error.response.reason}"
            self._failed(reason)
            if 400 <= status < 500 and status not in (408, 429):
                raise _GiveUp(reason) from None
            raise
        except requests.RequestException as error:
            self._failed(_describe(error, output_file))
            raise
        os.chmod(output_file, 0o644)  # pooch's temp file is 0600; data should read like any other
        self._received = os.path.getsize(output_file)

    def hash_rejected(self) -> None:
        """Record the previous attempt as a SHA-256 mismatch if it transferred but pooch refused it."""
        if self._received is not None:
            self._failed(f"SHA-256 mismatch ({self._received} bytes received)")
            self._received = None

    def _failed(self, reason: str) -> None:
        self.problems.append(reason)
        self.say(f"{self.relpath}: attempt {self.tries}/{self.attempts} failed: {reason}")


def _describe(error: Exception, output_file: str) -> str:
    """One line for a requests error; a connection cut mid-file says how much arrived."""
    import requests

    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        got = os.path.getsize(output_file) if os.path.exists(output_file) else 0
        return f"incomplete transfer: connection closed after {got} bytes"
    if isinstance(error, requests.Timeout):
        return f"timed out: {error}"
    return f"transfer error: {error}"


@contextmanager
def _pooch_quiet() -> Iterator[None]:
    """Silence pooch's per-file INFO lines: our log and report say it, once, in our words."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _remove_stale_temp_files(dest: Path) -> None:
    """Delete temp files that a killed earlier run left behind.

    Only temp names (pooch's ``tmpXXXXXXXX`` beside the crops, our ``.midnet-*.part`` beside the
    frames and from older midnet versions) and only ones untouched for an hour, so a download
    running concurrently into the same folder keeps its files.
    """
    now = time.time()
    crop_dirs = [dest / kind for kind in _frames.KINDS]
    for folder in crop_dirs + [dest / "frames" / kind for kind in _frames.KINDS]:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            ours = path.name.startswith(_frames.TEMP_PREFIX) and path.name.endswith(_frames.TEMP_SUFFIX)
            poochs = folder in crop_dirs and _POOCH_TEMP.fullmatch(path.name) is not None
            try:
                if (ours or poochs) and now - path.stat().st_mtime > _STALE_AFTER_S:
                    path.unlink()
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
    progressbar: bool = False,
    build_frames: bool = True,
    log: Callable[[str], None] | None = None,
) -> DownloadReport:
    """Download (a subset of) the published crops into ``dest`` and rebuild their frames.

    ``dest`` defaults to :func:`midnet.sample_data.default_cache_dir`. The result has the
    layout of ``shared/data/midnet-sem``: ``blur/``, ``sharp/``, ``frames/blur/``,
    ``frames/sharp/``. Each file gets at most ``attempts`` tries (pooch waits 1 s, 2 s, ...
    between them); ``progressbar`` shows pooch's per-file bar on stderr. Frames are rebuilt for
    every requested group whose 12 crops of a kind are all verified. Returns a
    :class:`DownloadReport`; inspect ``.ok``. Raises `OfflineError` within seconds when files
    are needed and the server cannot be reached.
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

    on_disk = {e.relpath: sha256_file(dest / e.relpath) == e.sha256
               for e in wanted if (dest / e.relpath).is_file()}
    report.skipped = [e.relpath for e in wanted if on_disk.get(e.relpath)]
    report.damaged_on_disk = [e.relpath for e in wanted if on_disk.get(e.relpath) is False]
    for relpath in report.damaged_on_disk:
        say(f"{relpath}: local copy has the wrong SHA-256, fetching it again")
    needed = [e for e in wanted if not on_disk.get(e.relpath)]
    if needed:
        check_reachable(url, timeout=min(timeout, 5.0))
        _fetch(needed, dest, url, attempts=attempts, timeout=timeout, progressbar=progressbar,
               report=report, say=say)
    if build_frames:
        _rebuild_frames(dest, wanted, set(report.skipped) | set(report.fetched), report, say)
    return report


def _fetch(entries: list[PublishedFile], dest: Path, url: str, *, attempts: int, timeout: float,
           progressbar: bool, report: DownloadReport, say: Callable[[str], None]) -> None:
    """Fetch ``entries`` through one pooch store, recording every outcome in ``report``."""
    import pooch
    import requests

    store = pooch.create(path=dest, base_url=url, registry=registry(), retry_if_failed=attempts - 1)
    http = pooch.HTTPDownloader(progressbar=progressbar, timeout=timeout)
    with _pooch_quiet():
        for number, entry in enumerate(entries, start=1):
            attempt_log = _AttemptLog(http, entry.relpath, attempts, say)
            try:
                store.fetch(entry.relpath, downloader=attempt_log)
                fetched = True
            except ValueError:  # pooch: still the wrong SHA-256 after the last attempt
                attempt_log.hash_rejected()
                fetched = False
            except (_GiveUp, requests.RequestException):
                fetched = False
            report.problems.extend((entry.relpath, reason) for reason in attempt_log.problems)
            if not fetched:
                report.failed[entry.relpath] = (attempt_log.problems or ["unknown error"])[-1]
                # A damaged local copy that could not be replaced must not pass for a good one.
                (dest / entry.relpath).unlink(missing_ok=True)
            else:
                report.fetched.append(entry.relpath)
                say(f"[{number}/{len(entries)}] {entry.relpath} verified")


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
