"""What one ``midnet data download`` run did, and the summary the CLI prints from it.

Kept apart from the fetching so that the wording users (and the tests) read does not depend on
which library moves the bytes: pooch fetches, this module only reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DownloadReport:
    """What a :func:`midnet.sample_data.download` run did; ``ok``: every requested file verified."""

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
