#!/usr/bin/env bash
# The PSF-aware model (midnet-psf-tiny, config sem-psf) trained on this CPU, in stages that each
# start from the last one's weights with a fresh cosine schedule. Issue 18.
#   stage 1 (17 min, 2 cores): the shipped sem-psf-preview, checkpoints/sem-psf-cpu-tiny.safetensors
#   stage 2 (below): from stage 1, lr 5e-4, one thread (the other core stays free for other work)
# Usage: scripts/cpu_psf_model.sh [OUT=runs] [MINUTES=100] [THREADS=1]
set -euo pipefail
OUT=${1:-runs}
MINUTES=${2:-100}
THREADS=${3:-1}
CORPUS=${MIDNET_CORPUS:-../shared/data/sem-sharp-corpus}
MIDNET=${MIDNET:-midnet}
export OMP_NUM_THREADS=$THREADS
[ -f "$OUT/sem-psf-cpu2/best.safetensors" ] ||
$MIDNET train --config sem-psf --set synthetic.corpus="$CORPUS" \
  --set model.checkpoint=checkpoints/sem-psf-cpu-tiny.safetensors --set optim.lr=5e-4 \
  --set train.max_steps=12000 --set train.max_time_min="$MINUTES" --set train.val_every=0 \
  --set data.num_workers=0 --out "$OUT/sem-psf-cpu2"
