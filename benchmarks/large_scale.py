"""Large-scale restoration on Dask: a uint16 OME-Zarr mosaic and a folder of frames, on 1 and 2
local workers; MP/s, peak memory per worker, scheduler overhead per task; a cost model for a
100,000² mosaic and a 10,000-frame archive on 8 GPUs.

Parts (each writes its JSON into ``--out``, and ``summary.md`` is rebuilt from all of them):

* ``mosaic``: a ``--size``² uint16 OME-Zarr (512-px chunks, pyramid to 1024 px) of synthetic
  grains is restored by `midnet.cluster.runner.run` on a `LocalCluster` of 1, then 2 worker
  processes (one thread each, the cores shared out), with the bundled model and its defaults.
  Reported: seconds, MP/s, chunks, peak resident memory of each worker process (its
  ``VmHWM``, read on the worker at the end), the driver's peak, and the share of worker
  time not spent in tasks (from the task stream). The restored level 0 is checked against
  an independent restoration of a central window (`Deblurrer.restore_dask` of that window,
  compared away from the window's border), in grey levels.
* ``frames``: ``--frames`` TIFF frames of ``--frame-size``² px, 8-bit, restored file by file
  on 1 and 2 workers.
* ``overhead``: the scheduler's cost per task: ``--tasks`` no-op tasks submitted at once to a
  2-worker LocalCluster, wall time divided by their count.
* ``model``: the cost model (no measurement): per-GPU MP/s from docs/results/speed-gpu.md,
  blocks and margins from the chunk plan, per-task overhead and the codec/IO rate measured by
  the parts above; assumptions are printed with the projection.

    PYTHONPATH=src python benchmarks/large_scale.py --part all                      # full size
    PYTHONPATH=src python benchmarks/large_scale.py --part all --size 2048 --frames 20 --frame-size 256  # dry run
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "results" / "large-scale"

#: the Deblurrer's whole-image speed of the bundled model on one H200 (docs/results/speed-gpu.md:
#: 4096² in 0.28 s, 1280×1024 in 0.02 s, eager-cuda-mixed, host side on one CPU thread)
GPU_MP_S = 4096 * 4096 / 0.28 / 1e6


def make_mosaic(path: Path, size: int, chunk: int = 512, seed: int = 0) -> None:
    """A ``size``² uint16 NGFF 0.4 mosaic of smooth grains, generated and written chunk by chunk."""
    import dask.array as da
    import numpy as np
    import zarr
    from scipy.ndimage import gaussian_filter

    def block(block_id: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
        rng = np.random.default_rng([seed, *block_id])
        pad = 12
        img = gaussian_filter(rng.random((shape[0] + 2 * pad, shape[1] + 2 * pad)), 3)[pad:-pad, pad:-pad]
        img = (img - 0.5) * 6 + 0.5 + rng.normal(0, 0.02, img.shape)
        return np.clip(np.rint(img * 40000 + 12000), 0, 65535).astype(np.uint16)

    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    shapes = [(size, size)]
    while shapes[-1][0] > 1024:
        shapes.append(tuple(-(-n // 2) for n in shapes[-1]))
    datasets = []
    for index, shape in enumerate(shapes):
        array = zarr.create_array(group.store, name=str(index), shape=shape, chunks=(chunk, chunk), dtype="uint16",
                                  fill_value=0, zarr_format=2)
        if index == 0:
            data = da.map_blocks(lambda b, block_id=None: block(block_id, b.shape),
                                 da.zeros(shape, chunks=(chunk, chunk), dtype=np.uint16), dtype=np.uint16)
        else:
            from midnet.io.omezarr import downsample

            upper = da.from_zarr(str(path), component=str(index - 1))
            data = da.map_blocks(lambda b: downsample(b, (2, 2), tuple(-(-n // 2) for n in b.shape)),
                                 upper.rechunk((2 * chunk, 2 * chunk)), dtype=np.uint16,
                                 chunks=tuple(tuple(-(-c // 2) for c in cs) for cs in upper.rechunk((2 * chunk, 2 * chunk)).chunks))
        da.to_zarr(data.rechunk((chunk, chunk)), array, compute=True)
        scale = 4.0 * 2 ** index
        datasets.append({"path": str(index), "coordinateTransformations": [{"type": "scale", "scale": [scale, scale]}]})
    group.attrs.update({"multiscales": [{"version": "0.4", "name": "mosaic", "datasets": datasets,
                                         "axes": [{"name": "y", "type": "space", "unit": "nanometer"},
                                                  {"name": "x", "type": "space", "unit": "nanometer"}]}],
                        "omero": {"channels": [{"label": "SE", "color": "FFFFFF",
                                                "window": {"min": 0, "max": 65535, "start": 0, "end": 65535}}]}})


def _peak_rss() -> int:
    """This process's own peak resident memory in bytes.

    Why not ``ru_maxrss`` on Linux: a worker process is started by fork and exec, and the kernel
    carries the forked copy's high-water mark (the driver's memory at that moment) across the
    exec into ``ru_maxrss``; ``VmHWM`` is the peak of the process's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _worker_rss(client: Any) -> list[int]:
    return sorted(client.run(_peak_rss).values())


