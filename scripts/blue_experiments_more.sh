#!/usr/bin/env bash
# The trainable-embedder condition of BLUE (after scripts/blue_experiments.sh, same RUNS_DIR):
# MNRL fine-tuning of the embedder between GRPO rounds; the profiles are then embedded with
# the tuned embedder. Resumable like the main script.
# Usage: bash scripts/blue_experiments_more.sh [RUNS_DIR]
set -euo pipefail
R=${1:-runs/exp}
P=.venv/bin/profilerec
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
CFG=${CFG:-examples/blue_all_beauty.yaml}
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

stamp "train blue (trainable embedder)"
$P train "$R/data/beauty" --method blue --config "$CFG" --out "$R/train/blue_trainable" \
  --set trainable_embedder=true --set embedder_every=10 --set embedder_examples=128
stamp "profile beauty blue_trainable"
$P profile "$R/data/beauty" --method blue_trainable --out "$R/profiles/beauty/blue_trainable" \
  --max-new-tokens 48 --batch-size 16 --adapter "$R/train/blue_trainable/adapter"
stamp "evaluate beauty with the tuned embedder"
$P evaluate "$R/data/beauty" --out "$R/eval/beauty_trainable" --reference zero_shot \
  --embedder "sentence-transformers:$R/train/blue_trainable/embedder" \
  --profiles zero_shot="$R/profiles/beauty/zero_shot" --profiles blue="$R/profiles/beauty/blue" \
  --profiles blue_trainable="$R/profiles/beauty/blue_trainable"
stamp done
