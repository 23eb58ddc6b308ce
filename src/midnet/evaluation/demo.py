"""The demo: restore a published SEM frame with the bundled model and show the result.

It is the README's main job, so it exercises the real path a user takes: the frame is read
from disk, restored by :class:`~midnet.inference.deblurrer.Deblurrer` into a file exactly as
`midnet deblur` writes it (the data bar found by the io detector and passed through), and that
file is scored by :mod:`midnet.evaluation.scoring`, the rule every command shares (8-bit, as the
paper's code; the data bar left out because its text differs between the captures).

It needs no network: with the published data at hand ($MIDNET_DATA or the download cache) it
restores the full frame; otherwise it uses the crop of frame 7-1 shipped in the package
(`midnet/sample_data/demo/`).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from midnet.evaluation import DisplacementField, load_pair, register_pair, score_pair, score_registered
from midnet.inference.deblurrer import Deblurrer
from midnet.io import read_image
from midnet.io.atomic import atomic_write
from midnet.sample_data import ENV_DATA, data_root, frame_pair, normalise_group

#: the source image held out from the bundled model's training (validation image)
DEMO_GROUP = "7-1"


@dataclass
class DemoResult:
    group: str
    model: str
    psnr_blurry: float
    ssim_blurry: float
    psnr_restored: float
    ssim_restored: float
    restored_path: str
    figure_path: str
    image_rows: int
    #: the same scores after registering the captures (`scoring.score_registered`), and the
    #: registration's statistics (`DisplacementField.stats`)
    registration: dict = field(default_factory=dict)
    psnr_blurry_registered: float = float("nan")
    ssim_blurry_registered: float = float("nan")
    psnr_restored_registered: float = float("nan")
    ssim_restored_registered: float = float("nan")

    def registration_text(self) -> str:
        r = self.registration
        if not r:
            return "not registered"
        return (f"the blurry capture is moved by {r['median_shift_y']:+.1f}, {r['median_shift_x']:+.1f} px (median y, x;"
                f" spread {r['spread_y']:.1f}, {r['spread_x']:.1f} px); {r['tiles_left_out']} of {r['tiles']} tiles "
                f"too plain to register, left out")

    def summary(self) -> str:
        return (
            f"{self.group}, image area (rows 0..{self.image_rows - 1}), 8-bit, {self.model}:\n"
            f"registered ({self.registration_text()}):\n"
            f"  blurry   PSNR {self.psnr_blurry_registered:6.2f} dB  SSIM {self.ssim_blurry_registered:.4f}\n"
            f"  restored PSNR {self.psnr_restored_registered:6.2f} dB  SSIM {self.ssim_restored_registered:.4f}\n"
            f"as captured (unregistered; the move between the captures counts as error):\n"
            f"  blurry   PSNR {self.psnr_blurry:6.2f} dB  SSIM {self.ssim_blurry:.4f}\n"
            f"  restored PSNR {self.psnr_restored:6.2f} dB  SSIM {self.ssim_restored:.4f}\n"
            f"restored image: {self.restored_path}\nfigure:         {self.figure_path}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def packaged_pair() -> tuple[Path, Path]:
    """(blurry, sharp) crop of frame 7-1 shipped in the package, for the offline demo."""
    from importlib import resources

    folder = resources.files("midnet.sample_data") / "demo"
    return Path(str(folder / "7-1_blur_crop.png")), Path(str(folder / "7-1_sharp_crop.png"))


def demo_pair(group: str = DEMO_GROUP) -> tuple[Path, Path, str]:
    """(blurry, sharp, what it is): the full frames when the data is at hand, else the shipped crop.

    Never downloads: ``make demo`` on a fresh machine must not need the network.
    """
    group = normalise_group(group)
    try:
        root: Path | None = data_root(download=False)
    except FileNotFoundError:
        if os.environ.get(ENV_DATA, "").strip():
            raise  # a wrong $MIDNET_DATA is worth knowing about
        root = None
    if root is not None:
        try:
            blur, sharp = frame_pair(group, root=root)
            return blur, sharp, f"source image {group}"
        except FileNotFoundError:
            if group != DEMO_GROUP:
                raise
    elif group != DEMO_GROUP:
        raise FileNotFoundError(f"source image {group}: the published data is not here; run "
                                f"`midnet data download` (only {DEMO_GROUP} ships with midnet)")
    blur, sharp = packaged_pair()
    return blur, sharp, f"source image {group}, the 640x512 crop shipped with midnet"


def run_demo(out_dir: str | Path, *, model: str | None = None, group: str = DEMO_GROUP,
             device: str = "auto", tile: int | None = None, tlc: bool | int = True,
             overwrite: bool = True) -> DemoResult:
    """Restore the blurry frame of ``group``; write the restored PNG and a comparison figure."""
    group = normalise_group(group)
    blur_path, sharp_path, what = demo_pair(group)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    deblurrer = Deblurrer.from_pretrained(model, device=device, tile=tile, tlc=tlc)
    deblurrer.prepare(compile_if_missing=False)  # one frame: a cached compiled model or eager
    pair = load_pair(blur_path, sharp_path, name=group)
    restored_path = out_dir / f"{group}_restored.png"
    deblurrer.deblur_file(blur_path, restored_path, databar=pair.restore_rows, overwrite=overwrite)
    restored = read_image(restored_path).array
    rows = pair.blurry.shape[0] - pair.databar_rows
    if not np.array_equal(restored[rows:], pair.blurry[rows:]):
        raise RuntimeError("data bar was not passed through unchanged")  # a bug, not user error
    before, after = score_pair(pair.blurry, pair), score_pair(restored, pair)
    figure_path = out_dir / f"{group}_comparison.png"
    moved = register_pair(pair)
    reg_before, reg_after = score_registered(pair.blurry, pair, moved), score_registered(restored, pair, moved)
    result = DemoResult(what, deblurrer.model_name, before.psnr, before.ssim, after.psnr, after.ssim,
                        str(restored_path), str(figure_path), rows, moved.stats(), reg_before.psnr, reg_before.ssim,
                        reg_after.psnr, reg_after.ssim)
    write_comparison_figure(pair.blurry, restored, pair.sharp, figure_path, result, moved)
    return result


def _inset_box(image: np.ndarray, rows: int, size: int = 192) -> tuple[int, int, int]:
    """The most textured (highest local variance) square of the image area, for the zoom."""
    area = image[:rows].astype(np.float32)
    best, best_yx = -1.0, (0, 0)
    for y in range(0, area.shape[0] - size + 1, size // 2):
        for x in range(0, area.shape[1] - size + 1, size // 2):
            v = float(area[y:y + size, x:x + size].var())
            if v > best:
                best, best_yx = v, (y, x)
    return best_yx[0], best_yx[1], size


def _draw_field(ax, moved: DisplacementField, rows: int) -> None:
    """The measured displacement as arrows over its magnitude, tiles left out hatched."""
    magnitude = np.hypot(moved.dy, moved.dx)
    im = ax.imshow(magnitude, cmap="viridis", interpolation="nearest")
    step = max(16, min(moved.shape) // 12)
    yy, xx = np.mgrid[step // 2:moved.shape[0]:step, step // 2:moved.shape[1]:step]
    ax.quiver(xx, yy, moved.dx[yy, xx], moved.dy[yy, xx], color="white", angles="xy", scale_units="xy", scale=0.25,
              width=0.004)
    left_out = np.ma.masked_where(~moved.left_out(), np.ones(moved.shape))
    ax.imshow(left_out, cmap="autumn", alpha=0.5, interpolation="nearest")
    ax.set_xlim(-0.5, moved.shape[1] - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label="displacement (px)")


def write_comparison_figure(blurry: np.ndarray, restored: np.ndarray, sharp: np.ndarray,
                            path: str | Path, result: DemoResult, moved: DisplacementField | None = None) -> Path:
    """blurry | restored | sharp (| measured displacement), full frames on top and zoomed insets
    below, written atomically."""
    import matplotlib  # lazy: a second of import time, only needed for this figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    y, x, s = _inset_box(sharp, result.image_rows)
    titles = [f"blurry  registered {result.psnr_blurry_registered:.2f} dB / {result.ssim_blurry_registered:.3f}\n"
              f"(as captured {result.psnr_blurry:.2f} dB / {result.ssim_blurry:.3f})",
              f"restored  registered {result.psnr_restored_registered:.2f} dB / "
              f"{result.ssim_restored_registered:.3f}\n(as captured {result.psnr_restored:.2f} dB / "
              f"{result.ssim_restored:.3f})",
              "sharp (reference)"]
    height, width = sharp.shape[:2]
    columns = 3 + (moved is not None)
    fig, axes = plt.subplots(2, columns, figsize=(5 * columns, 10), gridspec_kw={"height_ratios": [height / width, 1]},
                             layout="constrained")
    if moved is not None:
        _draw_field(axes[0, 3], moved, result.image_rows)
        axes[0, 3].set_title("measured displacement, blurry vs sharp capture\n(tiles too plain to register: orange)",
                             fontsize=11)
        axes[1, 3].axis("off")
        axes[1, 3].text(0.0, 0.9, result.registration_text().replace("; ", ";\n"), fontsize=10, va="top", wrap=True)
    for col, (img, title) in enumerate(zip((blurry, restored, sharp), titles)):
        ax = axes[0, col]
        ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.add_patch(Rectangle((x, y), s, s, fill=False, edgecolor="red", linewidth=1.5))
        ax.set_title(title, fontsize=12)
        axes[1, col].imshow(img[y:y + s, x:x + s], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes[1, col].set_title(f"zoom: rows {y}..{y + s - 1}, cols {x}..{x + s - 1}", fontsize=10)
        for ax in axes[:, col]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(
        f"MIDNet ({result.model}) on {result.group} (not trained on: the validation image).\n"
        f"PSNR / SSIM on the image area (rows 0..{result.image_rows - 1}, 8-bit), registered by the displacement field "
        f"measured between the two captures, and as captured; the data bar is passed through.",
        fontsize=11,
    )
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"), overwrite=True)
    finally:
        plt.close(fig)
