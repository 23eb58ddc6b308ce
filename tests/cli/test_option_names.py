"""The commands speak one option language (issue 21): every output option is ``--out``/``-o``,
replacing what exists is ``--overwrite`` everywhere, and an old spelling says what changed."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from midnet.cli.main import cli

#: every command that writes somewhere the user names
WRITERS = [("deblur",), ("evaluate",), ("benchmark",), ("export",), ("train",), ("demo",)]


def _command(path: tuple[str, ...]) -> click.Command:
    ctx = click.Context(cli)
    command: click.Command = cli
    for name in path:
        command = command.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None, f"midnet {' '.join(path)} is missing"
    return command


@pytest.mark.parametrize("path", WRITERS, ids=lambda p: " ".join(p))
def test_every_output_option_is_out_or_o(path: tuple[str, ...]) -> None:
    options = {opt for param in _command(path).params for opt in getattr(param, "opts", [])}
    assert {"--out", "-o"} <= options, f"midnet {' '.join(path)}: {sorted(options)}"


def test_no_command_says_replace_for_overwrite() -> None:
    ctx = click.Context(cli)
    visible = []
    stack: list[tuple[str, click.Command]] = [(name, cli.get_command(ctx, name)) for name in cli.list_commands(ctx)]
    while stack:
        name, command = stack.pop()
        if isinstance(command, click.Group):
            stack.extend((f"{name} {sub}", command.get_command(ctx, sub)) for sub in command.list_commands(ctx))
            continue
        visible += [(name, opt) for p in command.params if not getattr(p, "hidden", False) for opt in p.opts]
    assert not [v for v in visible if v[1] == "--replace"], visible


def test_data_frames_replace_still_works_with_a_deprecation_message(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["data", "frames", str(tmp_path), "--replace"])
    assert "--replace is deprecated" in result.output and "--overwrite" in result.output
