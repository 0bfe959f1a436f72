#!/usr/bin/env bash
# The ProEx experiments, end to end, on a 2-core CPU: K=4 chain-of-thought profiles per user
# and item (bundled SmolLM2), then every backbone with and without ProEx, then ablations of
# K, the number of environments E and the Dirichlet concentration alpha (on LightGCN and
# Mult-VAE to bound cost). Profiles are generated once at K=4; `--k` keeps the first k
# (F1 first). Profiling resumes from its part files; a finished run (metrics.json) is skipped.
# Usage: bash research/proex/proex_experiments.sh [RUNS_DIR]
#   EPOCHS=N caps every backbone's epochs (`--max-steps`); DATASETS="beauty" runs one dataset;
#   ABLATIONS=0 runs the main table only. The defaults (K=4, E=3, alpha=1) are the main run,
#   so the sweeps leave them out: read K=4 and alpha=1 off the main table.
set -euo pipefail
R=${1:-runs/proex}
P=.venv/bin/profilerec
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
K=4
DATASETS=${DATASETS:-"beauty gift_cards"}
BACKBONES=(lightgcn simgcl multvae ldiffrec)
ABLATE=(lightgcn multvae)
steps=()
[ -n "${EPOCHS:-}" ] && steps=(--max-steps "$EPOCHS")
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

stamp data
[ -f "$R/data/beauty/manifest.json" ] || $P prepare --demo --out "$R/data/beauty"
[ -f "$R/data/gift_cards/manifest.json" ] || $P prepare ../shared/data/amazon2018_gift_cards_5core --format amazon2018 --out "$R/data/gift_cards"

profiles() {  # profiles DATA
  stamp "proex-profiles $1 (K=$K)"
  $P proex-profiles "$R/data/$1" --out "$R/profiles/$1" --k "$K" --batch-size 16
}
train() {  # train DATA RUN_NAME [train options...]: one metrics.json with X and X+proex per backbone
  local data=$1 name=$2; shift 2
  local out="$R/train/$data/$name"
  if [ -f "$out/metrics.json" ]; then stamp "skip $data $name (done)"; return; fi
  stamp "train $data $name $*"
  $P train "$R/data/$data" --method proex --profiles "$R/profiles/$data" --out "$out" "${steps[@]}" "$@"
}
backbones() {  # backbones NAME...: repeated --backbone options
  for b in "$@"; do printf -- '--backbone\n%s\n' "$b"; done
}

for d in $DATASETS; do
  profiles "$d"
  # main table: all four backbones, with and without ProEx (K=4, default E and alpha)
  mapfile -t all < <(backbones "${BACKBONES[@]}")
  train "$d" main "${all[@]}"
  $P report "$R/train/$d/main" --dataset "$R/data/$d"
  if [ "${ABLATIONS:-1}" != 0 ]; then
    mapfile -t two < <(backbones "${ABLATE[@]}")
    for k in 1 2; do train "$d" "k$k" "${two[@]}" --k "$k"; done
    for e in 1 2 4 8; do train "$d" "e$e" "${two[@]}" --set n_envs="$e"; done
    for a in 0.1 10; do train "$d" "alpha$a" "${two[@]}" --set alpha="$a"; done
  fi
  for run in "$R/train/$d"/*/; do
    echo "### $d $(basename "$run")"
    $P compare "$run" --metric recall@20 --metric ndcg@20
  done
done
stamp done
