#!/bin/bash
# RLPF and the LLM judge at the BLUE coverage run's budget (issue 34): the same config
# (examples/blue_industrial.yaml: prompts, 600 training users, 4 x 4 rollouts per step, lr,
# 512 user-disjoint validation examples), the reward swapped, 25 steps (the step the coverage
# adapter was tested at), validation at steps 0 and 25 on the same examples as the BLUE run,
# so the validation profiles pair with its step-25 ones. One thread; about 12 GB peak RSS, so
# one run at a time on 24 GB. Resumable: rerun after a kill.
# Usage: research/industrial/blue_baselines.sh rlpf|judge
set -e
cd "$(dirname "$0")/../.."
M=$1
export OMP_NUM_THREADS=1
/usr/bin/time -v .venv/bin/profilerec train runs/industrial/data --method $M \
  --config examples/blue_industrial.yaml --max-steps 25 \
  --set positives_from=next --set n_positives=1 \
  --out runs/industrial/blue/$M > runs/industrial/logs/blue_$M.log 2>&1
