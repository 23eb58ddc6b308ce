"""bioimage.io model package (spec 0.5) for Fiji/deepImageJ, ilastik and napari, via bioimageio.spec.

What a consumer needs to run the model correctly is in the ``rdf.yaml``, not in prose:

- axes ``batch, channel, y, x``; tile sizes ``min + n * step`` with ``step`` the network's
  2**levels grid, so no consumer tile needs internal padding;
- preprocessing: the integer image scaled to [0, 1] by its bit depth (``ensure_dtype`` to
  float32, then ``scale_linear`` by 1 / (2**bits - 1)), exactly as `midnet deblur` does;
- the output ``halo``: the border of every tile that a consumer should discard when it
  stitches tiles, the same margin `midnet deblur`'s tiler blends away;
- test tensors (a real crop of the demo frame and the PyTorch result), which
  ``bioimageio.core`` runs through every weight format;
- weights as ``pytorch_state_dict`` (architecture imported from the ``midnet`` library),
  ``torchscript`` (what deepImageJ runs) and ``onnx``.

The microscope's data bar is not handled inside the package (a consumer feeds image areas);
the model card says so.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from midnet import __version__
from midnet.io.atomic import atomic_write

#: pixels at each border of an output tile that depend on the tile's edge; `midnet deblur`
#: blends an overlap of 64 px between tiles, i.e. 32 px on each side
HALO = 32
#: smallest tile a consumer may use (must exceed the halo on both sides)
MIN_TILE = 128
#: side of the test input: a crop of the demo frame
TEST_SIZE = 256
#: citations (the MIDNet paper by its code repository, which links the article; NAFNet by DOI)
CITATIONS = (
    ("Wang J., Li Z., Shi P., Yu H., Sun D. MIDNet: Deblurring Network for Material Microstructure "
     "Images. Computers, Materials & Continua, 2024.", None, "https://github.com/woshigui/MIDNet"),
    ("Chen L., Chu X., Zhang X., Sun J. Simple Baselines for Image Restoration (NAFNet). "
     "European Conference on Computer Vision (ECCV), 2022, pp. 17-33.", "10.1007/978-3-031-20071-7_2", None),
)
TAGS = ["deblurring", "image-restoration", "electron-microscopy", "scanning-electron-microscopy",
        "materials-science", "2d", "pytorch", "onnx", "torchscript", "nafnet", "midnet"]


def _grid(model: nn.Module) -> int:
    """Tile step: the network's padding multiple, as `midnet deblur`'s tiler uses it."""
    from midnet.inference.tiling import model_alignment

    return model_alignment(model)


def restore_test_tensor(model: nn.Module, image: np.ndarray, bit_depth: int) -> np.ndarray:
    """The package's expected output: preprocessing, the network, postprocessing (clip to [0, 1])."""
    x = torch.from_numpy(image.astype(np.float32) / float(2 ** bit_depth - 1))
    with torch.no_grad():
        y = model.eval().cpu()(x)
    return np.clip(y.numpy(), 0.0, 1.0).astype(np.float32)


