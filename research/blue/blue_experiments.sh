#!/usr/bin/env bash
# The BLUE experiments of research/notes/2026-12-01-blue-32-step-cpu.md, end to end, on a 2-core CPU.
# Two lanes of one thread each (two 1-thread processes out-run one 2-thread process on this
# machine kind); LANE=all runs both one after the other. Every step resumes if re-run
# (profiles are written in parts, training checkpoints every few steps, a finished
# training run is skipped, an existing profile set is kept).
# Every trained profiler is used at its final step (adapter/), the same budget for each
# reward: validation on 48 users cannot tell the steps apart (see that note).
# Usage: bash research/blue/blue_experiments.sh RUNS_DIR            (prepare, then both lanes in turn)
#        LANE=a bash research/blue/blue_experiments.sh RUNS_DIR     (BLUE, cross-domain, user-disjoint,
#                                                              trainable embedder)
#        LANE=b bash research/blue/blue_experiments.sh RUNS_DIR     (zero-shot profiles, RLPF, judge)
#        LANE=eval bash research/blue/blue_experiments.sh RUNS_DIR  (the evaluations and the report)
set -euo pipefail
R=${1:-runs/exp}
LANE=${LANE:-all}
P=.venv/bin/profilerec
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
CFG=${CFG:-examples/blue_paper.yaml}  # the paper's recipe, which those results used
TOK=48   # profile length of every profiler, the same as the training rollouts
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

prepare() {  # All_Beauty leave-last-out (the demo), All_Beauty user-disjoint, Gift Cards
  stamp data
  [ -f "$R/data/beauty/manifest.json" ] || $P prepare --demo --out "$R/data/beauty"
  [ -f "$R/data/beauty_ud/manifest.json" ] || $P prepare --demo --split user_disjoint \
    --valid-users 0.1 --test-users 0.2 --out "$R/data/beauty_ud"
  [ -f "$R/data/gift_cards/manifest.json" ] || $P prepare ../shared/data/amazon2018_gift_cards_5core \
    --format amazon2018 --out "$R/data/gift_cards"
}
prof() {  # prof DATA NAME [ADAPTER]
  local extra=()
  [ $# -ge 3 ] && extra=(--adapter "$3")
  if [ -f "$R/profiles/$1/$2/profiles.parquet" ]; then stamp "skip profile $1 $2 (done)"; return; fi
  stamp "profile $1 $2"
  $P profile "$R/data/$1" --method "$2" --out "$R/profiles/$1/$2" --max-new-tokens $TOK \
    --batch-size 16 "${extra[@]}"
}
train() {  # train DATA RUN METHOD [options]
  local data=$1 run=$2 method=$3; shift 3
  if [ -f "$R/train/$run/train_summary.json" ]; then stamp "skip train $run (done)"; return; fi
  stamp "train $run"
  $P train "$R/data/$data" --method "$method" --config "$CFG" --out "$R/train/$run" "$@"
}
evaluate() {  # evaluate DATA OUT NAME... [-- evaluate options]
  local data=$1 out=$2; shift 2
  local sets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do sets+=(--profiles "$1=$R/profiles/$data/$1"); shift; done
  [ $# -gt 0 ] && shift
  stamp "evaluate $data -> $out"
  $P evaluate "$R/data/$data" --out "$R/eval/$out" "${sets[@]}" --reference zero_shot "$@"
}

lane_a() {
  train beauty blue blue
  prof beauty blue "$R/train/blue/adapter"
  # cross-domain: the All_Beauty adapter on Gift Cards
  prof gift_cards blue "$R/train/blue/adapter"
  # user-disjoint: trained on the training users only; every test position of unseen users
  train beauty_ud blue_ud blue --set eval_every=0
  prof beauty_ud blue "$R/train/blue_ud/adapter"
  # trainable embedder: MNRL fine-tuning of the embedder between GRPO rounds (8 steps,
  # a quarter of the frozen-embedder run: what the session had left)
  train beauty blue_trainable blue --set trainable_embedder=true --set max_steps=8 --set embedder_every=4 \
    --set embedder_examples=96 --set eval_every=0
  prof beauty blue_trainable "$R/train/blue_trainable/adapter"
}
lane_b() {
  prof beauty zero_shot
  prof gift_cards zero_shot
  prof beauty_ud zero_shot
  train beauty rlpf rlpf --set eval_every=0
  prof beauty rlpf "$R/train/rlpf/adapter"
  train beauty judge judge --set eval_every=0
  prof beauty judge "$R/train/judge/adapter"
}
lane_eval() {
  evaluate beauty beauty zero_shot blue rlpf judge
  local sets=()
  for n in zero_shot blue rlpf judge; do sets+=(--profiles "$n=$R/profiles/beauty/$n"); done
  $P report "$R/eval/beauty" --dataset "$R/data/beauty" --train-log "$R/train/blue" \
    --train-log "$R/train/rlpf" --train-log "$R/train/judge" "${sets[@]}" \
    --before-after zero_shot:blue
  evaluate gift_cards gift_cards zero_shot blue
  evaluate beauty_ud beauty_ud zero_shot blue
  if [ -d "$R/train/blue_trainable/embedder" ]; then
    evaluate beauty beauty_trainable zero_shot blue blue_trainable -- \
      --embedder "sentence-transformers:$R/train/blue_trainable/embedder"
  fi
}

case $LANE in
  a) prepare; lane_a ;;
  b) prepare; lane_b ;;
  eval) lane_eval ;;
  all) prepare; lane_a; lane_b; lane_eval ;;
  *) echo "LANE must be a, b, eval or all" >&2; exit 2 ;;
esac
stamp "done lane $LANE"
