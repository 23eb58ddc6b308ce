"""Write a compact copy of the sem-general training data, e.g. to send to a remote GPU machine.

JPEG files are copied byte for byte (their bar rows stay in the inventory).

Each corpus image becomes an 8-bit grey PNG with its data bar already cut off (so the copy's
inventory lists 0 bar rows), exactly what `midnet.data.corpus.load_corpus` would hand to
training (16-bit sources are stretched by their quantiles first, as there). The real frame
pairs are copied as they are.

    python scripts/pack_training_data.py --corpus ../shared/data/sem-sharp-corpus \
        --frames $MIDNET_DATA/frames --out .devdata
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from midnet.data.corpus import load_corpus, read_inventory


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--frames", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--skip-sources", nargs="*", default=[], help="sources to leave out of the copy")
    args = ap.parse_args()
    corpus_out = args.out / "corpus"
    if corpus_out.exists():
        shutil.rmtree(corpus_out)
    bars = read_inventory(args.corpus / "inventory.tsv")
    rows = ["relative_path\tdatabar_rows"]
    for im in load_corpus(args.corpus, exclude_sources=args.skip_sources):
        src = Path(im.name)
        if src.suffix.lower() in (".jpg", ".jpeg"):  # re-encoding would add loss: copy the bytes
            (corpus_out / src).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.corpus / src, corpus_out / src)
            rows.append(f"{src.as_posix()}\t{bars.get(src.as_posix(), 0)}")
            continue
        rel = src.with_suffix(".png")
        dest = corpus_out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.rint(im.image * 255).astype(np.uint8)).save(dest, optimize=True)
        rows.append(f"{rel.as_posix()}\t0")
    (corpus_out / "inventory.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    if (args.out / "frames").exists():
        shutil.rmtree(args.out / "frames")
    shutil.copytree(args.frames, args.out / "frames")
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{len(rows) - 1} corpus images and the frames written to {args.out} ({total / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