def _cover(blurry: np.ndarray, restored: np.ndarray, path: Path) -> None:
    """blurry | restored side by side (2:1, as the model zoo's cards show covers)."""
    from PIL import Image, ImageDraw

    left = blurry.astype(np.float32) / float(np.iinfo(blurry.dtype).max)
    pair = np.concatenate([left, np.clip(restored, 0, 1)], axis=1)
    image = Image.fromarray(np.rint(pair * 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(image)
    width = blurry.shape[1]
    draw.line([(width, 0), (width, image.height)], fill=(255, 255, 0), width=2)
    for x, text in ((6, "blurry"), (width + 6, "restored")):
        draw.rectangle([x - 2, 4, x + 8 * len(text) + 4, 20], fill=(0, 0, 0))
        draw.text((x, 6), text, fill=(255, 255, 0))
    image.save(path)


def model_card(name: str, model: nn.Module, bit_depth: int, grid: int) -> str:
    """The package's documentation (README.md): what the model is, its input, how to run it."""
    from midnet.inference.deblurrer import model_in_channels

    params = sum(p.numel() for p in model.parameters())
    arch = getattr(model, "midnet_name", type(model).__name__)
    config = getattr(model, "midnet_config", {})
    return f"""# {name}: deblurring SEM images of material microstructures

Exported by midnet {__version__} from its model `{name}` (`midnet export --format bioimageio`).

## What it does
Restores defocus-blurred scanning-electron-microscope (SEM) images of material
microstructures. Network: `{arch}` ({type(model).__name__}: a NAFNet U-Net with attention
gates on its skip connections, as in the MIDNet paper), {params:,} parameters,
{model_in_channels(model)} (grey) input channel. Options: `{config}`.

## Input and output
- Input `input`: axes batch, channel, y, x; a {bit_depth}-bit greyscale image. Preprocessing scales
  it by its bit depth to [0, 1] (divide by {2 ** bit_depth - 1}).
- Output `output`: the restored image, float32 in [0, 1] (clipped), same size as the input.
- Tiles: any size {MIN_TILE} + n x {grid} px; discard a halo of {HALO} px at each tile border
  when stitching (the consumer does this from `rdf.yaml`).

## Limits
- Trained on SEM images; not meant for light microscopy or photographs.
- The microscope's data bar (the info band at the bottom of many SEM images) is not an image:
  crop it off before running the model, or use `midnet deblur`, which passes it through unchanged.
- 16-bit detectors with 12- or 14-bit data should be rescaled to their real range first.

## Use it
- **Fiji**: install deepImageJ, then *Plugins > deepImageJ > deepImageJ Run*, choose this
  package (install from the zip), and run it on an 8-bit image. deepImageJ runs the TorchScript weights.
- **napari**: `pip install midnet[napari]` gives the midnet widget; or run this package with
  the bioimage.io tools (`bioimageio predict`).
- **Python**: `bioimageio.core` runs the package; `midnet deblur` runs midnet's models on whole
  files, with tiling, the data bar passed through and the vendor metadata kept.

## Validation
The package's test input is a {TEST_SIZE} x {TEST_SIZE} crop of a real blurry SEM frame (source
image 7-1 of the published MIDNet pairs, which the bundled model did not train on) and its test
output is the PyTorch result; `bioimageio.core`'s test reproduces it with every weight format.
Restoration quality is reported in midnet's model cards (`docs/models/`).

## Citations
- {CITATIONS[0][0]}
- {CITATIONS[1][0]} doi:{CITATIONS[1][1]}

## Licence
MIT (the midnet code and the exported weights).
"""


def build_description(model: nn.Module, folder: Path, *, name: str, bit_depth: int = 8):
    """Write the package's files into ``folder`` and return its validated ``ModelDescr``."""
    from bioimageio.spec.model import v0_5 as spec

    from midnet.export.onnx import export_onnx, onnx_opset
    from midnet.export.torchscript import export_torchscript
    from midnet.inference.deblurrer import model_in_channels
    from midnet.evaluation.demo_frame import demo_crop

    if bit_depth not in (8, 16):
        raise ValueError(f"bit depth {bit_depth} is not supported; choose 8 or 16")
    if model_in_channels(model) != 1:
        raise ValueError("bioimage.io export supports 1-channel (grey) models; this one has "
                         f"{model_in_channels(model)} channels")
    model = model.eval().cpu()
    grid = _grid(model)
    dtype = np.uint8 if bit_depth == 8 else np.uint16

    crop = demo_crop(TEST_SIZE)
    if bit_depth == 16:
        crop = crop.astype(np.uint16) * 257  # the same image on the full 16-bit scale
    test_input = crop.astype(dtype)[None, None]
    test_output = restore_test_tensor(model, test_input, bit_depth)
    np.save(folder / "test_input.npy", test_input)
    np.save(folder / "test_output.npy", test_output)
    _cover(crop, test_output[0, 0], folder / "cover.png")
    (folder / "README.md").write_text(model_card(name, model, bit_depth, grid), encoding="utf-8")

    torch.save(model.state_dict(), folder / "weights_state_dict.pt")
    export_torchscript(model, folder / "weights_torchscript.pt")
    export_onnx(model, folder / "weights.onnx")
    torch_version = spec.Version(torch.__version__.split("+")[0])
    config = dict(getattr(model, "midnet_config", {}))
    if not config:
        raise ValueError("the model does not record its architecture options (midnet_config); "
                         "load it with midnet.models.load_model or Deblurrer.from_pretrained")

    channel = spec.ChannelAxis(channel_names=[spec.Identifier("grey")])
    input_axes = [spec.BatchAxis(), channel,
                  spec.SpaceInputAxis(id=spec.AxisId("y"), size=spec.ParameterizedSize(min=MIN_TILE, step=grid)),
                  spec.SpaceInputAxis(id=spec.AxisId("x"), size=spec.ParameterizedSize(min=MIN_TILE, step=grid))]
    input_id = spec.TensorId("input")
    output_axes = [spec.BatchAxis(), spec.ChannelAxis(channel_names=[spec.Identifier("grey")]),
                   *(spec.SpaceOutputAxisWithHalo(id=spec.AxisId(a), halo=HALO,
                                                  size=spec.SizeReference(tensor_id=input_id, axis_id=spec.AxisId(a)))
                     for a in ("y", "x"))]
    full = float(2 ** bit_depth - 1)
    inputs = [spec.InputTensorDescr(
        id=input_id, axes=input_axes,
        description=f"{bit_depth}-bit greyscale SEM image (image area, without the data bar)",
        test_tensor=spec.FileDescr(source=folder / "test_input.npy"),
        # ``data`` is the tensor the network sees, after preprocessing (spec 0.5)
        data=spec.IntervalOrRatioDataDescr(type="float32", range=(0.0, 1.0)),
        preprocessing=[spec.EnsureDtypeDescr(kwargs=spec.EnsureDtypeKwargs(dtype="float32")),
                       spec.ScaleLinearDescr(kwargs=spec.ScaleLinearKwargs(gain=1.0 / full, offset=0.0))])]
    outputs = [spec.OutputTensorDescr(
        id=spec.TensorId("output"), axes=output_axes, description="restored image in [0, 1]",
        test_tensor=spec.FileDescr(source=folder / "test_output.npy"),
        data=spec.IntervalOrRatioDataDescr(type="float32", range=(0.0, 1.0)),
        postprocessing=[spec.ClipDescr(kwargs=spec.ClipKwargs(min=0.0, max=1.0))])]
    weights = spec.WeightsDescr(
        pytorch_state_dict=spec.PytorchStateDictWeightsDescr(
            source=folder / "weights_state_dict.pt", pytorch_version=torch_version,
            architecture=spec.ArchitectureFromLibraryDescr(
                import_from=type(model).__module__, callable=spec.Identifier(type(model).__name__),
                kwargs=config)),
        torchscript=spec.TorchscriptWeightsDescr(
            source=folder / "weights_torchscript.pt", pytorch_version=torch_version,
            parent="pytorch_state_dict"),
        onnx=spec.OnnxWeightsDescr(
            source=folder / "weights.onnx", opset_version=onnx_opset(folder / "weights.onnx"),
            parent="pytorch_state_dict"),
    )
    return spec.ModelDescr(
        name=f"MIDNet SEM deblurring {name}",
        description="Restores defocus-blurred SEM images of material microstructures (MIDNet: "
                    "NAFNet with attention gates).",
        authors=[spec.Author(name="midnet contributors")],
        cite=[spec.CiteEntry(text=text, doi=spec.Doi(doi) if doi else None,
                             url=spec.HttpUrl(url) if url else None) for text, doi, url in CITATIONS],
        license=spec.LicenseId("MIT"),
        documentation=spec.FileDescr(source=folder / "README.md"),
        covers=[spec.FileDescr(source=folder / "cover.png")],
        tags=TAGS,
        version=spec.Version(__version__),
        inputs=inputs,
        outputs=outputs,
        weights=weights,
    )


def export_bioimageio(model: nn.Module, path: str | Path, *, name: str, bit_depth: int = 8,
                      overwrite: bool = False) -> Path:
    """Write the bioimage.io package of ``model`` as a zip file at ``path`` (atomically)."""
    from bioimageio.spec import save_bioimageio_package

    path = Path(path)
    if path.suffix.lower() != ".zip":
        raise ValueError(f"{path}: a bioimage.io package is a .zip file; use --out NAME.zip")
    with tempfile.TemporaryDirectory(prefix="midnet-bioimageio-") as tmp:
        descr = build_description(model, Path(tmp), name=name, bit_depth=bit_depth)
        return atomic_write(path, lambda out: save_bioimageio_package(descr, output_path=out),
                            overwrite=overwrite)


def check_package(path: str | Path) -> tuple[bool, str]:
    """Run ``bioimageio.core``'s own model test on a package: (passed, failures one per line)."""
    from bioimageio.core import test_model

    summary = test_model(str(path))
    failures = [f"{detail.name}: {'; '.join(str(e.msg) for e in detail.errors)}"
                for detail in summary.details if detail.status == "failed"]
    return summary.status == "passed", "\n".join(failures)
