#!/bin/bash
# ProEx chain-of-thought profiles on Industrial (issue 35): K=2 per user and per item
# (F1, F2, F3 greedy, one sampled F4), 32 new tokens per step: the budget the measured cost
# of this machine allows in one session (about 160 steps/min per thread at 32 tokens, bf16).
# Users and items run as two one-thread processes into their own folders (the two cores);
# both resume from their part files: rerun the same script after a kill.
# Then: proex_train.sh (joins the two sides and trains the four backbones).
set -e
cd "$(dirname "$0")/../.."
R=runs/industrial/proex
COMMON="--k 2 --max-new-tokens 32 --batch-size 16"
export OMP_NUM_THREADS=${THREADS:-1}
mkdir -p runs/industrial/logs
for side in users items; do
  /usr/bin/time -v .venv/bin/profilerec proex-profiles runs/industrial/data --out $R/profiles_$side \
    --entities $side $COMMON > runs/industrial/logs/proex_profiles_$side.log 2>&1 &
done
wait
