#!/usr/bin/env bash
# Train sem-general at three sizes side by side on one GPU at equal wall time, then fine-tune
# each into sem-jeol-alloy; what the shipped models were made with (docs/models/).
#   bash scripts/gpu_sem_general.sh DATA OUT SWEEP_MIN FINETUNE_MIN
# DATA holds corpus/ and frames/ (scripts/pack_training_data.py); OUT receives runs/ and logs.
# Runs on a machine whose python3 has torch, lightning and the package's other needs; the
# package is used from src/ without installing it.
set -u
DATA=$1; OUT=$2; SWEEP=${3:-12}; FT=${4:-2.5}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
midnet() { "${PYTHON:-python3}" -c 'from midnet.cli.main import cli; cli()' "$@"; }
mkdir -p "$OUT"
common=(--set data.root="$DATA/frames" --set synthetic.corpus="$DATA/corpus"
        --set 'synthetic.val_sources=[dvtxc-fibresem, kleinerELM-denoise_tester]'
        --set train.progress_bar=false --set train.accelerator=gpu --set train.val_every=1000)
for size in tiny small compact; do
  midnet train --config sem-general "${common[@]}" --set model.name=midnet-$size \
    --set train.max_steps=1000000 --set train.max_time_min=$SWEEP --set data.num_workers=4 \
    --out "$OUT/runs/sem-general-$size" > "$OUT/sem-general-$size.log" 2>&1 &
done
wait
for size in tiny small compact; do
  midnet train --config sem-jeol-alloy "${common[@]}" --set model.name=midnet-$size \
    --set model.checkpoint="$OUT/runs/sem-general-$size/best.safetensors" \
    --set train.max_steps=1000000 --set train.max_time_min=$FT --set train.val_every=500 \
    --set data.num_workers=4 --out "$OUT/runs/sem-jeol-alloy-$size" > "$OUT/sem-jeol-alloy-$size.log" 2>&1 &
done
wait
echo done > "$OUT/DONE"
