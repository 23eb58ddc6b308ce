"""`midnet demo`: restore a published SEM frame with the bundled model and draw the comparison."""

from __future__ import annotations

import json

import click


@click.command(name="demo")
@click.option("--out", "out_dir", default="midnet-demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the restored image and the figure.")
@click.option("--model", default=None, help="Model name or checkpoint (default: the bundled model).")
@click.option("--group", default="7-1", show_default=True, help="Published source image to restore.")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def command(out_dir: str, model: str | None, group: str, device: str, as_json: bool) -> None:
    """Deblur a published blurry SEM frame; print PSNR/SSIM and where the files are."""
    from midnet.inference.demo import run_demo

    try:
        result = run_demo(out_dir, model=model, group=group, device=device)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result.as_dict(), indent=2) if as_json else result.summary())
