#!/usr/bin/env bash
# The learned blur estimator (midnet.psf.learned, issue 18 section 1), trained on one CPU core on
# the non-held-out corpus sources; writes src/midnet/weights/psf-estimator.safetensors.
# Usage: scripts/train_psf_estimator.sh [MINUTES=25] [STEPS=6000] [OUT=src/midnet/weights/psf-estimator.safetensors]
set -euo pipefail
MINUTES=${1:-25}
STEPS=${2:-6000}
OUT=${3:-src/midnet/weights/psf-estimator.safetensors}
CORPUS=${MIDNET_CORPUS:-../shared/data/sem-sharp-corpus}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
${PYTHON:-python} - "$CORPUS" "$OUT" "$MINUTES" "$STEPS" <<'PY'
import sys
from midnet.benchmark.heldout import HELD_OUT_SOURCES
from midnet.data.corpus import load_corpus
from midnet.training.blur_estimator import train
corpus, out, minutes, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
images = [im for im in load_corpus(corpus, exclude_sources=HELD_OUT_SOURCES) if min(im.image.shape) >= 64]
print(f"{len(images)} images from {len({im.source for im in images})} non-held-out sources", flush=True)
train(images, out, steps=steps, minutes=minutes)
PY
