#!/bin/bash
# Back from research/industrial/gpu_blue.sh (issue 34 item 5): the device call's files into
# runs/gpu_industrial, its two test sets (the best run's adapter and the untrained profiler, both
# written on the GPU in float32) completed with validation profiles (the best step's and step 0's,
# for the hybrid's weight), evaluated beside the CPU zero-shot set with the Industrial protocol
# (ID baselines' validation choices, refitted), then the paired tests of the BLUE block.
# Usage: research/industrial/gpu_unpack.sh FILES_AT   (the folder the device tool copied $OUT to)
set -e
cd "$(dirname "$0")/../.."
F=${1:?usage: gpu_unpack.sh FILES_AT}
G=runs/gpu_industrial
P=runs/industrial/profiles
E=runs/industrial/eval_blue_gpu
PR=.venv/bin/profilerec
[ -f "$F/results.tgz" ] || { echo "error: $F/results.tgz not found" >&2; exit 2; }
[ -e "$G" ] && { echo "error: $G exists; move it away first" >&2; exit 2; }
tar -xzf "$F/results.tgz"   # runs/gpu_industrial/{logs,train,profiles}
for a in "$F"/adapter_*.tgz; do
  [ -f "$a" ] || continue
  name=$(basename "$a" .tgz); name=${name#adapter_}
  tar -C "$G/train/$name" -xzf "$a"
done
best=$(cd "$G/profiles" && ls -d blue_gpu_* 2>/dev/null | head -1); best=${best#blue_gpu_}
[ -n "$best" ] || { echo "error: no trained test set in $G/profiles (see $G/logs)" >&2; exit 1; }
.venv/bin/python research/industrial/merge_blue.py "$G/train/$best" $P/blue_gpu "$G/profiles/blue_gpu_$best"
.venv/bin/python research/industrial/merge_blue.py "$G/train/$best:0" $P/zero_shot_gpu "$G/profiles/zero_shot_gpu"
export OMP_NUM_THREADS=${THREADS:-2}
$PR evaluate runs/industrial/data --out $E --profiles zero_shot_gpu=$P/zero_shot_gpu \
  --profiles blue_gpu=$P/blue_gpu --profiles zero_shot=$P/zero_shot \
  --tuning-from runs/industrial/eval_id --refit > runs/industrial/logs/eval_blue_gpu.log 2>&1
$PR compare $E --by-user --pair blue_gpu:zero_shot_gpu --pair history+blue_gpu:history+zero_shot_gpu \
  --pair hybrid+blue_gpu:hybrid+zero_shot_gpu --pair hybrid+blue_gpu:sasrec --pair zero_shot_gpu:zero_shot
