"""`midnet benchmark`: regenerate the paper's Tables 1-3 on a paired data set and a training budget."""

from __future__ import annotations

from pathlib import Path

import click

from midnet.cli.options import DEVICES, failure, out_option, tile_option, tlc_option, usage_error


def _split_list(values: tuple[str, ...]) -> list[str]:
    """``("a,b", "c")`` -> ``["a", "b", "c"]``: lists may be given comma-separated or repeated."""
    return [v.strip() for text in values for v in text.split(",") if v.strip()]


def _pretrained(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for text in values:
        name, sep, path = text.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise click.BadParameter(f"{text!r}: give NAME=PATH, e.g. hinet=HINet-GoPro.pth", param_hint="--pretrained")
        out[name.strip()] = path.strip()
    return out


def restore_sets(tile: int | None, tlc: int | None) -> tuple[list[str], list[str]]:
    """(``--set`` entries, deprecation notes) for ``--tile`` and ``--tlc``, which mean here what they
    mean in every command (`midnet.cli.options`): ``--tile 0`` whole images, ``--tlc CROP`` a size.

    Their old meanings here get a note: ``--tile 0`` was the default tile (now: omit ``--tile``),
    ``--tlc 1`` an on switch (still taken as one: each network's training crop)."""
    sets, notes = [], []
    if tile is not None:
        if tile == 0:
            notes.append("--tile 0 restores whole images, as in `midnet deblur`; it meant the default tile "
                         "here before: omit --tile for that")
        sets.append(f"eval.tile={tile}")
    if tlc is not None:
        if tlc == 1:
            notes.append("--tlc 1 as an on switch is deprecated: --tlc takes the training crop size, as in "
                         "`midnet deblur` and `evaluate`; using each network's training crop (--tlc CROP to choose)")
        sets.append(f"eval.tlc={'true' if tlc == 1 else tlc or 'false'}")
    return sets, notes


@click.command("benchmark")
@click.option("--data", "data_root", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Paired data: a folder with blur/ and sharp/ (the published layout's frames/ is used "
                   "when present). Default: data.root of the config, else $MIDNET_DATA / the download cache.")
@out_option(help="Results folder (tables, plot, configuration, training runs).")
@click.option("--config", "config_ref", default=None, metavar="NAME_OR_FILE",
              help="Benchmark config: a shipped name (benchmark-cpu, benchmark-paper; midnet config list) or a "
                   "YAML file. Default: the built-in CPU-scale settings.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value, e.g. --set 'data.test_groups=[7-1]' (repeatable).")
@click.option("--protocol", type=click.Choice(["paper", "by-source"]), default=None,
              help="How test pairs are chosen (data.protocol): by-source holds whole source images out "
                   "(data.test_groups; the default); paper draws data.paper_test_count pairs at random "
                   "(data.split_seed) from all of them, as the MIDNet paper did, so overlapping crops of one "
                   "scene land in train and test.")
@click.option("--budget-steps", type=click.IntRange(min=1), help="Training iterations for every network.")
@click.option("--crop", type=click.IntRange(min=8), help="Training crop size for every network.")
@click.option("--batch", type=click.IntRange(min=1), help="Training batch size for every network.")
@click.option("--models", multiple=True, help="Table 2 networks (registry names, comma-separated or repeated).")
@click.option("--pretrained", multiple=True, metavar="NAME=PATH",
              help="Official checkpoint for Table 1, e.g. restormer=motion_deblurring.pth (repeatable).")
@click.option("--tables", default=None, help="Which tables, e.g. 1,2,3 (default: the config's).")
@click.option("--device", type=click.Choice(DEVICES), default=None,
              help="Where the test images are restored (eval.device; default: the config's).")
@tile_option()
@tlc_option(default=None)
@click.option("--overwrite", is_flag=True, help="Regenerate an existing results folder (retrains its runs).")
@click.option("--resume", is_flag=True, help="Reuse the finished (or continue the interrupted) training runs "
                                             "of an existing results folder.")
def command(data_root: Path | None, out: Path, config_ref: str | None, overrides: tuple[str, ...],
            protocol: str | None, budget_steps: int | None, crop: int | None, batch: int | None, models: tuple[str, ...],
            pretrained: tuple[str, ...], tables: str | None, device: str | None, tile: int | None,
            tlc: int | None, overwrite: bool, resume: bool) -> None:
    """Train every network with the same budget and score all methods on held-out source images.

    Writes table1/2/3 as Markdown and CSV, psnr_vs_macs.png, summary.md, per_image.csv and the
    resolved config.yaml into --out. Official checkpoints are never downloaded: pass them with
    --pretrained; the ones the paper used but you did not give are listed.
    """
    # lazy: torch and Lightning load only when the command runs (fast `midnet --help`)
    from midnet.benchmark import load_benchmark_config, run_benchmark
    from midnet.config import ConfigError
    from midnet.sample_data import data_root as published_root

    if overwrite and resume:
        raise click.UsageError("--overwrite retrains everything and --resume reuses runs; pick one")
    sets = list(overrides)
    if protocol:
        sets.append(f"data.protocol={protocol}")
    if budget_steps:
        sets.append(f"budget.max_steps={budget_steps}")
    if crop:
        sets.append(f"budget.crop_size={crop}")
    if batch:
        sets.append(f"budget.batch_size={batch}")
    if tables:
        sets.append(f"tables=[{tables}]")
    if models:
        sets.append(f"table2.models=[{', '.join(_split_list(models))}]")
    sets += [f"table1.pretrained.{name}={path}" for name, path in _pretrained(pretrained).items()]
    if data_root is not None:
        sets.append(f"data.root={data_root}")
    if device is not None:
        sets.append(f"eval.device={device}")
    eval_sets, notes = restore_sets(tile, tlc)
    sets += eval_sets
    for note in notes:
        click.echo(f"note: {note}", err=True)
    try:
        cfg = load_benchmark_config(config_ref, sets)
    except ConfigError as exc:
        raise usage_error(exc) from None
    try:
        if cfg.data.root is None:
            cfg = cfg.updated(f"data.root={published_root()}")
        result = run_benchmark(cfg, out, overwrite=overwrite, resume=resume,
                               log=lambda msg: click.echo(msg, err=True))
    except (ValueError, FileNotFoundError, FileExistsError, KeyError) as exc:
        raise failure(exc) from None
    for name, table in result.tables.items():
        click.echo(table.markdown())
    if result.missing_pretrained and 1 in cfg.tables:
        click.echo(f"Table 1: official checkpoints not given: {', '.join(result.missing_pretrained)} "
                   f"(pass --pretrained NAME=PATH; nothing is downloaded)", err=True)
    click.echo(f"results in {out}", err=True)
