"""Batch progress off a terminal: a line per file and, within a long image, a line per interval."""

from __future__ import annotations

import io
import time
from pathlib import Path

from midnet.cli.progress import BatchProgress


def test_log_lines_per_file_and_within_a_long_image() -> None:
    stream = io.StringIO()
    progress = BatchProgress(2, stream=stream, interactive=False, interval=0.2)
    try:
        progress.skipped(Path("in/a.png"), Path("out/a.png"))
        progress.start(1, Path("in/b.png"))
        progress.tiles(3, 12)
        time.sleep(1.0)  # a long image: no file finishes, the timer speaks
        progress.tiles(12, 12)
        progress.restored()
        progress.finished(Path("in/b.png"), "restored -> out/b.png")
    finally:
        progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[1/2] in/a.png: skipped, output exists: out/a.png"
    beats = [line for line in lines if line.startswith("[2/2] in/b.png: tiles 3/12, ")]
    assert 2 <= len(beats) <= 6, lines  # about one per interval, not one per check
    assert lines[-1].startswith("[2/2] in/b.png: restored -> out/b.png (") and lines[-1].endswith(" s)")


def test_no_timer_lines_between_images_and_none_when_quiet() -> None:
    stream = io.StringIO()
    progress = BatchProgress(1, stream=stream, interactive=False, interval=0.1)
    time.sleep(0.4)  # nothing being restored: nothing to say
    progress.close()
    assert stream.getvalue() == ""
    quiet = io.StringIO()
    progress = BatchProgress(1, stream=quiet, interactive=False, quiet=True, interval=0.1)
    progress.start(0, Path("in/a.png"))
    time.sleep(0.4)
    progress.finished(Path("in/a.png"), "restored -> out/a.png")
    progress.echo("error: in/b.png: broken")  # errors are shown even when quiet
    progress.close()
    assert quiet.getvalue() == "error: in/b.png: broken\n"


def test_on_a_terminal_bars_and_skip_lines() -> None:
    stream = io.StringIO()
    progress = BatchProgress(2, stream=stream, interactive=True)
    progress.skipped(Path("in/a.png"), Path("out/a.png"))
    progress.start(1, Path("in/b.png"))
    progress.tiles(1, 2)
    progress.tiles(2, 2)
    progress.restored()
    progress.close()
    text = stream.getvalue()
    assert "skipped (output exists): out/a.png" in text and "2/2" in text and "[2/2] in/b.png" not in text
