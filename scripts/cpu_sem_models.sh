#!/usr/bin/env bash
# How the shipped sem-general and sem-jeol-alloy weights were made on a 2-core CPU (no GPU was
# available to that session; scripts/gpu_sem_general.sh is the GPU-scale recipe). Each run is
# time-budgeted: the cosine schedule ends as the budget does (train.max_time_min).
#   bash scripts/cpu_sem_models.sh CORPUS FRAMES OUT [GENERAL_MIN] [ALLOY_MIN]
#   e.g. bash scripts/cpu_sem_models.sh ../shared/data/sem-sharp-corpus $MIDNET_DATA/frames runs 50 12
set -euo pipefail
CORPUS=$1; FRAMES=$2; OUT=$3; GENERAL=${4:-50}; ALLOY=${5:-12}
cpu=(--set train.accelerator=cpu --set train.precision=32-true --set data.crop_size=128
     --set data.batch_size=8 --set data.num_workers=1 --set synthetic.val_crop=256
     --set train.max_steps=100000 --set train.progress_bar=false)
# sem-general: starts from the earlier bundled alloy model (midnet-tiny) to save CPU time
midnet train --config sem-general "${cpu[@]}" --set data.root="$FRAMES" --set synthetic.corpus="$CORPUS" \
  --set model.name=midnet-tiny --set model.checkpoint=src/midnet/weights/midnet-sem-default.safetensors \
  --set train.max_time_min="$GENERAL" --set train.val_every=500 --out "$OUT/sem-general-cpu"
# sem-jeol-alloy: sem-general fine-tuned on the real pairs (a quarter of the samples stay synthetic)
midnet train --config sem-jeol-alloy "${cpu[@]}" --set data.root="$FRAMES" --set synthetic.corpus="$CORPUS" \
  --set model.name=midnet-tiny --set model.checkpoint="$OUT/sem-general-cpu/best.safetensors" \
  --set train.max_time_min="$ALLOY" --set train.val_every=250 --out "$OUT/sem-jeol-alloy-cpu"
