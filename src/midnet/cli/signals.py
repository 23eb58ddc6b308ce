"""Stopping a command cleanly: SIGTERM (and SIGHUP) behave as Ctrl-C does.

Why: Python turns SIGINT into ``KeyboardInterrupt``, so ``finally`` blocks run and the atomic
write removes its temporary file (`midnet.io.atomic`). SIGTERM (``kill``, a batch scheduler's
time limit, ``docker stop``) and SIGHUP (a closed terminal) would kill the process at once and
leave that file behind. Inside `stop_on_signals` they raise `Stopped`, a ``KeyboardInterrupt``,
in the main thread; the command then reports how far it got and exits with 128 + the signal
number (130 for Ctrl-C, 143 for SIGTERM), as a shell does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: signals that stop a command like Ctrl-C (SIGHUP where the platform has it)
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """Raised in the main thread when the process receives one of `SIGNALS`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal number: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + (exc.signum if isinstance(exc, Stopped) else int(signal.SIGINT))


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, `SIGNALS` raise `Stopped`; the previous handlers come back after it.

    A signal the process ignores (``nohup``'s SIGHUP) stays ignored. Only the main thread can install handlers: called from another thread (a test runner, an
    embedding application) it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # an ignored signal stays ignored: `nohup` ignores SIGHUP so that the run outlives the terminal
    previous = {sig: signal.signal(sig, _raise) for sig in SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
