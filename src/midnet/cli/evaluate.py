"""`midnet evaluate`: PSNR/SSIM of a model on a folder of pairs, with side-by-side panels."""

from __future__ import annotations

from pathlib import Path

import click


def _databar(value: str) -> int | str:
    if value.lower() == "auto":
        return "auto"
    try:
        rows = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a number of bottom rows or 'auto'") from None
    if rows < 0:
        raise click.BadParameter("the data bar height cannot be negative")
    return rows


@click.command("evaluate")
@click.option("--model", "model_ref", required=True,
              help="Model name, our .safetensors/.ckpt, or an official NAFNet .pth.")
@click.option("--input-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="Blurry images.")
@click.option("--target-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="Sharp images with the same file names.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for results.csv, results.json and panels.")
@click.option("--panels", type=click.IntRange(min=0), default=4, show_default=True,
              help="Write blurry | restored | sharp PNG panels for this many images.")
@click.option("--databar", default="auto", show_default=True,
              help="Bottom rows left out of the metrics: a number, 'auto' (detect) or 0.")
@click.option("--tlc", type=click.IntRange(min=0), default=0,
              help="Enable TLC with this training crop size (0: off).")
@click.option("--tile", type=click.IntRange(min=0), default=0, help="Tile size (0: whole image).")
@click.option("--overwrite", is_flag=True, help="Replace results already in --out.")
def command(model_ref: str, input_dir: Path, target_dir: Path, out: Path, panels: int, databar: str,
            tlc: int, tile: int, overwrite: bool) -> None:
    """Score restored images against sharp targets; the blurry input is scored as a baseline."""
    from midnet.models import load_model
    from midnet.training.evaluation import evaluate_folder

    try:
        model = load_model(model_ref)
        doc = evaluate_folder(model, input_dir, target_dir, out, panels=panels, databar=_databar(databar),
                              tlc=tlc or None, tile=tile or None, overwrite=overwrite, model_label=model_ref)
    except (ValueError, FileNotFoundError, FileExistsError, KeyError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    m = doc["mean"]
    click.echo(f"{doc['count']} images: PSNR {m['psnr']:.2f} dB (input {m['input_psnr']:.2f}), "
               f"SSIM {m['ssim']:.4f} (input {m['input_ssim']:.4f}) -> {out / 'results.csv'}")
