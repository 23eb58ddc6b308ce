"""`midnet config list|show NAME`: the configs shipped inside the package."""

from __future__ import annotations

import click

from midnet.cli.options import usage_error


@click.group("config")
def command() -> None:
    """List and print the shipped configs (use them as --config NAME)."""


@command.command("list")
def list_configs() -> None:
    """Names of the shipped configs, with what each is for."""
    from midnet import config as configs

    for name in configs.available():
        click.echo(f"{name:22s} {configs.describe(name)}")


@command.command("show")
@click.argument("name")
@click.option("--resolved", is_flag=True, help="Print every key with the defaults filled in (training and "
                                              "benchmark configs).")
def show(name: str, resolved: bool) -> None:
    """Print config NAME (a shipped name or a YAML file) as it would be used."""
    from midnet import config as configs

    try:
        path = configs.find(name)
        if not resolved:
            click.echo(path.read_text(encoding="utf-8"), nl=False)
            return
        doc = configs.read_yaml(path)
        if "budget" in doc or "tables" in doc:
            from midnet.config.benchmark import BenchmarkConfig as schema
        else:
            from midnet.config.train import TrainConfig as schema
        click.echo(configs.dump(configs.compose(schema, name)), nl=False)
    except configs.ConfigError as exc:
        raise usage_error(exc) from None