def _cluster(workers: int) -> Any:
    import dask
    from distributed import Client, LocalCluster

    from midnet.cluster.client import worker_environ

    with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ()}):  # as `--cluster local`
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return cluster, Client(cluster)


def _task_stream_share(stream: list[dict[str, Any]], wall: float, workers: int) -> dict[str, float]:
    compute = sum(ss["stop"] - ss["start"] for task in stream for ss in task.get("startstops", ())
                  if ss.get("action") == "compute")
    tasks = len(stream)
    return {"tasks": tasks, "compute_s": compute, "idle_share": max(0.0, 1 - compute / (wall * workers))}


def run_mosaic(size: int, workers_list: list[int], work: Path, chunk: int | None, backend: str,
               threads: int | None, time_limit: float | None = None) -> dict[str, Any]:
    import numpy as np
    from distributed import get_task_stream

    from midnet.cluster.loader import DeblurrerSpec, cpu_threads
    from midnet.cluster.runner import run
    from midnet.inference.blockwise import block_overlap, plan_chunks
    from midnet.io.omezarr import read_ome_zarr

    source = work / "mosaic.zarr"
    started = time.perf_counter()
    make_mosaic(source, size)
    made = time.perf_counter() - started
    results: dict[str, Any] = {"size": size, "megapixels": size * size / 1e6, "make_s": made, "runs": [],
                               "backend": backend}
    for workers in workers_list:
        out = work / f"out-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        spec = DeblurrerSpec(device="cpu", threads=threads or cpu_threads(workers), backend=backend)
        deblurrer = spec.load()
        overlap = block_overlap(deblurrer)
        plan = plan_chunks((size, size), deblurrer, overlap=overlap, storage=(512, 512), chunk=chunk)
        cluster, client = _cluster(workers)
        try:
            lines: list[str] = []
            start = time.perf_counter()

            def echo(line: str) -> None:  # the runner's progress callback; Ctrl-C after --time-limit
                lines.append(line)
                if time_limit and time.perf_counter() - start > time_limit:
                    raise KeyboardInterrupt

            with get_task_stream(client) as stream:
                summary = run(client, spec, [], [(source, "mosaic.zarr")], out, chunk=chunk, echo=echo)
                wall = time.perf_counter() - start
            rss = _worker_rss(client)
        finally:
            client.close()
            cluster.close()
        if summary.failed:
            raise SystemExit(f"mosaic run failed: {summary.failed}")
        share = _task_stream_share(stream.data, wall, workers)
        level0 = sum(1 for line in lines if " level 0 block " in line)
        done_mp = level0 * plan[0][0] * plan[1][0] / 1e6 if summary.interrupted else size * size / 1e6
        entry = {"workers": workers, "threads": spec.threads, "execution": deblurrer.execution, "seconds": wall,
                 "interrupted": summary.interrupted, "blocks_done": level0 if summary.interrupted else None,
                 "mp_per_s": done_mp / wall,
                 "block_side": plan[0][0], "overlap": overlap, "blocks": len(plan[0]) * len(plan[1]),
                 "chunks_written": summary.chunks_written, "worker_peak_rss_gib": [r / 2**30 for r in rss],
                 **share}
        results["runs"].append(entry)
        print(json.dumps(entry), flush=True)
    results["driver_peak_rss_gib"] = _peak_rss() / 2**30
    if time_limit:
        return results
    # correctness (issue 20): a central 2,048² region restored by the Deblurrer in memory, compared
    # with the mosaic's output except the region's border of the receptive radius (the margin)
    restored = read_ome_zarr(work / f"out-{workers_list[-1]}" / "mosaic.zarr").levels[0]
    window = min(size, 2048)
    y0 = (size - window) // 2 // 16 * 16
    inp = read_ome_zarr(source).levels[0][y0:y0 + window, y0:y0 + window].compute()
    reference = deblurrer(np.asarray(inp))
    got = np.asarray(restored[y0:y0 + window, y0:y0 + window])
    margin = overlap
    diff = np.abs(got.astype(int) - reference.astype(int))[margin:-margin, margin:-margin]
    results["check"] = {"window": window, "max_diff_16bit": int(diff.max()), "max_diff_8bit": float(diff.max() / 257),
                        "mean_diff_16bit": float(diff.mean())}
    results["check_peak_rss_gib"] = _peak_rss() / 2**30  # the in-memory 2,048² pass, after the run
    return results


