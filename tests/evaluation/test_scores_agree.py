"""Acceptance: one model, one frame, one score, whichever command measures it.

`midnet evaluate`, `midnet demo`, `midnet benchmark` (Table 1 row) and training validation
report the same PSNR/SSIM for the bundled model on published frame 7-1, and each equals
scikit-image's score of the file `midnet deblur` writes (image area: rows 0-959, SOURCE.md).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import lightning as L
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from midnet import models
from midnet.cli.main import cli
from midnet.training import load_config
from midnet.training.datamodule import PairedDataModule, resolve_split
from midnet.training.module import DeblurModule

MODEL = "sem-general"
#: the published frames' image area (SOURCE.md: rows 960..1023 are the data bar)
IMAGE_ROWS = 960


def _invoke(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def frame(sem_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A pair folder holding only frame 7-1 (blur/7-1.png, sharp/7-1.png, links to the data)."""
    root = tmp_path_factory.mktemp("frame")
    for side in ("blur", "sharp"):
        (root / side).mkdir()
        os.symlink(sem_data / "frames" / side / "7-1.png", root / side / "7-1.png")
    return root, root / "blur" / "7-1.png", root / "sharp" / "7-1.png"


@pytest.mark.slow
def test_every_command_reports_the_score_of_the_file_deblur_writes(frame, sem_data: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root, blur, sharp = frame
    # the file deblur writes, scored independently with scikit-image
    _invoke("deblur", str(blur), "--out", str(tmp_path / "deblurred"), "--model", MODEL, "--device", "cpu")
    restored = np.asarray(Image.open(tmp_path / "deblurred" / "7-1.png"))
    reference = np.asarray(Image.open(sharp))
    a, b = restored[:IMAGE_ROWS], reference[:IMAGE_ROWS]
    sk_psnr = peak_signal_noise_ratio(b, a, data_range=255)
    sk_ssim = structural_similarity(b, a, data_range=255, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False)

    # midnet evaluate
    _invoke("evaluate", "--model", MODEL, "--input-dir", str(root / "blur"), "--target-dir", str(root / "sharp"),
            "--out", str(tmp_path / "eval"), "--panels", "0", "--device", "cpu")
    ev = json.loads((tmp_path / "eval" / "results.json").read_text())["images"][0]
    assert ev["databar_rows"] == 1024 - IMAGE_ROWS

    # midnet demo
    monkeypatch.setenv("MIDNET_DATA", str(sem_data))
    demo = json.loads(_invoke("demo", "--out", str(tmp_path / "demo"), "--model", MODEL, "--device", "cpu", "--json"))

    # midnet benchmark: Table 1 applies given weights without training
    weights = models.entry(MODEL).weights_path
    _invoke("benchmark", "--data", str(sem_data), "--out", str(tmp_path / "bench"), "--tables", "1",
            "--pretrained", f"{MODEL}={weights}", "--tlc", "1")  # the paper's configs pool globally
    rows = {r["method"]: r for r in csv.DictReader((tmp_path / "bench" / "table1.csv").open())}
    bench = rows[MODEL]

    # training validation on the same frame, with the same weights
    train_root = tmp_path / "train"
    for side in ("blur", "sharp"):
        (train_root / side).mkdir(parents=True)
        for name in ("6-1.png", "7-1.png"):
            os.symlink(sem_data / "frames" / side / name, train_root / side / name)
    cfg = load_config("sem-default", [f"data.root={train_root}", "data.val_groups=[7-1]", "data.group_regex=^(.*)$",
                                      f"model.checkpoint={weights}", "train.progress_bar=false",
                                      "data.crop_size=128"])  # the weights' training crop: TLC's window
    assert cfg.model.tlc  # validation restores as deblur does
    module, data = DeblurModule(cfg), PairedDataModule(cfg, resolve_split(cfg.data))
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False)
    (val,) = trainer.validate(module, datamodule=data, verbose=False)

    psnrs = {"evaluate": ev["psnr"], "demo": demo["psnr_restored"], "benchmark": float(bench["psnr"]),
             "validation": val["val/psnr_as_captured"]}
    ssims = {"evaluate": ev["ssim"], "demo": demo["ssim_restored"], "benchmark": float(bench["ssim"]),
             "validation": val["val/ssim_as_captured"]}
    print(f"\nPSNR {psnrs} scikit-image {sk_psnr:.6f}\nSSIM {ssims} scikit-image {sk_ssim:.6f}")  # shown with -s
    for name, value in psnrs.items():
        assert value == pytest.approx(psnrs["evaluate"], abs=1e-4), (name, psnrs)
        assert value == pytest.approx(sk_psnr, abs=0.02), (name, value, sk_psnr)
    for name, value in ssims.items():
        assert value == pytest.approx(ssims["evaluate"], abs=1e-5), (name, ssims)
        assert value == pytest.approx(sk_ssim, abs=1e-4), (name, value, sk_ssim)
    # the blurry input is scored under the same rule everywhere, too
    assert demo["psnr_blurry"] == pytest.approx(ev["input_psnr"], abs=1e-9)
    assert float(rows["blurry input"]["psnr"]) == pytest.approx(ev["input_psnr"], abs=1e-9)
    # registered (the headline): one field, one rule, so one number everywhere
    registered = {"evaluate": ev["registered"]["registered_psnr"], "demo": demo["psnr_restored_registered"],
                  "validation": val["val/psnr"]}
    for name, value in registered.items():
        assert value == pytest.approx(registered["evaluate"], abs=1e-4), (name, registered)
    assert val["val/psnr_input"] == pytest.approx(ev["registered"]["input_registered_psnr"], abs=1e-4)
    assert demo["psnr_blurry_registered"] == pytest.approx(ev["registered"]["input_registered_psnr"], abs=1e-9)
