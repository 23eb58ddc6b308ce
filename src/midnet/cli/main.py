"""The `midnet` console script: a click group whose subcommands live in sibling modules.

Subcommands are imported lazily so that `midnet --help` stays fast and a broken optional
dependency in one command cannot break the others.
"""

from __future__ import annotations

import importlib

import click

from midnet.version import __version__

#: subcommand name -> module under midnet.cli that defines `command`
SUBCOMMANDS: dict[str, str] = {
    "deblur": "deblur",
    "data": "data",
    "train": "train",
    "evaluate": "evaluate",
    "demo": "demo",
    "benchmark": "benchmark",
    "config": "config",
    "export": "export",
    "estimate": "estimate",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(SUBCOMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in SUBCOMMANDS:
            module = importlib.import_module(f"midnet.cli.{SUBCOMMANDS[name]}")
            return module.command
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="midnet")
def cli() -> None:
    """Deblur SEM images of material microstructures with MIDNet."""


def main() -> None:
    """The console script: `cli`, in a process whose large tensors use huge pages
    (`midnet.cli.huge_pages`; tests and library users call `cli` itself)."""
    from midnet.cli.huge_pages import restart_with_huge_pages

    restart_with_huge_pages()
    cli(prog_name="midnet")