def make_frames(folder: Path, count: int, side: int) -> None:
    import numpy as np
    import tifffile
    from scipy.ndimage import gaussian_filter

    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        rng = np.random.default_rng(index)
        img = gaussian_filter(rng.random((side, side)), 3)
        img = (img - img.min()) / (img.max() - img.min())
        tifffile.imwrite(folder / f"frame{index:04d}.tif", np.rint(img * 255).astype(np.uint8))


def frame_io_seconds(work: Path, rounds: int = 5) -> float:
    """Median seconds to read and write (atomically) one 1280x960 8-bit TIFF with `midnet.io`."""
    import statistics

    import numpy as np
    import tifffile

    from midnet.io import read_image, write_image

    src = work / "io-frame.tif"
    tifffile.imwrite(src, np.random.default_rng(0).integers(0, 256, (960, 1280), dtype=np.uint8))
    times = []
    for index in range(rounds):
        start = time.perf_counter()
        image = read_image(src)
        write_image(work / f"io-out-{index}.tif", image, note="benchmark")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_frames(count: int, side: int, workers_list: list[int], work: Path, backend: str,
               threads: int | None) -> dict[str, Any]:
    from distributed import get_task_stream

    from midnet.cluster.files import FileJob
    from midnet.cluster.loader import DeblurrerSpec, cpu_threads
    from midnet.cluster.runner import run

    folder = work / "frames"
    make_frames(folder, count, side)
    results: dict[str, Any] = {"frames": count, "side": side, "megapixels": count * side * side / 1e6, "runs": [],
                               "backend": backend,
                               "io_s_1280x960": frame_io_seconds(work)}
    for workers in workers_list:
        out = work / f"frames-out-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        spec = DeblurrerSpec(device="cpu", threads=threads or cpu_threads(workers), backend=backend)
        jobs = [FileJob(source=str(p), output=p.name, outdir=str(out), databar=0) for p in sorted(folder.iterdir())]
        cluster, client = _cluster(workers)
        try:
            with get_task_stream(client) as stream:
                start = time.perf_counter()
                summary = run(client, spec, jobs, [], out, databar=0, echo=lambda line: None)
                wall = time.perf_counter() - start
            rss = _worker_rss(client)
        finally:
            client.close()
            cluster.close()
        if summary.failed:
            raise SystemExit(f"frames run failed: {summary.failed}")
        entry = {"workers": workers, "threads": spec.threads, "seconds": wall, "mp_per_s": results["megapixels"] / wall,
                 "frames_per_s": count / wall, "worker_peak_rss_gib": [r / 2**30 for r in rss],
                 **_task_stream_share(stream.data, wall, workers)}
        results["runs"].append(entry)
        print(json.dumps(entry), flush=True)
    return results


