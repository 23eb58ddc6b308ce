"""Writing the benchmark's outputs: Markdown and CSV tables, the PSNR-versus-cost plot.

Why CSV *and* Markdown: the CSV keeps full precision for further analysis; the Markdown is
what goes into a README or a paper draft. Every file is written to a temporary name in the
results folder and renamed, so an interrupted run never leaves a half-written table.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midnet.io.atomic import atomic_write_bytes, atomic_write_text


@dataclass
class Column:
    key: str
    title: str
    fmt: str = "{}"      # Markdown format; CSV always gets the raw value


@dataclass
class Table:
    """Rows are dicts keyed by column key; missing or None values print as a dash."""

    name: str            # file stem: table1, table2, ...
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        head = "| " + " | ".join(c.title for c in self.columns) + " |"
        rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|"
        lines = [f"## {self.title}", "", head, rule]
        for row in self.rows:
            lines.append("| " + " | ".join(_cell(row.get(c.key), c.fmt) for c in self.columns) + " |")
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c.key for c in self.columns])
        for row in self.rows:
            writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in self.columns])
        return buf.getvalue()

    def write(self, folder: Path) -> list[Path]:
        paths = [folder / f"{self.name}.md", folder / f"{self.name}.csv"]
        atomic_write_text(paths[0], self.markdown())
        atomic_write_text(paths[1], self.csv())
        return paths


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def plot_psnr_vs_macs(rows: list[dict[str, Any]], path: Path, *, title: str, macs_size: int) -> Path:
    """Scatter of PSNR against MACs (log axis) for networks; methods without MACs (blurry input,
    classical methods) are drawn as horizontal reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), dpi=120)
    ax = fig.add_subplot()
    nets = [r for r in rows if r.get("macs_g") and r.get("psnr") is not None and math.isfinite(r["psnr"])]
    refs = [r for r in rows if not r.get("macs_g") and r.get("psnr") is not None and math.isfinite(r["psnr"])]
    for r in nets:
        ax.scatter(r["macs_g"], r["psnr"], s=40, zorder=3)
        ax.annotate(r["method"], (r["macs_g"], r["psnr"]), textcoords="offset points", xytext=(5, 4), fontsize=8)
    styles = ["--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3))]
    for i, r in enumerate(refs):
        colour = "black" if i == 0 else f"C{(len(nets) + i) % 10}"
        ax.axhline(r["psnr"], linestyle=styles[i % len(styles)], color=colour, linewidth=1,
                   label=f"{r['method']} ({r['psnr']:.2f} dB)")
    if nets:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        lo, hi = min(r["macs_g"] for r in nets), max(r["macs_g"] for r in nets)
        ax.set_xlim(lo / 2, hi * 3)   # room for the labels, and at least a few ticks
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"MACs per forward pass at {macs_size}x{macs_size} (G, log scale)")
    ax.set_ylabel("PSNR on the test images (dB, 8-bit, data bar excluded)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if refs:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
    return path
