"""`midnet evaluate`: PSNR/SSIM of a model on a folder of pairs, with side-by-side panels."""

from __future__ import annotations

from pathlib import Path

import click

from midnet.cli.options import (databar_option, device_option, failure, model_option, out_option, tile_option,
                                tlc_option, tlc_value, usage_error)


@click.command("evaluate")
@model_option()
@click.option("--input-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="Blurry images.")
@click.option("--target-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="Sharp images with the same file names.")
@out_option(help="Folder for results.csv, results.json and panels.")
@click.option("--panels", type=click.IntRange(min=0), default=4, show_default=True,
              help="Write blurry | restored | sharp PNG panels for this many images.")
@databar_option("Bottom rows restored as `deblur` does and left out of the metrics: auto, none or a number.")
@click.option("--data-range", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Value range of float images (8/16-bit images use 255/65535).")
@device_option()
@tile_option()
@tlc_option()
@click.option("--registered/--as-captured", default=True, show_default=True,
              help="Also score each pair after registering its two captures by a displacement field "
                   "measured between them (re-takes are moved and distorted by the stage, beam and scan); "
                   "--as-captured scores only the pixels as they are.")
@click.option("--overwrite", is_flag=True, help="Replace results already in --out.")
def command(model: str | None, input_dir: Path, target_dir: Path, out: Path, panels: int, databar: str | int,
            data_range: float | None, device: str, tile: int | None, tlc: int | None, registered: bool,
            overwrite: bool) -> None:
    """Score restored images against sharp targets; the blurry input is scored as a baseline.

    Restoration and scores are those of `midnet deblur` and every other command
    (midnet.evaluation.scoring): 8-bit data as the paper's code scores it, data bar left out.
    """
    # lazy: torch and the models load only when the command runs (fast `midnet --help`)
    from midnet.evaluation.folder import evaluate_folder
    from midnet.inference.deblurrer import Deblurrer

    try:
        deblurrer = Deblurrer.from_pretrained(model, device=device, tile=tile, tlc=tlc_value(tlc))
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise usage_error(exc) from None
    try:
        doc = evaluate_folder(deblurrer, input_dir, target_dir, out, panels=panels, databar=databar,
                              data_range=data_range, overwrite=overwrite, model_label=deblurrer.model_name,
                              registered=registered)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        raise failure(exc) from None
    m = doc["mean"]
    if registered:
        click.echo(f"{doc['count']} images, registered: PSNR {m['registered_psnr']:.2f} dB "
                   f"(input {m['input_registered_psnr']:.2f}), SSIM {m['registered_ssim']:.4f} "
                   f"(input {m['input_registered_ssim']:.4f})")
    click.echo(f"{doc['count']} images, as captured: PSNR {m['psnr']:.2f} dB (input {m['input_psnr']:.2f}), "
               f"SSIM {m['ssim']:.4f} (input {m['input_ssim']:.4f}) -> {out / 'results.csv'}")
