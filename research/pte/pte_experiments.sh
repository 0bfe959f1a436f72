#!/usr/bin/env bash
# The PtE experiments, end to end, on a 2-core CPU: bidirectional user/item profiles
# (round 0 + R refinement rounds, C candidates selected group-relatively) with the bundled
# SmolLM2, then SASRec and DreamRec ID-only, with PtE, the ablations (user-only, item-only,
# single pass, no GRPO selection) and a random-vector control, overall and per slice
# (cold-start users, long-tail items, long-tail users). Profiling resumes from its parts.
# Usage: bash research/pte/pte_experiments.sh [RUNS_DIR]
#   ROUNDS / CANDIDATES override the profiling defaults; DATASETS="beauty" runs one dataset.
set -euo pipefail
R=${1:-runs/pte}
P=.venv/bin/profilerec
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
DATASETS=${DATASETS:-"beauty gift_cards"}
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

stamp data
[ -f "$R/data/beauty/manifest.json" ] || $P prepare --demo --out "$R/data/beauty"
[ -f "$R/data/gift_cards/manifest.json" ] || $P prepare ../shared/data/amazon2018_gift_cards_5core --format amazon2018 --out "$R/data/gift_cards"

for d in $DATASETS; do
  stamp "pte-profiles $d"
  $P pte-profiles "$R/data/$d" --out "$R/profiles/$d" --rounds "${ROUNDS:-1}" --candidates "${CANDIDATES:-3}" --batch-size 16
  stamp "train pte $d"
  $P train "$R/data/$d" --method pte --profiles "$R/profiles/$d" --backbone sasrec --backbone dreamrec --out "$R/train/$d"
  $P report "$R/train/$d" --dataset "$R/data/$d"
  $P compare "$R/train/$d" --slices
done
stamp done
