"""Table 2 under both test protocols side by side, from the results folders `midnet benchmark` wrote.

    PYTHONPATH=src python scripts/protocols_table.py docs/results/protocols-cpu

reads ROOT/paper and ROOT/by-source (table2.csv, per_image.csv, split.json, config.yaml) and
writes ROOT/comparison.md: every metric column of Table 2 for each protocol with the standard
error of each mean over the test images, and each method's gain over the blurry input (paired
per test image) under both protocols with their gap (paper minus by-source). The gap is taken
between gains, not raw scores, because the two protocols score different crops.
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
BLURRY = "blurry input"
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
    per_image: dict[tuple[str, str], dict[str, float]] = {}   # (method, metric) -> image -> value
    for row in _read_csv(folder / "per_image.csv"):
        for key in METRICS:
            if row.get(key) not in (None, ""):
                per_image.setdefault((row["method"], key), {})[row["image"]] = float(row[key])
    split = json.loads((folder / "split.json").read_text(encoding="utf-8"))
    cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    images = sorted({row["image"] for row in _read_csv(folder / "per_image.csv")})
    return {"table": table, "per_image": per_image, "split": split, "config": cfg, "images": images}


def _se(values: list[float]) -> float:
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def _gains(run: dict, method: str, key: str) -> list[float]:
    """Per-image gain of ``method`` over the blurry input on the same test image (paired)."""
    mine, base = run["per_image"].get((method, key), {}), run["per_image"].get((BLURRY, key), {})
    return [mine[name] - base[name] for name in run["images"] if name in mine and name in base]


def comparison(root: Path) -> str:
    runs = {p: load(root / p) for p in PROTOCOLS}
    metrics = [k for k in METRICS if all(k in next(iter(r["table"].values())) for r in runs.values())
               and any(_num(row.get(k)) == _num(row.get(k)) for r in runs.values() for row in r["table"].values())]
    methods = [m for m in runs["by-source"]["table"] if m in runs["paper"]["table"]]
    head = ["| Method | " + " | ".join(f"{METRICS[k][0]} {p}" for k in metrics for p in PROTOCOLS) + " |",
            "|---|" + "---:|" * (2 * len(metrics))]
    absolute = []
    for method in methods:
        cells = []
        for key in metrics:
            fmt = METRICS[key][1]
            for p in PROTOCOLS:
                se = _se(list(runs[p]["per_image"].get((method, key), {}).values()))
                cells.append(_fmt(_num(runs[p]["table"][method].get(key)), fmt)
                             + ("" if math.isnan(se) else f" ± {_fmt(se, fmt)}"))
        absolute.append(f"| {method} | " + " | ".join(cells) + " |")
    gain_keys = [k for k in metrics]
    ghead = ["| Method | " + " | ".join(f"Δ{METRICS[k][0]} {p}" for k in gain_keys for p in (*PROTOCOLS, "gap"))
             + " |", "|---|" + "---:|" * (3 * len(gain_keys))]
    gains = []
    for method in methods:
        if method == BLURRY:
            continue
        cells = []
        for key in gain_keys:
            fmt = METRICS[key][1]
            means = []
            for p in PROTOCOLS:
                g = _gains(runs[p], method, key)
                means.append(float(np.mean(g)) if g else math.nan)
                cells.append(_fmt(means[-1], fmt, signed=True) + (f" ± {_fmt(_se(g), fmt)}" if len(g) > 1 else ""))
            cells.append(_fmt(means[0] - means[1], fmt, signed=True))
        gains.append(f"| {method} | " + " | ".join(cells) + " |")
    out = ["## Table 2 under both protocols", "",
           "Mean over the 12 test crops ± its standard error (sample SD / √12). The two protocols score "
           "different crops, so the blurry input differs too.", "", *head, *absolute, "",
           "## Gain over the blurry input, and the gap between protocols", "",
           "Δ = method − blurry input on the same test crop (paired), mean ± standard error; "
           "gap = Δ paper − Δ by-source: what the paper's split adds to a method's gain.", "",
           *ghead, *gains, ""]
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
                                                             for m, t in trained.items())
                   + " (– : a reused run, trained by an earlier invocation).")
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