def run_overhead(tasks: int) -> dict[str, Any]:
    cluster, client = _cluster(2)
    try:
        client.gather(client.map(lambda i: i, range(100), pure=False))  # warm up
        start = time.perf_counter()
        client.gather(client.map(lambda i: i, range(tasks), pure=False))
        wall = time.perf_counter() - start
    finally:
        client.close()
        cluster.close()
    entry = {"tasks": tasks, "seconds": wall, "ms_per_task": 1000 * wall / tasks}
    print(json.dumps(entry), flush=True)
    return entry


def cost_model(results: dict[str, Any]) -> dict[str, Any]:
    """Project a 100,000² mosaic and a 10,000-frame archive on 8 GPUs (assumptions in the output)."""
    gpus = 8
    overhead_ms = results.get("overhead", {}).get("ms_per_task", 5.0)
    block = 4096  # the plan's block cap on a GPU (MAX_CHUNK)
    overlap = results.get("mosaic", {}).get("runs", [{}])[0].get("overlap", 272)  # the model's margin, measured
    efficiency = (block / (block + 2 * overlap)) ** 2
    mosaic_mp = 100_000 ** 2 / 1e6
    tasks = math.ceil(100_000 / block) ** 2
    compute = mosaic_mp / (gpus * GPU_MP_S * efficiency)
    io_gb = 100_000 ** 2 * 2 * 2 / 1e9  # uint16 read + write, uncompressed
    storage_gbps = 2.0
    pyramid_share = 1 / 3  # levels 1..n hold a third of level 0's pixels, read back and averaged
    mosaic = {"megapixels": mosaic_mp, "tasks_level0": tasks, "block": block, "overlap": overlap,
              "margin_efficiency": efficiency, "compute_s": compute, "io_s": io_gb * (1 + pyramid_share) / storage_gbps,
              "scheduler_s": tasks * overhead_ms / 1000 / gpus}
    mosaic["total_s"] = max(mosaic["compute_s"], mosaic["io_s"]) + mosaic["scheduler_s"]
    frame_mp = 1280 * 960 / 1e6
    archive_mp = 10_000 * frame_mp
    per_frame_io_s = results.get("frames", {}).get("io_s_1280x960", 0.01)
    archive = {"frames": 10_000, "frame": "1280x960 8-bit TIFF", "megapixels": archive_mp,
               "compute_s": archive_mp / (gpus * GPU_MP_S), "file_io_s": 10_000 * per_frame_io_s / gpus,
               "scheduler_s": 10_000 * overhead_ms / 1000 / gpus}
    archive["total_s"] = archive["compute_s"] + archive["file_io_s"] + archive["scheduler_s"]
    assumptions = [
        f"per-GPU speed {GPU_MP_S:.0f} MP/s: the bundled model's Deblurrer on one H200, 4096² in 0.28 s "
        "(docs/results/speed-gpu.md); each of the 8 GPUs runs one worker with one task at a time",
        f"mosaic blocks of {block} px (the plan's cap on a GPU) with {overlap} px margins: "
        f"{efficiency:.3f} of the computed pixels are kept",
        f"storage: {storage_gbps} GB/s aggregate (a parallel file system), uint16 read and written uncompressed, "
        "the pyramid adds a third; IO overlaps compute (Dask runs reads and writes in other tasks)",
        f"scheduler overhead {overhead_ms:.2f} ms per task (measured here, 2 local workers), spread over the workers",
        f"frames: 1280x960, read + write with midnet.io {per_frame_io_s * 1000:.0f} ms per frame on a worker "
        "(measured on this CPU; in the same task as the model, so not overlapped with the GPU)",
        "not modelled: worker start-up and model loading (seconds per worker, once), stragglers, failures",
    ]
    return {"gpus": gpus, "mosaic_100k": mosaic, "archive_10k": archive, "assumptions": assumptions}


