#!/usr/bin/env bash
# The second half of the BLUE experiments (after scripts/blue_experiments.sh, same RUNS_DIR):
# the user-disjoint split (profiler trained on some users, every position of unseen users
# evaluated) and the trainable-embedder condition. Resumable like the first half.
# Usage: bash scripts/blue_experiments_more.sh [RUNS_DIR]
set -euo pipefail
R=${1:-runs/exp}
P=.venv/bin/profilerec
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
CFG=${CFG:-examples/blue_all_beauty.yaml}
TOK=48
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

# user-disjoint: train on the training users only, profile every test position of unseen users
stamp "train blue (user-disjoint)"
$P train "$R/data/beauty_ud" --method blue --config "$CFG" --out "$R/train/blue_ud"
for m in zero_shot blue; do
  extra=()
  [ "$m" = blue ] && extra=(--adapter "$R/train/blue_ud")
  stamp "profile beauty_ud $m"
  $P profile "$R/data/beauty_ud" --method "$m" --out "$R/profiles/beauty_ud/$m" --max-new-tokens $TOK --batch-size 32 "${extra[@]}"
done
stamp "evaluate beauty_ud"
$P evaluate "$R/data/beauty_ud" --out "$R/eval/beauty_ud" --reference zero_shot \
  --profiles zero_shot="$R/profiles/beauty_ud/zero_shot" --profiles blue="$R/profiles/beauty_ud/blue"

# trainable embedder: MNRL rounds between GRPO rounds; profiles embedded with the tuned embedder
stamp "train blue (trainable embedder)"
$P train "$R/data/beauty" --method blue --config "$CFG" --out "$R/train/blue_trainable" \
  --set trainable_embedder=true --set embedder_every=10 --set embedder_examples=128
stamp "profile beauty blue_trainable"
$P profile "$R/data/beauty" --method blue_trainable --out "$R/profiles/beauty/blue_trainable" \
  --max-new-tokens $TOK --batch-size 32 --adapter "$R/train/blue_trainable"
stamp "evaluate beauty with the tuned embedder"
$P evaluate "$R/data/beauty" --out "$R/eval/beauty_trainable" --reference zero_shot \
  --embedder "sentence-transformers:$R/train/blue_trainable/embedder" \
  --profiles zero_shot="$R/profiles/beauty/zero_shot" --profiles blue="$R/profiles/beauty/blue" \
  --profiles blue_trainable="$R/profiles/beauty/blue_trainable"
stamp done
