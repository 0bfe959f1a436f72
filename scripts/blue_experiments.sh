#!/usr/bin/env bash
# The BLUE experiments of docs/results.md, end to end, on a 2-core CPU.
# Each step resumes if re-run (profiles and training checkpoint to disk).
# Usage: bash scripts/blue_experiments.sh [RUNS_DIR]
set -euo pipefail
R=${1:-runs}
P=.venv/bin/profilerec
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
CFG=examples/blue_all_beauty.yaml

# data: All_Beauty leave-last-out (the demo), All_Beauty user-disjoint, Gift Cards (cross-domain)
$P prepare --demo --out "$R/data/beauty"
$P prepare --demo --split user_disjoint --valid-users 0.1 --test-users 0.2 --out "$R/data/beauty_user_disjoint"
$P prepare ../shared/data/amazon2018_gift_cards_5core --format amazon2018 --out "$R/data/gift_cards"

# training: BLUE and the two baseline rewards with the same budget; BLUE with a trainable embedder
for m in blue rlpf judge; do
  $P train "$R/data/beauty" --method "$m" --config "$CFG" --out "$R/train/$m"
done

# profiles of the test split: zero-shot and each trained profiler
$P profile "$R/data/beauty" --out "$R/profiles/zero_shot" --max-new-tokens 48
for m in blue rlpf judge; do
  $P profile "$R/data/beauty" --method "$m" --adapter "$R/train/$m" --out "$R/profiles/$m" --max-new-tokens 48
done
$P evaluate "$R/data/beauty" --out "$R/eval/beauty" \
  --profiles zero_shot="$R/profiles/zero_shot" --profiles blue="$R/profiles/blue" \
  --profiles rlpf="$R/profiles/rlpf" --profiles judge="$R/profiles/judge" --reference zero_shot
$P report "$R/eval/beauty" --dataset "$R/data/beauty" --train-log "$R/train/blue" --train-log "$R/train/rlpf" --train-log "$R/train/judge"
