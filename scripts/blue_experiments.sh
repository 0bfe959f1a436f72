#!/usr/bin/env bash
# The BLUE experiments of docs/results.md, end to end, on a 2-core CPU.
# Ordered so the first comparison (zero-shot vs BLUE) lands first; every step resumes
# if re-run (profiles are written in parts, training checkpoints every few steps, a
# finished training run is skipped).
# Every trained profiler is used at its final step (adapter/), the same budget for each
# reward: validation on 48 users cannot tell the steps apart (see docs/results.md).
# Usage: bash scripts/blue_experiments.sh [RUNS_DIR]
set -euo pipefail
R=${1:-runs/exp}
P=.venv/bin/profilerec
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
CFG=${CFG:-examples/blue_all_beauty.yaml}
TOK=48   # profile length of every profiler, the same as the training rollouts
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

# data: All_Beauty leave-last-out (the demo), All_Beauty user-disjoint, Gift Cards (cross-domain)
stamp data
[ -f "$R/data/beauty/manifest.json" ] || $P prepare --demo --out "$R/data/beauty"
[ -f "$R/data/beauty_ud/manifest.json" ] || $P prepare --demo --split user_disjoint --valid-users 0.1 --test-users 0.2 --out "$R/data/beauty_ud"
[ -f "$R/data/gift_cards/manifest.json" ] || $P prepare ../shared/data/amazon2018_gift_cards_5core --format amazon2018 --out "$R/data/gift_cards"

prof() {  # prof DATA NAME [TRAIN_RUN]
  local extra=()
  [ $# -ge 3 ] && extra=(--adapter "$3/adapter")
  stamp "profile $1 $2"
  $P profile "$R/data/$1" --method "$2" --out "$R/profiles/$1/$2" --max-new-tokens $TOK --batch-size 16 "${extra[@]}"
}
train() {  # train DATA RUN METHOD [options]
  local data=$1 run=$2 method=$3; shift 3
  if [ -f "$R/train/$run/train_summary.json" ]; then stamp "skip train $run (done)"; return; fi
  stamp "train $run"
  $P train "$R/data/$data" --method "$method" --config "$CFG" --out "$R/train/$run" "$@"
}
evaluate() {  # evaluate DATA NAME...
  local data=$1; shift
  local sets=()
  for n in "$@"; do sets+=(--profiles "$n=$R/profiles/$data/$n"); done
  stamp "evaluate $data $*"
  $P evaluate "$R/data/$data" --out "$R/eval/$data" "${sets[@]}" --reference zero_shot
}

train beauty blue blue
prof beauty zero_shot
prof beauty blue "$R/train/blue"
evaluate beauty zero_shot blue
train beauty rlpf rlpf --set eval_every=0
prof beauty rlpf "$R/train/rlpf"
train beauty judge judge --set eval_every=0
prof beauty judge "$R/train/judge"
evaluate beauty zero_shot blue rlpf judge
$P report "$R/eval/beauty" --dataset "$R/data/beauty" --train-log "$R/train/blue" --train-log "$R/train/rlpf" --train-log "$R/train/judge"

# cross-domain: the All_Beauty adapter on Gift Cards, beside Gift Cards zero-shot
prof gift_cards zero_shot
prof gift_cards blue "$R/train/blue"
evaluate gift_cards zero_shot blue

# user-disjoint: trained on the training users only; every test position of unseen users
train beauty_ud blue_ud blue --set eval_every=0
prof beauty_ud zero_shot
prof beauty_ud blue "$R/train/blue_ud"
evaluate beauty_ud zero_shot blue
stamp done
