"""`midnet demo`: restore a published SEM frame with the bundled model and draw the comparison."""

from __future__ import annotations

import json

import click

from midnet.cli.options import device_option, failure, model_option, out_option, tile_option, tlc_option, tlc_value, \
    usage_error


@click.command(name="demo")
@out_option(required=False, default="midnet-demo", help="Folder for the restored image and the figure.")
@model_option()
@click.option("--group", default="7-1", show_default=True, help="Published source image to restore.")
@device_option()
@tile_option()
@tlc_option()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def command(out: str, model: str | None, group: str, device: str, tile: int | None, tlc: int | None, as_json: bool) -> None:
    """Deblur a published blurry SEM frame; print PSNR/SSIM and where the files are."""
    # lazy: torch, the models and matplotlib load only when the command runs (fast `midnet --help`)
    from midnet.evaluation.demo import run_demo
    from midnet.models import NoWeightsError

    try:
        result = run_demo(out, model=model, group=group, device=device, tile=tile, tlc=tlc_value(tlc))
    except (NoWeightsError, KeyError) as exc:
        raise usage_error(exc) from None
    except (FileNotFoundError, ValueError) as exc:
        raise failure(exc) from None
    click.echo(json.dumps(result.as_dict(), indent=2) if as_json else result.summary())
