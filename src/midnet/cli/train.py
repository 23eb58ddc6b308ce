"""`midnet train`: train a deblurring network from a YAML config (see configs/ and docs/training.md)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("train")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="YAML config (configs/*.yaml); unspecified keys take the defaults.")
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Override train.max_steps.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder (default runs/<config name>); must be new unless --resume.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from checkpoints/last.ckpt.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override any config key, e.g. --set optim.lr=5e-4 --set data.root=/data/pairs.")
def command(config_path: Path, max_steps: int | None, out: Path | None, resume: bool,
            overrides: tuple[str, ...]) -> None:
    """Train a model on paired blurry/sharp images; writes checkpoints, logs and best.safetensors."""
    from midnet.training.config import load_config

    extra = list(overrides) + ([f"train.max_steps={max_steps}"] if max_steps else [])
    try:
        cfg = load_config(config_path, extra)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    out = out or Path("runs") / str(cfg["name"])
    from midnet.training.run import train

    try:
        result = train(cfg, out, resume=resume)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    if result.exported is not None:
        shown = {k: round(v, 4) for k, v in sorted(result.metrics.items()) if k.startswith("val/")}
        click.echo(f"run folder: {result.out}")
        click.echo(f"best weights: {result.exported}")
        if shown:
            click.echo(f"last validation: {shown}")
