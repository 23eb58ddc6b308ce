"""Check a local copy of the published pairs: every crop's SHA-256, every frame against its crops.

Needs no network and no pooch: a copy made by hand (or by an older midnet) is checked the same
way as one that ``midnet data download`` filled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from midnet.sample_data import frames as _frames
from midnet.sample_data.published import published_files, sha256_file


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
