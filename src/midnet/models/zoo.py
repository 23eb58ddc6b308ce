"""Built-in model names. Importing this module registers them.

Costs at 1 channel, 256x256 input, are measured by ``benchmarks/model_costs.py``.
"""

from __future__ import annotations

from midnet.models.nafnet import MIDNet, NAFNet
from midnet.models.psf_aware import PSFAwareMIDNet
from midnet.models.registry import register

_GOPRO = dict(middle_blk_num=1, enc_blk_nums=[1, 1, 1, 28], dec_blk_nums=[1, 1, 1, 1])
_SIDD = dict(middle_blk_num=12, enc_blk_nums=[2, 2, 4, 8], dec_blk_nums=[2, 2, 2, 2])
_SIZES = {
    # name suffix: (kwargs, description)
    "width32": (dict(width=32, **_GOPRO), "NAFNet GoPro width 32 (the paper's base network)"),
    "width64": (dict(width=64, **_GOPRO), "NAFNet GoPro/REDS width 64"),
    "sidd-width32": (dict(width=32, **_SIDD), "NAFNet SIDD width 32 (denoising layout)"),
    "sidd-width64": (dict(width=64, **_SIDD), "NAFNet SIDD width 64 (denoising layout)"),
    "compact": (dict(width=24, middle_blk_num=1, enc_blk_nums=[1, 1, 2, 6], dec_blk_nums=[1, 1, 1, 1]),
                "CPU-sized: width 24, encoder [1,1,2,6]"),
    "small": (dict(width=16, middle_blk_num=1, enc_blk_nums=[1, 1, 1, 4], dec_blk_nums=[1, 1, 1, 1]),
              "CPU-sized: width 16, encoder [1,1,1,4]"),
    "tiny": (dict(width=8, middle_blk_num=1, enc_blk_nums=[1, 1, 1, 1], dec_blk_nums=[1, 1, 1, 1]),
             "for tests and smoke runs: width 8, one block per level"),
}

for suffix, (kwargs, desc) in _SIZES.items():
    # four encoder levels: NAFNet pads inputs to 2**4 (its padder_size)
    register(f"nafnet-{suffix}", NAFNet, defaults=dict(kwargs, drop_out_rate=0.0), description=desc, family="nafnet",
             first_conv="intro", last_conv="ending", size_multiple=16)
    midnet_name = "midnet-paper" if suffix == "width32" else f"midnet-{suffix}"
    register(midnet_name, MIDNet, defaults=dict(kwargs, drop_out_rate=0.0, gate_channels=1.0),
             description=desc.replace("NAFNet", "MIDNet = NAFNet + attention gates,"), family="midnet",
             first_conv="intro", last_conv="ending", optional_missing=("gates.",), size_multiple=16)


# PSF-aware MIDNet (midnet.models.psf_aware): told the PSF and the noise, it refines Wiener
# deconvolutions with a MIDNet of the named size. No first/last conv to adapt: its input channels
# are the image, the Wiener estimates and two constant maps, its output one residual.
for suffix in ("tiny", "small"):
    kwargs, desc = _SIZES[suffix]
    register(f"midnet-psf-{suffix}", PSFAwareMIDNet,
             defaults=dict(kwargs, drop_out_rate=0.0, gate_channels=1.0, strengths=[15.0, 60.0, 240.0],
                           kernel_radius=32),
             description="PSF-aware: Wiener deconvolutions with the given PSF refined by MIDNet, "
                         + desc.split(": ", 1)[-1],
             family="midnet-psf", optional_missing=("backbone.gates.",), size_multiple=16)
