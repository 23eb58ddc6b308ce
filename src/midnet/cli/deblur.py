"""``midnet deblur``: restore the files a microscope wrote, keeping format, metadata and data bar.

Inputs are files, folders (their image files; ``--recursive`` for sub-folders) and glob
patterns; each output keeps its input's name and sub-path under OUTDIR. A file that cannot be
read or written gets one error line and the batch goes on; the exit code is 1 when any failed.
"""

from __future__ import annotations

import glob
import sys
import time
from pathlib import Path

import click

from midnet.io.images import SUFFIXES

_GLOB_CHARS = set("*?[")


def parse_databar(_ctx: click.Context, _param: click.Parameter, value: str) -> str | int:
    """``auto``, ``none`` or a row count."""
    value = value.strip().lower()
    if value in ("auto", "none"):
        return value
    if value.isdigit():
        return int(value)
    raise click.BadParameter(f"{value!r}: use auto, none or a number of rows (e.g. 64)")


def _glob_base(pattern: str) -> Path:
    """The leading folders of ``pattern`` before the first component with a wildcard."""
    parts = []
    for part in Path(pattern).parts:
        if _GLOB_CHARS & set(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith(".")


def collect_inputs(inputs: tuple[str, ...], recursive: bool, outdir: Path
                   ) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(source, relative output path) pairs, and one-line errors for inputs that match nothing.

    Files inside ``outdir`` are skipped when scanning folders, so that a rerun with OUTDIR
    inside the input folder does not restore its own outputs.
    """
    pairs: list[tuple[Path, Path]] = []
    errors: list[str] = []
    out_resolved = outdir.resolve()

    def inside_outdir(path: Path) -> bool:
        return out_resolved in path.resolve().parents

    for item in inputs:
        path = Path(item)
        if path.is_file():
            pairs.append((path, Path(path.name)))
        elif path.is_dir():
            found = path.rglob("*") if recursive else path.iterdir()
            for file in sorted(found):
                if _is_image(file) and not inside_outdir(file):
                    pairs.append((file, file.relative_to(path)))
        elif _GLOB_CHARS & set(item):
            base = _glob_base(item)
            matches = [Path(m) for m in sorted(glob.glob(item, recursive=recursive))]
            matches = [m for m in matches if _is_image(m) and not inside_outdir(m)]
            if not matches:
                errors.append(f"{item}: no image files match this pattern")
            pairs.extend((m, m.relative_to(base)) for m in matches)
        else:
            errors.append(f"{item}: no such file or folder")
    return pairs, errors


#: a job of at least this many megapixels compiles the model when no compiled copy is cached
#: (compiling costs about a minute on a 2-core CPU and then saves about half of every forward)
COMPILE_MIN_MEGAPIXELS = 50.0


def _megapixels(path: Path) -> float:
    """A cheap size estimate from the file size (2 bytes per pixel), without decoding."""
    try:
        return path.stat().st_size / 2e6
    except OSError:
        return 0.0


@click.command("deblur")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "outdir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the restored files.")
@click.option("--model", default=None, metavar="NAME_OR_CKPT",
              help="Registry name or checkpoint (.safetensors, .ckpt, NAFNet .pth); default: the bundled model.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--backend", type=click.Choice(["auto", "compiled", "eager"]), default="auto", show_default=True,
              help="compiled: an ahead-of-time compiled model, cached on disk after its first use "
                   "(about 2x faster on a CPU); auto: compiled when cached or when the job is large; "
                   "eager: plain PyTorch.")
@click.option("--tile", type=click.IntRange(min=0), default=None,
              help="Tile size in pixels; 0 runs whole images [default: whole images when they fit "
                   "the free memory, else tiles as large as fit].")
@click.option("--overlap", type=click.IntRange(min=0), default=None,
              help="Tile overlap in pixels [default: the model's measured effective receptive field].")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Tiles per forward pass [default: as many as fit the memory budget, at most 16].")
@click.option("--databar", default="auto", show_default=True, callback=parse_databar,
              help="Rows of the bottom info band to copy unchanged: auto, none or a number.")
@click.option("--recursive", is_flag=True, help="Also restore images in sub-folders of folder inputs.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary (errors are still printed).")
def command(inputs: tuple[str, ...], outdir: Path, model: str | None, device: str, backend: str,
            tile: int | None, overlap: int | None, batch_size: int | None, databar: str | int,
            recursive: bool, overwrite: bool, quiet: bool) -> None:
    """Deblur SEM images: INPUT... are files, folders or glob patterns."""
    start = time.perf_counter()
    pairs, errors = collect_inputs(inputs, recursive, outdir)
    if not pairs and errors:
        raise click.ClickException("; ".join(errors))
    from midnet.inference.deblurrer import Deblurrer

    try:
        deblurrer = Deblurrer.from_pretrained(model, device=device, tile=tile, overlap=overlap,
                                              batch_size=batch_size,
                                              backend="eager" if backend == "eager" else "auto")
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from exc
    for message in errors:
        click.echo(f"error: {message}", err=True)
    if not quiet:
        deblurrer.notify = lambda message: click.echo(message, err=True)
    big_job = sum(_megapixels(src) for src, _ in pairs) >= COMPILE_MIN_MEGAPIXELS
    deblurrer.prepare(compile_if_missing=backend == "compiled" or big_job)
    failed = [message.split(":")[0] for message in errors]
    done, megapixels = _run_pipelined(deblurrer, pairs, outdir, databar, overwrite, quiet, failed)
    seconds = time.perf_counter() - start
    total = len(pairs) + len(errors)
    if not quiet:
        click.echo(f"restored {done} of {total} file(s) into {outdir} with {deblurrer.model_name} "
                   f"in {seconds:.1f} s ({megapixels / seconds:.2f} MP/s, {deblurrer.execution})", err=True)
    if failed:
        click.echo(f"{len(failed)} failed: {', '.join(failed)}", err=True)
        sys.exit(1)


def _run_pipelined(deblurrer, pairs: list[tuple[Path, Path]], outdir: Path, databar: str | int,
                   overwrite: bool, quiet: bool, failed: list[str]) -> tuple[int, float]:
    """Restore every pair: the next file is read and the previous one written while the model
    computes (two helper threads; PyTorch, image codecs and file I/O release the GIL).

    Returns (files restored, megapixels restored). Failures are reported and appended to
    ``failed``; one bad file never stops the batch.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    from tqdm import tqdm

    jobs: list[tuple[Path, Path]] = []
    seen: dict[Path, Path] = {}

    def report(src: Path, exc: BaseException) -> None:
        message = " ".join(str(exc).split())
        if not message.startswith(str(src)):
            message = f"{src}: {message}"
        tqdm.write(f"error: {message}", file=sys.stderr)
        failed.append(str(src))

    for src, rel in pairs:
        dst = outdir / rel
        if dst in seen and seen[dst].resolve() == src.resolve():
            continue  # the same file named twice (e.g. as a file and inside a folder)
        if dst in seen:
            report(src, ValueError(f"same output name as {seen[dst]}; restore them into separate folders"))
            continue
        seen[dst] = src
        jobs.append((src, dst))

    files = tqdm(total=len(jobs), unit="file", desc="deblur", file=sys.stderr, disable=True if quiet else None)
    tiles: dict[str, tqdm] = {}

    def on_tile(done: int, total: int) -> None:
        if quiet:
            return
        bar = tiles.get("bar")
        if bar is None:
            bar = tiles["bar"] = tqdm(total=total, unit="tile", desc="  tiles", leave=False, file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            tiles.pop("bar", None)

    deblurrer.on_tile = on_tile
    done, megapixels = 0, 0.0
    with ThreadPoolExecutor(max_workers=1) as reader, ThreadPoolExecutor(max_workers=1) as writer:
        def read(index: int) -> Future | None:
            if index >= len(jobs):
                return None
            src, dst = jobs[index]
            return reader.submit(deblurrer.read_file, src, dst, overwrite=overwrite)

        writes: list[tuple[Path, Future, float]] = []
        pending = read(0)
        for index, (src, dst) in enumerate(jobs):
            current, pending = pending, read(index + 1)
            try:
                image = current.result()
                restored = deblurrer.restore_image(image, databar=databar)
                size = sum(page.shape[0] * page.shape[1] for page in image.pages) / 1e6
                writes.append((src, writer.submit(deblurrer.write_file, restored, src, dst,
                                                  overwrite=overwrite), size))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                report(src, exc)
            files.update(1)
            finished = [w for w in writes if w[1].done()]
            for item in finished:
                writes.remove(item)
                ok, size = _settle(item, report)
                done, megapixels = done + ok, megapixels + size
        for item in writes:
            ok, size = _settle(item, report)
            done, megapixels = done + ok, megapixels + size
    files.close()
    return done, megapixels


def _settle(item, report) -> tuple[int, float]:
    src, future, size = item
    try:
        future.result()
        return 1, size
    except Exception as exc:  # noqa: BLE001
        report(src, exc)
        return 0, 0.0
