"""Progress of a batch: bars on a terminal, plain lines in a log.

Why: tqdm switches its bars off when stderr is no terminal (``disable=None``), so under
``nohup``, in CI or with ``2> log`` a batch printed nothing until its summary, and a large image
could run for many minutes without a sign of life. Off a terminal, every file gets one line when
it is finished (restored, skipped, failed), and while an image is being restored a line comes at
least every ``interval`` seconds (60; ``$MIDNET_PROGRESS_SECONDS``) with its tiles done/total,
from a timer thread, so even one long forward pass cannot silence it. On a terminal: the files
bar and a tiles bar, with the lines of skipped files above them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

#: seconds between two lines about one image off a terminal
DEFAULT_INTERVAL = 60.0


class BatchProgress:
    """What a batch of ``total`` files reports on ``stream`` (stderr), by whether it is a terminal.

    The batch calls `start` when it begins restoring a file, `tiles` as tiles finish, `restored`
    when the model is done with it, `finished` when its outcome is known (after the write), and
    `echo` for any other line (errors). ``quiet``: nothing but `echo`. Thread-safe.
    """

    def __init__(self, total: int, *, quiet: bool = False, stream: TextIO | None = None,
                 interactive: bool | None = None, interval: float | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.quiet = quiet
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.interactive = bool(isatty()) if interactive is None else interactive
        env = os.environ.get("MIDNET_PROGRESS_SECONDS")
        self.interval = interval if interval is not None else float(env) if env else DEFAULT_INTERVAL
        self._lock = threading.RLock()
        self._finished = 0
        self._current: tuple[int, Path] | None = None
        self._tiles: tuple[int, int] | None = None
        self._started: dict[Path, float] = {}
        self._last_line = time.monotonic()
        self._files_bar: Any = None
        self._tiles_bar: Any = None
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        if quiet:
            return
        if self.interactive:
            from tqdm import tqdm

            self._files_bar = tqdm(total=total, unit="file", desc="deblur", file=self.stream)
        else:
            self._timer = threading.Thread(target=self._heartbeat, name="midnet-progress", daemon=True)
            self._timer.start()

    # -- lines ---------------------------------------------------------------------------------

    def echo(self, line: str) -> None:
        """One line on the stream, above the bars on a terminal (shown even when quiet)."""
        with self._lock:
            if self._files_bar is not None:
                self._files_bar.write(line, file=self.stream)
            else:
                print(line, file=self.stream, flush=True)
            self._last_line = time.monotonic()

    def _log(self, line: str) -> None:
        if not self.quiet and not self.interactive:
            self.echo(line)

    # -- events --------------------------------------------------------------------------------

    def start(self, index: int, src: Path) -> None:
        """The model starts on file ``index`` (0-based) of the batch."""
        with self._lock:
            self._current, self._tiles = (index, src), None
            self._started[src] = time.monotonic()

    def tiles(self, done: int, total: int) -> None:
        with self._lock:
            self._tiles = (done, total)
            if self._files_bar is None:
                return
            from tqdm import tqdm

            if self._tiles_bar is None:
                self._tiles_bar = tqdm(total=total, unit="pass", desc="  passes", leave=False, file=self.stream)
            self._tiles_bar.update(done - self._tiles_bar.n)
            if done >= total:
                self._tiles_bar.close()
                self._tiles_bar = None

    def restored(self) -> None:
        """The model is done with the current file (its write may still be running)."""
        with self._lock:
            self._current = None
            if self._files_bar is not None:
                self._files_bar.update(1)

    def finished(self, src: Path, outcome: str) -> None:
        """File ``src`` is finished: ``outcome`` is e.g. ``restored -> out/a.tif`` (one log line)."""
        with self._lock:
            self._finished += 1
            started = self._started.pop(src, None)
            took = f" ({time.monotonic() - started:.1f} s)" if started is not None else ""
            self._log(f"[{self._finished}/{self.total}] {src}: {outcome}{took}")

    def skipped(self, src: Path, dst: Path) -> None:
        """``src`` is not restored because its output exists (``--skip-existing``)."""
        with self._lock:
            if self._files_bar is not None:
                self._files_bar.update(1)
                if not self.quiet:
                    self.echo(f"skipped (output exists): {dst}")
            self.finished(src, f"skipped, output exists: {dst}")

    # -- the timer -----------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(self.interval, 1.0)):
            with self._lock:
                if self._current is None or time.monotonic() - self._last_line < self.interval:
                    continue
                index, src = self._current
                minutes = (time.monotonic() - self._started.get(src, time.monotonic())) / 60
                tiles = f"tiles {self._tiles[0]}/{self._tiles[1]}" if self._tiles else "restoring"
                self.echo(f"[{index + 1}/{self.total}] {src}: {tiles}, {minutes:.1f} min")

    def close(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        with self._lock:
            for bar in (self._tiles_bar, self._files_bar):
                if bar is not None:
                    bar.close()
            self._tiles_bar = self._files_bar = None
