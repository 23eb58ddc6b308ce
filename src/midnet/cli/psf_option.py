"""``--psf auto|SPEC|none`` and ``--psf-map`` of `midnet deblur`: the options, their checks and
the line printed per file.

Kept apart from `midnet.cli.deblur` so that the batch machinery there stays about files; this
module is what the PSF-aware model (issue 18) adds to the command. The spec is checked when the
option is parsed, before any model loads: a bad one is a usage error (exit 2) naming the
accepted syntax.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

F = Callable[..., Any]


def parse_psf_option(_ctx: click.Context | None, _param: click.Parameter | None, value: str | None) -> str | None:
    """``--psf``: None when not given, else the spec in lower case, checked."""
    if value is None:
        return None
    from midnet.inference.psf_choice import parse_psf

    try:
        parse_psf(value)
    except ValueError as exc:
        raise click.BadParameter(" ".join(str(exc).split())) from None
    return value.strip().lower()


def psf_options() -> Callable[[F], F]:
    """The three options, in this order: ``psf`` (str | None), ``psf_map`` (bool) and ``noise``
    (float | None)."""
    psf = click.option(
        "--psf", "psf", default=None, metavar="auto|SPEC|none", callback=parse_psf_option,
        help="Tell the PSF-aware model the blur: auto (estimate it per file), a spec such as gaussian:2.0, "
             "astigmatic:2.5,1.2,30, lorentzian:1.5, disc:3, or none (denoise only). Without --model it "
             "uses sem-psf-preview.")
    psf_map = click.option(
        "--psf-map", is_flag=True,
        help="Estimate the PSF per tile and restore each tile with its own (blur that varies across the "
             "image); implies --psf auto.")

    noise = click.option(
        "--noise", "noise", type=click.FloatRange(min=0), default=None, metavar="SIGMA",
        help="Tell the PSF-aware model the noise: σ at mid-grey in grey levels of the file's range (what "
             "midnet estimate prints as noise); default: estimated per file. Use it when fine texture "
             "reads as noise.")

    def apply(f: F) -> F:
        return psf(psf_map(noise(f)))
    return apply


def check_psf_options(psf: str | None, psf_map: bool) -> str | None:
    """Why the two cannot go together (one line), or None."""
    if psf_map and psf not in (None, "auto"):
        return f"--psf-map estimates a PSF per tile; it cannot be combined with --psf {psf} (use --psf auto)"
    return None


def blind_model_note(model_name: str, psf: str | None, psf_map: bool, psf_aware: bool) -> str | None:
    """The note for ``--psf auto`` with a blind model (the only PSF such a model accepts)."""
    if (psf or psf_map) and not psf_aware:
        from midnet.models import PSF_MODEL

        return (f"note: {model_name} is a blind model; --psf auto changes nothing "
                f"(the PSF-aware model: --model {PSF_MODEL})")
    return None


def psf_lines(src: Path, restored: Any) -> list[str]:
    """``FILE: PSF gaussian σ 2.1 px (estimated)`` for a restored image (one line per page of a stack)."""
    from midnet.inference.deblurrer import PSF_METADATA

    used = restored.metadata.get(PSF_METADATA) or []
    if len(used) == 1:
        return [f"{src}: {used[0].describe()}"] if used[0] is not None else []
    return [f"{src} page {i + 1}/{len(used)}: {u.describe()}" for i, u in enumerate(used) if u is not None]
