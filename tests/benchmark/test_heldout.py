"""Model-card validation: frame 7-1 is scored as captured and registered by the measured displacement field."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from midnet.benchmark.heldout import frame_rows


def test_frame_rows_also_score_after_registering_the_moved_capture(tmp_path):
    rng = np.random.default_rng(3)
    for kind in ("blur", "sharp"):
        (tmp_path / kind).mkdir()
    for i in range(1, 8):
        scene = ndimage.gaussian_filter(rng.random((300, 340)), 2.0)
        scene = (255 * (scene - scene.min()) / np.ptp(scene)).astype(np.uint8)
        Image.fromarray(scene[20:280, 20:320]).save(tmp_path / "sharp" / f"{i}-1.png")
        Image.fromarray(scene[20:280, 10:310]).save(tmp_path / "blur" / f"{i}-1.png")   # moved: blur[x] = sharp[x - 10]
    rows = frame_rows(tmp_path, {"identity": lambda x: x})
    ident = next(r for r in rows if r["method"] == "identity")
    assert (ident["median_shift_y"], ident["median_shift_x"]) == pytest.approx((0.0, 10.0), abs=0.2)
    assert ident["psnr_registered"] > 45
    assert ident["psnr"] < 30                                 # as captured, the move dominates
    assert rows[0]["method"] == "blurry input" and rows[0]["psnr"] == pytest.approx(ident["psnr"])


# ---- the acceptance cases of issue 18 -------------------------------------------------------

from midnet.benchmark import heldout  # noqa: E402
from midnet.data.corpus import SharpImage  # noqa: E402
from midnet.data.defocus_dataset import fixed_gaussian_degradation  # noqa: E402
from midnet.psf import PSF  # noqa: E402


def scenes(n: int = 2, size: int = 96) -> list[SharpImage]:
    rng = np.random.default_rng(5)
    out = []
    for i in range(n):
        x = ndimage.gaussian_filter(rng.random((size, size)), 1.5) + 0.5 * (ndimage.gaussian_filter(
            rng.random((size, size)), 6) > 0.5)
        out.append(SharpImage("src", f"img{i}", ((x - x.min()) / np.ptp(x)).astype(np.float32)))
    return out


def test_every_acceptance_case_is_scored_and_the_gaussian_ones_keep_their_seeds():
    keys = [c.key for c in heldout.CASES]
    assert any("astigmatic 2.5×1.2 @30°" in k for k in keys) and any("lorentzian σ=1.5" in k for k in keys)
    fast = next(c for c in heldout.CASES if c.key.startswith("fast scan"))
    assert (fast.psf, fast.noise_sigma) == (PSF("gaussian", 3.0), 20.0) and fast.shot_fraction > 0
    clean = heldout.q8(scenes(1)[0].image)
    for j, sigma in enumerate((1.0, 2.0, 3.0)):   # the tables before the extension are reproducible
        old = fixed_gaussian_degradation(sigma, 3.0).apply(clean, np.random.default_rng([7, 4, j]))
        np.testing.assert_array_equal(heldout.CASES[j].degrade(clean, 4), old)


def test_synthetic_table_scores_baselines_models_and_gives_psf_aware_models_the_psf():
    got: list[str] = []

    def aware(x, *, psf, noise_sigma):
        got.append(str(psf))
        return x

    cases = [c for c in heldout.CASES if c.key.startswith(("astigmatic", "in focus"))]
    rows = heldout.synthetic_table(scenes(), {"identity": lambda x: x, "aware": aware}, 96, cases=cases,
                                   progress=False)
    assert {r["case"] for r in rows} == {c.key for c in cases}
    assert got == ["astigmatic:2.5,1.2,30", "none"] * 2                       # the true PSF per case
    astig = cases[0].key
    assert heldout.mean_psnr(rows, heldout.WIENER, astig) > heldout.mean_psnr(rows, heldout.BLURRY, astig)
    assert heldout.mean_psnr(rows, "identity", astig) == pytest.approx(heldout.mean_psnr(rows, heldout.BLURRY, astig))
    lines = heldout.gain_rows(rows, ["identity"], [c.key for c in cases])
    assert lines[0].startswith("| identity | Wiener, true PSF (oracle) | -")
    got.clear()
    heldout.synthetic_table(scenes(1), {"aware": aware}, 96, cases=cases[:1], psf_mode="estimated", progress=False)
    assert len(got) == 1 and got[0] != ""                                   # what midnet.psf estimated
    assert heldout.black_levels({"aware": aware}) == {"aware": {"uint8": 0}}


def test_model_specs_name_python_callables():
    label, fn = heldout.model_restorer("copy=numpy:copy")
    assert label == "copy" and fn is np.copy and not heldout.psf_aware(fn)


def test_score_is_the_evaluation_rule_on_the_8_bit_files():
    """One scoring rule: the held-out tables score by `midnet.evaluation.score` on the 8-bit files
    the float outputs stand for, which gives the published numbers (the old float formula) to 1e-6."""
    from midnet.evaluation import score as rule
    from midnet.metrics import psnr, ssim

    rng = np.random.default_rng(0)
    target = rng.random((64, 64))
    out = np.clip(target + rng.normal(0, 0.05, target.shape), -0.1, 1.1).astype(np.float32)
    eight = [np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8) for x in (out, target)]
    expected = rule(*eight)
    assert heldout.score(out, target) == (expected.psnr, expected.ssim)
    old = [x / 255 for x in eight]
    assert expected.psnr == pytest.approx(psnr(*old, data_range=1.0), abs=1e-6)
    assert expected.ssim == pytest.approx(ssim(*old, data_range=1.0), abs=1e-6)
