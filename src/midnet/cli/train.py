"""`midnet train`: train a deblurring network from a config (shipped name or YAML file; docs/training.md)."""

from __future__ import annotations

from pathlib import Path

import click

from midnet.cli.options import failure, usage_error


@click.command("train")
@click.option("--config", "config_ref", default=None, metavar="NAME_OR_FILE",
              help="A shipped config name (midnet config list), e.g. cpu-small, or a YAML file; unspecified "
                   "keys take the defaults.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Dotted update of any config key, e.g. --set optim.lr=5e-4 --set data.root=/data/pairs; "
                   "validated again after it is applied.")
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Shorthand for --set train.max_steps=N.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="New run folder (default runs/<config name>).")
@click.option("--resume", "resume_run", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="RUN", help="Continue run folder RUN with its saved config; only hardware/logging keys "
                                  "may be changed with --set.")
def command(config_ref: str | None, overrides: tuple[str, ...], max_steps: int | None, out: Path | None,
            resume_run: Path | None) -> None:
    """Train a model on paired blurry/sharp images; writes checkpoints, logs and best.safetensors."""
    # lazy: Lightning takes seconds to import; `midnet --help` should not wait for it
    from midnet.config import ConfigError
    from midnet.config.train import load_config, resume_config
    from midnet.training.run import train

    try:
        if resume_run is not None:
            given = [flag for flag, value in (("--config", config_ref), ("--out", out), ("--max-steps", max_steps))
                     if value is not None]
            if given:
                raise usage_error(f"{', '.join(given)}: not allowed with --resume; the run keeps its saved "
                                  f"config and folder ({resume_run / 'config.yaml'})")
            cfg = resume_config(resume_run, overrides)
            out = resume_run
        else:
            if config_ref is None:
                raise usage_error("give --config NAME_OR_FILE (midnet config list) or --resume RUN")
            extra = list(overrides) + ([f"train.max_steps={max_steps}"] if max_steps else [])
            cfg = load_config(config_ref, extra)
            out = out or Path("runs") / cfg.name
    except ConfigError as exc:
        raise usage_error(exc) from None
    try:
        result = train(cfg, out, resume=resume_run is not None)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        raise failure(exc) from None
    if result.exported is not None:
        shown = {k: round(v, 4) for k, v in sorted(result.metrics.items()) if k.startswith("val/")}
        click.echo(f"run folder: {result.out}")
        click.echo(f"best weights: {result.exported}")
        if shown:
            click.echo(f"last validation: {shown}")
