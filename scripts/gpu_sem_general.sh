#!/usr/bin/env bash
# Train sem-general on one GPU at equal wall time, two ways side by side, fine-tune each into
# sem-jeol-alloy, then time the GPU path; sized for one bounded device call:
#   * midnet-small (1.5 M parameters) from scratch, the config's recipe (batch 32, crop 256);
#   * midnet-tiny (the shipped architecture) continued from the shipped sem-general weights at
#     a lower learning rate (a fresh cosine).
#     bash scripts/gpu_sem_general.sh DATA OUT TRAIN_MIN FINETUNE_MIN
# DATA holds corpus/ and frames/ (scripts/pack_training_data.py); OUT receives the exported
# weights (<run>.safetensors) and logs.tar.gz (each run's log, config, split and metrics, and
# the timing benchmarks' output). Runs on a machine whose python3 has torch, lightning and the
# package's other needs; the package is used from src/ without installing it. Every step has
# its own time limit, so one failing step never costs the others' results.
set -u
DATA=$1; OUT=$2; TRAIN=${3:-4}; FT=${4:-0.5}
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
PY=${PYTHON:-python3}
midnet=("$PY" -c 'from midnet.cli.main import cli; cli()')  # a command timeout can run
limit() { "$PY" -c "print(int($1 * 60 + 120))"; }  # minutes of training -> seconds allowed
ACCEL=${ACCEL:-gpu}; DEVICE=${DEVICE:-cuda}  # ACCEL=cpu DEVICE=cpu: a dry run of the script
read -r -a extra <<< "${EXTRA:-}"  # more --set options for every run (a dry run's small crops)
runs=$OUT/runs; mkdir -p "$runs"
common=(--set data.root="$DATA/frames" --set synthetic.corpus="$DATA/corpus"
        --set train.progress_bar=false --set train.accelerator="$ACCEL" --set data.num_workers=6
        --set train.max_steps=1000000 --set train.compile=false  # eager: no compile time to pay
        --set 'synthetic.val_sources=[dvtxc-fibresem, kleinerELM-denoise_tester]' "${extra[@]}")
# (pack_training_data.py leaves vyastreb-sem2surface out to keep the copy small: it is still
# held out, by absence, and scored afterwards by python -m midnet.benchmark.heldout)
start=$(date +%s)
timeout "$(limit "$TRAIN")" "${midnet[@]}" train --config sem-general "${common[@]}" --set model.name=midnet-small \
  --set train.max_time_min="$TRAIN" --set train.val_every=1000 \
  --out "$runs/sem-general-small" > "$runs/sem-general-small.log" 2>&1 &
timeout "$(limit "$TRAIN")" "${midnet[@]}" train --config sem-general "${common[@]}" --set model.name=midnet-tiny \
  --set model.checkpoint=src/midnet/weights/sem-general.safetensors --set optim.lr=3e-4 \
  --set train.max_time_min="$TRAIN" --set train.val_every=1000 \
  --out "$runs/sem-general-tiny" > "$runs/sem-general-tiny.log" 2>&1 &
wait
echo "sem-general runs ended after $(( $(date +%s) - start )) s" | tee -a "$runs/timeline.txt"
for size in small tiny; do
  [ -f "$runs/sem-general-$size/best.safetensors" ] || continue
  timeout "$(limit "$FT")" "${midnet[@]}" train --config sem-jeol-alloy "${common[@]}" --set model.name=midnet-$size \
    --set model.checkpoint="$runs/sem-general-$size/best.safetensors" \
    --set train.max_time_min="$FT" --set train.val_every=500 \
    --out "$runs/sem-jeol-alloy-$size" > "$runs/sem-jeol-alloy-$size.log" 2>&1 &
done
wait
echo "fine-tunes ended after $(( $(date +%s) - start )) s" | tee -a "$runs/timeline.txt"
for run in sem-general-small sem-general-tiny sem-jeol-alloy-small sem-jeol-alloy-tiny; do
  [ -f "$runs/$run/best.safetensors" ] && cp "$runs/$run/best.safetensors" "$OUT/$run.safetensors"
done
pack() { (cd "$runs" && tar czf "$OUT/logs.tar.gz" --exclude='*.ckpt' --exclude='*.safetensors' --exclude=tensorboard .); }
pack  # again at the end: the training logs come back even if a timing step runs out of time
# the GPU path: Deblurrer (bf16 autocast, channels_last) against a naive fp32 forward; training
# steps per second of midnet-small at the GPU recipe's batch and crop
timeout 80 "$PY" benchmarks/inference_throughput.py --part speed --device "$DEVICE" --rounds 3 \
  --json "$runs/gpu-inference.json" > "$runs/gpu-inference.txt" 2>&1
timeout 110 "$PY" benchmarks/train_variants.py --device "$DEVICE" --models midnet-small --batch 32 --crop 256 \
  --variants eager bf16 compiled+bf16 --steps 10 --rounds 3 > "$runs/gpu-train.txt" 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$runs/gpu.txt" 2>&1
echo "all ended after $(( $(date +%s) - start )) s" | tee -a "$runs/timeline.txt"
pack
