#!/usr/bin/env bash
# Table 2 under both test protocols of issue 19 (docs/results/protocols-cpu): the paper's random
# crop split and the by-source split, same crops, same test-set size, same budget. Sequential,
# because the two protocols would only share the same 2 cores. Resumable: rerun it, and finished
# training runs are reused (--resume), interrupted ones continue from their last checkpoint, and
# only the scoring is redone (how the registered columns were added after training).
#   bash scripts/protocols_cpu.sh [DATA] [OUT]
set -euo pipefail
DATA=${1:-../shared/data/midnet-sem}; OUT=${2:-docs/results/protocols-cpu}
for protocol in paper by-source; do
  midnet benchmark --config protocols-cpu --protocol "$protocol" --data "$DATA" --out "$OUT/$protocol" --resume
done
python scripts/protocols_table.py "$OUT"
