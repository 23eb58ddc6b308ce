"""Options shared by the subcommands, so the same thing has the same name, type and help everywhere.

`--out`, `--model`, `--device`, `--tile`, `--tlc`, `--databar` are declared once here. Errors
share one style (click's ``Error: <file or key>: <what is wrong>; <the fix>``): problems with
what the user typed (a bad option, config key or model name) are usage errors and exit 2
(:func:`usage_error`); problems found while working (an unreadable file) exit 1 (:func:`failure`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

F = Callable[..., Any]

DEVICES = ("auto", "cpu", "cuda")
#: the Deblurrer's tile size in every command; None: whole images when they fit the device's free
#: memory, else tiles as large as fit (`midnet.inference.budget`). With TLC on (the default) the
#: result is the same either way, within one grey level (`Deblurrer.context`)
DEFAULT_TILE: int | None = None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).strip("'\"").split())


def usage_error(exc: BaseException | str) -> click.UsageError:
    """Exit 2: what the user typed cannot work (bad value, unknown key or model name)."""
    return click.UsageError(exc if isinstance(exc, str) else _one_line(exc))


def failure(exc: BaseException | str) -> click.ClickException:
    """Exit 1: the work itself failed (unreadable file, existing output, ...)."""
    return click.ClickException(exc if isinstance(exc, str) else _one_line(exc))


def out_option(*, required: bool = True, default: str | None = None, help: str) -> Callable[[F], F]:
    return click.option("--out", "-o", "out", type=click.Path(file_okay=False, path_type=Path), required=required,
                        default=default, show_default=default is not None, help=help)


def model_option(*, required: bool = False, help: str | None = None) -> Callable[[F], F]:
    return click.option("--model", "model", default=None, required=required, metavar="NAME_OR_FILE",
                        help=help or "A model name with trained weights (e.g. sem-general) or a checkpoint "
                                     "(.safetensors, .ckpt, NAFNet .pth); default: the bundled model.")


def device_option(default: str = "auto") -> Callable[[F], F]:
    return click.option("--device", type=click.Choice(DEVICES), default=default, show_default=True,
                        help="Where the model runs; auto picks CUDA when available.")


def tile_option(default: int | None = DEFAULT_TILE) -> Callable[[F], F]:
    return click.option("--tile", type=click.IntRange(min=0), default=default, show_default=default is not None,
                        help="Pixels restored per pass, which bounds memory (with TLC each pass also reads "
                             "twice the training crop around them, so tiles give the whole-image result); "
                             "0 restores whole images at once "
                             "[default: whole images when they fit the free memory, else tiles as large as fit].")


def tlc_option(default: int | None = None) -> Callable[[F], F]:
    return click.option("--tlc", type=click.IntRange(min=0), default=default, metavar="CROP",
                        help="The channel attention pools windows of 1.5x this training crop size (NAFNet's "
                             "test-time local converter), so that tiles restore as the whole image does; "
                             "0: pool the whole input (the result then depends on the tile plan) "
                             "[default: the model's training crop, 256 when unknown].")


def parse_databar(_ctx: click.Context | None, _param: click.Parameter | None, value: str) -> str | int:
    """``auto`` (metadata, else detected), ``none``/``0`` or a row count, read by the project's one
    parser of the setting (`midnet.io.parse_databar`)."""
    from midnet.io.pageinfo import parse_databar as parse  # lazy: numpy and the codecs, for start-up time

    try:
        return parse(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use auto, none or a number of rows (e.g. 64)") from None


def databar_option(help: str) -> Callable[[F], F]:
    return click.option("--databar", default="auto", show_default=True, callback=parse_databar, help=help)


def tlc_value(tlc: int | None) -> int | bool:
    """``--tlc`` as `Deblurrer` takes it: None (not given) -> True (the model's own size), 0 -> off."""
    if tlc is None:
        return True
    return int(tlc) if tlc else False
