"""Large CPU tensors on transparent huge pages: the `midnet` command restarts itself once with
glibc's ``hugetlb`` tunable.

Why: glibc serves every allocation above 32 MiB with a fresh ``mmap``, and the kernel zero-fills
it 4 KiB page by page on first touch. A model pass allocates many such tensors and frees them
again, so on a CPU the kernel's page-fault work rivals the convolutions: one 1,536² pass of the
bundled model took 5.2 M page faults and twice as much kernel time as compute. glibc 2.35 and
later can ask for transparent huge pages on those mappings (2 MiB a fault,
``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``), which `benchmarks/huge_pages.py` measures. glibc
reads tunables only when a process starts, hence one ``exec`` of the same command line before
anything heavy is imported; Dask workers that the command starts inherit the setting.

Nothing changes where it cannot help: outside Linux, without glibc 2.35, with transparent
huge pages off (``never``), or when ``GLIBC_TUNABLES`` already names ``glibc.malloc.hugetlb``.
``MIDNET_HUGE_PAGES=0`` turns it off.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path

TUNABLE = "glibc.malloc.hugetlb=1"
OPT_OUT = "MIDNET_HUGE_PAGES"
THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _glibc_at_least(major: int, minor: int) -> bool:
    lib, version = platform.libc_ver()
    if lib != "glibc" or not version:
        return False
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    return parts >= (major, minor)


def _thp_available() -> bool:
    try:
        return "[never]" not in THP_SETTING.read_text()
    except OSError:
        return False


def wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether restarting with the tunable can help this process (and has not been done)."""
    env = os.environ if environ is None else environ
    if env.get(OPT_OUT, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if "glibc.malloc.hugetlb" in env.get("GLIBC_TUNABLES", ""):
        return False  # already set: by us before the exec, or by the user
    return sys.platform.startswith("linux") and _glibc_at_least(2, 35) and _thp_available()


def tunables(environ: Mapping[str, str]) -> str:
    """``GLIBC_TUNABLES`` with the hugetlb tunable added to what the user set."""
    given = environ.get("GLIBC_TUNABLES", "")
    return f"{given}:{TUNABLE}" if given else TUNABLE


def restart_with_huge_pages() -> None:
    """Replace this process by the same command line with the tunable set (returns if not wanted).

    Only the console entry point calls this: a library user's process (napari, a notebook) is
    never restarted.
    """
    if not wanted():
        return
    os.environ["GLIBC_TUNABLES"] = tunables(os.environ)
    argv = list(getattr(sys, "orig_argv", []) or [sys.executable, *sys.argv])
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, argv)
    except OSError:  # cannot exec (a frozen or embedded interpreter): run as we are
        os.environ.pop("GLIBC_TUNABLES", None)
