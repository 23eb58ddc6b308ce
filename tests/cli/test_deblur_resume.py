"""``midnet deblur`` stopped and resumed: Ctrl-C / SIGTERM exit 130 / 143 and say how far they got,
leave no temporary file, and a rerun with ``--skip-existing`` ends where one uninterrupted run does.

The interrupted runs are real processes (``midnet deblur`` with the bundled model on generated
frames) that get the signal once their first output appears; their stderr is a pipe, so they
also show the progress lines of a run whose stderr is no terminal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from midnet.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
FILES = 10


def _frames(folder: Path, count: int = FILES) -> list[str]:
    """``count`` blurred grain images, 384x384 8-bit PNG (a fraction of a second each on a CPU)."""
    from scipy.ndimage import gaussian_filter

    folder.mkdir()
    rng = np.random.default_rng(0)
    names = []
    for i in range(count):
        grains = gaussian_filter(rng.random((384, 384)), 3)
        image = gaussian_filter(np.where(grains > np.median(grains), 200.0, 60.0), 2)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"f{i:02d}.png")
        names.append(f"f{i:02d}.png")
    return names


def _finished(folder: Path) -> list[Path]:
    """Outputs under their final name (a hidden temporary file is no output)."""
    return sorted(p for p in folder.glob("*.png") if not p.name.startswith("."))


def _outputs(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in _finished(folder)}


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _start(inputs: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", "from midnet.cli.main import cli; cli()", "deblur", str(inputs),
                             "--out", str(out), "--device", "cpu", "--backend", "eager"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=default_sigint)


def default_sigint() -> None:
    """Ctrl-C's default action in the child: a run started in the background by a
    non-interactive shell (nohup, CI runners) inherits SIGINT ignored, and the CLI rightly
    leaves an ignored signal ignored, so the test's SIGINT would never arrive."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop_after_first_output(proc: subprocess.Popen, out: Path, signum: int) -> tuple[int, str]:
    deadline = time.monotonic() + 300
    while not (out.is_dir() and _finished(out)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no output within 5 minutes"
        time.sleep(0.02)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def _dead_pid() -> int:
    """The id of a process that has ended (ids grow, so it is not reused within the test)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.slow
def test_ctrl_c_then_skip_existing_ends_as_one_uninterrupted_run(tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    names = _frames(inputs)

    code, err = _stop_after_first_output(_start(inputs, out), out, signal.SIGINT)
    assert code == 130, err
    done = _outputs(out)
    assert 1 <= len(done) < FILES, err  # really stopped in the middle
    assert f"interrupted (Ctrl-C): {len(done)} of {FILES} done in {out}; rerun with --skip-existing" in err
    assert f"/{FILES}] {inputs / sorted(done)[0]}: restored -> {out / sorted(done)[0]}" in err  # a log line per file
    assert _hidden(out) == []  # no temporary file survives the signal

    # what a run killed outright (SIGKILL) leaves, what a concurrent run is writing, a user's file
    missing = sorted(set(names) - set(done))
    stale = out / f".{Path(missing[0]).stem}.0123abcd-{_dead_pid()}.tmp.png"
    in_progress = out / f".{Path(missing[1]).stem}.4567cdef-{os.getpid()}.tmp.png"
    users = out / f".{Path(missing[2]).stem}.tmp.png"
    for path in (stale, in_progress, users):
        path.write_bytes(b"half an image")

    rerun = CliRunner().invoke(cli, ["deblur", str(inputs), "--out", str(out), "--device", "cpu",
                                     "--backend", "eager", "--skip-existing"])
    assert rerun.exit_code == 0, rerun.output
    assert f"removed {stale} (a temporary file of a run that was killed)" in rerun.output
    for name in done:
        assert f"{inputs / name}: skipped, output exists: {out / name}" in rerun.output
    assert f"restored {FILES - len(done)} of {FILES} input(s)" in rerun.output
    assert f"; {len(done)} skipped (output exists)" in rerun.output
    assert _hidden(out) == sorted([in_progress.name, users.name])  # only the stale one was ours to delete

    reference = tmp_path / "reference"
    whole = CliRunner().invoke(cli, ["deblur", str(inputs), "--out", str(reference), "--device", "cpu",
                                     "--backend", "eager", "-q"])
    assert whole.exit_code == 0, whole.output
    resumed, expected = _outputs(out), _outputs(reference)
    assert sorted(resumed) == sorted(expected) == names
    for name in names:
        np.testing.assert_array_equal(resumed[name], expected[name], err_msg=name)


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_with_exit_code_143(tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    _frames(inputs)
    code, err = _stop_after_first_output(_start(inputs, out), out, signal.SIGTERM)
    assert code == 143, err
    done = len(_finished(out))
    assert f"interrupted (SIGTERM): {done} of {FILES} done" in err
    assert _hidden(out) == []


def test_overwrite_and_skip_existing_together_are_a_usage_error(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    _frames(inputs, 1)
    res = CliRunner().invoke(cli, ["deblur", str(inputs), "--out", str(tmp_path / "out"), "--overwrite",
                                   "--skip-existing"])
    assert res.exit_code == 2
    assert "--overwrite and --skip-existing contradict each other" in res.output
    assert not (tmp_path / "out").exists()


def test_skip_existing_never_reads_or_replaces_an_existing_output(tmp_path: Path) -> None:
    """An existing output is the user's file: left byte for byte, even one that is no image."""
    inputs, out = tmp_path / "in", tmp_path / "out"
    _frames(inputs, 2)
    out.mkdir()
    (out / "f00.png").write_bytes(b"the user's own file")
    res = CliRunner().invoke(cli, ["deblur", str(inputs), "--out", str(out), "--device", "cpu", "--backend", "eager",
                                   "--skip-existing"])
    assert res.exit_code == 0, res.output
    assert (out / "f00.png").read_bytes() == b"the user's own file"
    assert (out / "f01.png").is_file()
    assert "restored 1 of 2 input(s)" in res.output and "1 skipped (output exists)" in res.output
