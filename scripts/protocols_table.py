"""Table 2 under both test protocols side by side, from the results folders `midnet benchmark` wrote.

    PYTHONPATH=src python scripts/protocols_table.py docs/results/protocols-cpu

reads ROOT/paper and ROOT/by-source (table2.csv, per_image.csv, split.json, config.yaml) and
writes ROOT/comparison.md: every metric column of Table 2 for each protocol, the gap
(paper minus by-source) per method, and the standard error of each mean over the test images.
Why a script: the README's numbers must be the runs' numbers, copied, never typed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
import yaml

PROTOCOLS = ("paper", "by-source")
#: metric columns Table 2 may have (as captured; registered once the benchmark scores it) -> title, format
METRICS = {"psnr": ("PSNR", "{:.2f}"), "ssim": ("SSIM", "{:.4f}"),
           "reg_psnr": ("reg. PSNR", "{:.2f}"), "reg_ssim": ("reg. SSIM", "{:.4f}")}


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise SystemExit(f"{path}: missing; run `midnet benchmark --config protocols-cpu --protocol "
                         f"{path.parent.name} --out {path.parent} --resume` first")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _num(text: str | None) -> float:
    return float(text) if text not in (None, "") else math.nan


def _fmt(value: float, fmt: str, signed: bool = False) -> str:
    if math.isnan(value):
        return "–"
    return (fmt.replace("{:", "{:+") if signed else fmt).format(value)


def load(folder: Path) -> dict:
    table = {r["method"]: r for r in _read_csv(folder / "table2.csv")}
    per_image: dict[tuple[str, str], list[float]] = {}
    for row in _read_csv(folder / "per_image.csv"):
        for key in METRICS:
            if row.get(key) not in (None, ""):
                per_image.setdefault((row["method"], key), []).append(float(row[key]))
    split = json.loads((folder / "split.json").read_text(encoding="utf-8"))
    cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    return {"table": table, "per_image": per_image, "split": split, "config": cfg}


def _se(values: list[float]) -> float:
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def comparison(root: Path) -> str:
    runs = {p: load(root / p) for p in PROTOCOLS}
    metrics = [k for k in METRICS if all(k in next(iter(r["table"].values())) for r in runs.values())
               and any(_num(row.get(k)) == _num(row.get(k)) for r in runs.values() for row in r["table"].values())]
    methods = [m for m in runs["by-source"]["table"] if m in runs["paper"]["table"]]
    lines = ["| Method | " + " | ".join(f"{METRICS[k][0]} {p}" for k in metrics for p in (*PROTOCOLS, "gap")) + " |",
             "|---|" + "---:|" * (3 * len(metrics))]
    for method in methods:
        cells = []
        for key in metrics:
            fmt = METRICS[key][1]
            values = [_num(runs[p]["table"][method].get(key)) for p in PROTOCOLS]
            for p, v in zip(PROTOCOLS, values):
                se = _se(runs[p]["per_image"].get((method, key), []))
                cells.append(_fmt(v, fmt) + ("" if math.isnan(se) else f" ± {_fmt(se, fmt)}"))
            cells.append(_fmt(values[0] - values[1], fmt, signed=True))
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    out = ["## Table 2 under both protocols", "",
           "Mean over the 12 test crops ± its standard error (sample SD / √12); gap = paper − by-source.", "",
           *lines, ""]
    for p in PROTOCOLS:
        s, cfg = runs[p]["split"], runs[p]["config"]
        b = cfg["budget"]
        out.append(f"- **{p}**: {s['test']['count']} test crops ({', '.join(s['test']['pairs'])}), "
                   f"{s['train']['count']} training crops; source images with crops on both sides: "
                   f"{', '.join(s['groups_in_train_and_test']) or 'none'}; seed {s['seed']}; budget "
                   f"{b['max_steps']} steps, crop {b['crop_size']}, batch {b['batch_size']}.")
    for p in PROTOCOLS:
        rows = runs[p]["table"]
        trained = {m: r.get("train_s") for m, r in rows.items() if r.get("kind") == "network"}
        out.append(f"- Training seconds ({p}): " + ", ".join(f"{m} {_fmt(_num(t), '{:.0f}')}"
                                                             for m, t in trained.items()) + ".")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder holding paper/ and by-source/ results")
    args = parser.parse_args()
    text = comparison(args.root)
    (args.root / "comparison.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
