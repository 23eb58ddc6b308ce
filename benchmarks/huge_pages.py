"""What glibc's hugetlb tunable (`midnet.cli.huge_pages`) does to a CPU restoration.

Each round runs the same restoration in two fresh processes, one with
``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` and one without (order alternating), and reads in each
the resources of the restoration alone (after a warm-up call): wall time, CPU time (user and
kernel), minor page faults, and the process's peak resident memory. Reported: the medians and
the ratios of tunable to default. CPU time is the fairer figure on a shared machine; wall time
is what a user waits.

Cases: ``frame`` is a 1280x1024 8-bit image restored by the `Deblurrer` with its defaults (the
plan `midnet deblur` uses); ``block`` is one 1,536² pass, the size of a blockwise task with its
margins (`midnet.inference.blockwise`).

    PYTHONPATH=src python benchmarks/huge_pages.py --rounds 3 --out docs/results/huge-pages
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from _machine import describe

REPO = Path(__file__).resolve().parents[1]
CASES = {"frame": (1024, 1280), "block": (1536, 1536)}

CHILD = r"""
import json, resource, sys, time
import numpy as np
from midnet.inference.deblurrer import Deblurrer
h, w = int(sys.argv[1]), int(sys.argv[2])
d = Deblurrer.from_pretrained(device="cpu", backend="eager")
img = (np.random.default_rng(0).random((h, w)) * 255).astype(np.uint8)
d(img[:256, :256], databar=0)
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
d(img, databar=0)
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) * 1024
print(json.dumps({"wall_s": t1 - t0, "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime,
                  "minor_faults": r1.ru_minflt - r0.ru_minflt, "peak_rss_gib": hwm / 2**30}))
"""


def _run(shape: tuple[int, int], tunable: bool, threads: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    env.update(PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS=str(threads), MIDNET_HUGE_PAGES="0")
    if tunable:
        env["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1"
    out = subprocess.run([sys.executable, "-c", CHILD, str(shape[0]), str(shape[1])], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "huge-pages")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": describe(), "threads": args.threads,
                                  "glibc": "-".join(platform.libc_ver()), "rounds": args.rounds, "cases": {}}
    for case in args.cases:
        runs: dict[str, list[dict[str, float]]] = {"default": [], "hugetlb": []}
        for index in range(args.rounds):
            order = ("default", "hugetlb") if index % 2 == 0 else ("hugetlb", "default")
            for name in order:
                runs[name].append(_run(CASES[case], name == "hugetlb", args.threads))
                print(case, name, json.dumps(runs[name][-1]), flush=True)
        med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
        for m in med.values():
            m["cpu_s"] = m["user_s"] + m["sys_s"]
        ratio = {k: med["hugetlb"][k] / med["default"][k] for k in ("wall_s", "cpu_s", "sys_s", "minor_faults",
                                                                     "peak_rss_gib") if med["default"][k]}
        results["cases"][case] = {"shape": CASES[case], "median": med, "ratio_hugetlb_to_default": ratio}  # type: ignore[index]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["# Huge pages for large CPU tensors (`midnet.cli.huge_pages`)", "",
             f"    PYTHONPATH=src python benchmarks/huge_pages.py --rounds {args.rounds} --threads {args.threads}", "",
             f"{results['machine']}, glibc {results['glibc']}, {args.threads} thread(s); medians of {args.rounds} "
             "fresh processes per setting, the restoration alone (after a warm-up call).", "",
             "| case | setting | wall s | CPU s (user + kernel) | kernel s | minor faults | peak RSS GiB |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for case, entry in results["cases"].items():  # type: ignore[union-attr]
        for name in ("default", "hugetlb"):
            m = entry["median"][name]
            lines.append(f"| {case} {entry['shape'][0]}×{entry['shape'][1]} | {name} | {m['wall_s']:.2f} | "
                         f"{m['cpu_s']:.2f} | {m['sys_s']:.2f} | {m['minor_faults']:,.0f} | {m['peak_rss_gib']:.2f} |")
        r = entry["ratio_hugetlb_to_default"]
        lines.append(f"| {case} | **hugetlb / default** | **{r['wall_s']:.2f}** | **{r['cpu_s']:.2f}** | "
                     f"{r.get('sys_s', float('nan')):.2f} | {r['minor_faults']:.3f} | {r['peak_rss_gib']:.2f} |")
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