def write_summary(out: Path) -> None:
    parts = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json"))}
    lines = ["# Large-scale restoration (issue 20)", "",
             "Written by `benchmarks/large_scale.py` on the 2-core shared CPU (no GPU in this task; other "
             "jobs were using the same cores), the bundled model with its defaults on the CPU; commands and "
             "the scale reached are in each section. Peak RSS is each process's own high-water mark "
             "(`VmHWM`; a worker's `ru_maxrss` also counts the driver's memory it was forked from).", ""]
    mosaic = parts.get("mosaic")
    if mosaic:
        lines += [f"## Mosaic: {mosaic['size']}² uint16 OME-Zarr ({mosaic['megapixels']:.0f} MP, "
                  f"{mosaic.get('backend', 'eager')} backend)", "",
                  f"    {mosaic.get('command', '')}", "",
                  "| workers × threads | seconds | MP/s | blocks (side, margin) | chunks written | "
                  "peak RSS per worker (GiB) | tasks | worker time outside tasks |", "|---|---:|---:|---|---:|---|---:|---:|"]
        for r in mosaic["runs"]:
            rss = ", ".join(f"{v:.2f}" for v in r["worker_peak_rss_gib"])
            lines.append(f"| {r['workers']} × {r.get('threads')} | {r['seconds']:.1f} | {r['mp_per_s']:.3f} | {r['blocks']} "
                         f"({r['block_side']} px, {r['overlap']} px) | {r['chunks_written']} | {rss} | {r['tasks']} | "
                         f"{100 * r['idle_share']:.0f} % |")
        check = mosaic["check"]
        lines += ["", f"Check: a central {check['window']}² region restored by the `Deblurrer` in memory agrees "
                      f"with the mosaic (except the region's border of the margin) within {check['max_diff_16bit']} "
                      f"16-bit levels ({check['max_diff_8bit']:.2f} of an 8-bit grey level; mean "
                      f"{check['mean_diff_16bit']:.2f}). "
                      f"Driver peak RSS during the run {mosaic['driver_peak_rss_gib']:.2f} GiB"
                      + (f"; {mosaic['check_peak_rss_gib']:.2f} GiB after the check's {check['window']}² "
                         "in-memory restoration, in the same process" if "check_peak_rss_gib" in mosaic else "")
                      + ".", ""]
    partial = parts.get("mosaic-partial")
    if partial:
        lines += [f"## Mosaic at full size, stopped after a time limit: {partial['size']}² uint16 "
                  f"({partial['megapixels']:.0f} MP, {partial.get('backend', 'eager')} backend)", "",
                  f"    {partial.get('command', '')}", "",
                  "The full run takes longer than this CPU allows (see the rate); it was stopped after the "
                  "time limit, which measures the memory of a worker restoring this mosaic (a block at a time, "
                  "so it does not grow with the mosaic) and the rate.", "",
                  "| workers × threads | seconds | blocks done (of) | MP/s | peak RSS per worker (GiB) | "
                  "driver peak RSS (GiB) |", "|---|---:|---:|---:|---|---:|"]
        for r in partial["runs"]:
            rss = ", ".join(f"{v:.2f}" for v in r["worker_peak_rss_gib"])
            lines.append(f"| {r['workers']} × {r.get('threads')} | {r['seconds']:.1f} | {r['blocks_done']} "
                         f"({r['blocks']}, {r['block_side']} px) | {r['mp_per_s']:.3f} | {rss} | "
                         f"{partial['driver_peak_rss_gib']:.2f} |")
        lines.append("")
    frames = parts.get("frames")
    if frames:
        lines += [f"## Folder: {frames['frames']} frames of {frames['side']}² (8-bit TIFF, "
                  f"{frames['megapixels']:.1f} MP, {frames.get('backend', 'eager')} backend)", "",
                  f"    {frames.get('command', '')}", "",
                  "| workers × threads | seconds | MP/s | frames/s | peak RSS per worker (GiB) | worker time outside tasks |",
                  "|---|---:|---:|---:|---|---:|"]
        for r in frames["runs"]:
            rss = ", ".join(f"{v:.2f}" for v in r["worker_peak_rss_gib"])
            lines.append(f"| {r['workers']} × {r.get('threads')} | {r['seconds']:.1f} | {r['mp_per_s']:.3f} | "
                         f"{r['frames_per_s']:.2f} | "
                         f"{rss} | {100 * r['idle_share']:.0f} % |")
        lines.append("")
    if mosaic and frames and mosaic["size"] < 16384:
        mosaic_rate = max(r["mp_per_s"] for r in mosaic["runs"])
        frame_rate = max(r["mp_per_s"] for r in frames["runs"])
        lines += ["**Scale reached**: the sizes above, not the issue's 16,384² mosaic and 200 frames of "
                  "1024² (the full mosaic was only started, in the time-limited run). The full benchmark is "
                  "`PYTHONPATH=src python benchmarks/large_scale.py --part all`; at the rates measured here it "
                  f"would take about {16384 ** 2 / 1e6 / mosaic_rate / 60:.0f} min for the mosaic and "
                  f"{200 * 1024 ** 2 / 1e6 / frame_rate / 60:.0f} min for the frames, per worker count.", ""]
    if mosaic or frames:
        busy = [100 * (1 - r["idle_share"]) for part in (mosaic, frames) if part for r in part["runs"]]
        lines += ["Two workers are no faster than one here: the machine's 2 cores were shared with other jobs "
                  "during these runs, so a second worker process found no idle core. Dask itself costs little: "
                  f"workers spent {min(busy):.0f}-{max(busy):.0f} % of their time in tasks, and the scheduler's "
                  "overhead is a few ms per "
                  "task (below), against seconds per block or frame. On a machine with a free core (or GPU) per "
                  "worker, each worker adds its own rate; the cost model below assumes that.", ""]
    tiff = parts.get("acceptance-ometiff")
    if tiff:
        check = tiff["check"]
        lines += [f"## Pyramidal OME-TIFF through `midnet deblur`: {tiff['size']}² uint16 "
                  f"({tiff['megapixels']:.0f} MP)", "", f"    {tiff['command']}", "",
                  f"`midnet deblur IN -o OUT --cluster local:1`, {tiff['seconds']:.0f} s "
                  f"({tiff['mp_per_s']:.3f} MP/s, start-up included). Levels in "
                  f"{[tuple(x) for x in tiff['input_levels']]}, out {[tuple(x) for x in tiff['output_levels']]}; "
                  f"{tiff['dtype']}, axes {tiff['axes']}, pixel size {tiff['physical_size_x']} "
                  f"{tiff['physical_size_x_unit']} kept. A central {check['window']}² region equals the "
                  f"`Deblurrer` in memory within {check['max_diff_16bit']} 16-bit levels (mean "
                  f"{check['mean_diff_16bit']:.2f}; the region's {check['margin']} px border excepted); level 1 "
                  f"is the 2×2 mean of level 0 within {check['pyramid_max_diff']}. "
                  f"Acceptance: {'met' if tiff['ok'] else '**not met**'}.", ""]
    folder = parts.get("acceptance-frames")
    if folder:
        runs = folder["runs"]
        lines += [f"## `--cluster local:2` against the serial run: {folder['frames']} frames of "
                  f"{folder['side']}²", "", f"    {folder['command']}", "",
                  f"Largest difference between the two runs' outputs: {folder['max_diff']} grey levels "
                  f"({folder['frames_differing']} frames differ). Acceptance: "
                  f"{'met' if folder['ok'] else '**not met**'}. The summaries the two runs print:", ""]
        lines += [f"- {name}: `{run['summary_line'][0] if run['summary_line'] else ''}` "
                  f"({run['seconds']:.1f} s with start-up)" for name, run in runs.items()]
        lines.append("")
    overhead = parts.get("overhead")
    if overhead:
        lines += ["## Scheduler overhead", "",
                  f"{overhead['tasks']} no-op tasks on 2 local workers: {overhead['seconds']:.2f} s, "
                  f"**{overhead['ms_per_task']:.2f} ms per task**.", ""]
    model = parts.get("model")
    if model:
        m, a = model["mosaic_100k"], model["archive_10k"]
        lines += ["## Cost model: 8 GPUs", "",
                  f"* 100,000² mosaic ({m['megapixels']:,.0f} MP, {m['tasks_level0']} blocks): compute "
                  f"{m['compute_s']:.0f} s, storage {m['io_s']:.0f} s, scheduler {m['scheduler_s']:.1f} s; "
                  f"**about {m['total_s'] / 60:.1f} min** (storage-bound).",
                  f"* 10,000 frames of 1280x960 ({a['megapixels']:,.0f} MP): compute {a['compute_s']:.0f} s, "
                  f"file reading/writing {a['file_io_s']:.0f} s, scheduler {a['scheduler_s']:.1f} s; "
                  f"**about {a['total_s'] / 60:.1f} min**.", "", "Assumptions:", ""]
        lines += [f"* {text}" for text in model["assumptions"]]
        lines.append("")
    (out / "summary.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["mosaic", "frames", "overhead", "model", "all"], default="all")
    parser.add_argument("--size", type=int, default=16384, help="mosaic side in px")
    parser.add_argument("--chunk", type=int, default=None, help="block side (default: the memory budget's)")
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--frame-size", type=int, default=1024)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--time-limit", type=float, default=None,
                        help="mosaic: stop each run after this many seconds (memory and rate of a partial "
                             "run; results in mosaic-partial.json)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per worker (default: the cores shared out between the workers)")
    parser.add_argument("--backend", choices=["eager", "auto", "compiled"], default="eager",
                        help="eager (default: comparable across machines), auto (compiled when cached)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    command = "PYTHONPATH=src python benchmarks/large_scale.py " + " ".join(sys.argv[1:])
    work = args.work or Path(tempfile.mkdtemp(prefix="midnet-large-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.part in ("overhead", "all"):
            result = run_overhead(args.tasks)
            result["command"] = command
            (args.out / "overhead.json").write_text(json.dumps(result, indent=1))
        if args.part in ("frames", "all"):
            result = run_frames(args.frames, args.frame_size, args.workers, work, args.backend, args.threads)
            result["command"] = command
            (args.out / "frames.json").write_text(json.dumps(result, indent=1))
        if args.part in ("mosaic", "all"):
            result = run_mosaic(args.size, args.workers, work, args.chunk, args.backend, args.threads,
                                args.time_limit)
            result["command"] = command
            name = "mosaic-partial.json" if args.time_limit else "mosaic.json"
            (args.out / name).write_text(json.dumps(result, indent=1))
        if args.part in ("model", "all"):
            measured: dict[str, Any] = {}
            for name in ("overhead", "frames", "mosaic"):
                path = args.out / f"{name}.json"
                if path.is_file():
                    measured[name] = json.loads(path.read_text())
            (args.out / "model.json").write_text(json.dumps(cost_model(measured), indent=1))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    write_summary(args.out)
    print((args.out / "summary.md").read_text())


if __name__ == "__main__":
    main()
