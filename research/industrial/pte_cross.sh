#!/bin/bash
# PtE's one significant gain on Industrial (item profiles alone into SASRec, issue 35), the same
# configuration unchanged on All_Beauty (the demo's leave-last-out split, where SASRec is the
# best ID baseline): PtE profiles with one refinement round, two candidates and group-relative
# selection, 32 new tokens (as research/industrial/pte_jobs.sh with ROUNDS=1 CANDIDATES=2), item
# fusion `add`; SASRec at All_Beauty's own validation choice (runs/cross/eval/beauty: hidden 128,
# 1 layer, lr 0.01, dropout 0.5); seeds 0-2; users resampled. Needs runs/cross/data/beauty
# (research/industrial/blue_cross.sh prepares it). Resumable: profiles resume from their part
# files, finished trainings are skipped.
set -e
cd "$(dirname "$0")/../.."
PR=.venv/bin/profilerec
D=runs/cross/data/beauty
P=runs/cross/pte/beauty_profiles
export OMP_NUM_THREADS=${THREADS:-1}
mkdir -p runs/cross/logs
[ -f $D/manifest.json ] || $PR prepare --demo --out $D
[ -f $P/items.parquet ] || /usr/bin/time -v $PR pte-profiles $D --out $P --rounds 1 --candidates 2 \
  --set max_new_tokens=32 > runs/cross/logs/pte_beauty_profiles.log 2>&1
PARAMS='{sasrec: {hidden: 128, layers: 1, lr: 0.01, dropout: 0.5, max_len: 50, epochs: 200, patience: 20}}'
for s in 0 1 2; do
  OUT=runs/cross/pte/beauty_sasrec_seed$s
  [ -f $OUT/metrics.json ] || $PR train $D --method pte --profiles $P --backbone sasrec --out $OUT \
    --set 'ablations=[pte_item_only]' --set seed=$s --set "backbone_params=$PARAMS" \
    > runs/cross/logs/pte_beauty_sasrec_seed$s.log 2>&1
  $PR compare $OUT --by-user --metric ndcg@10 --dataset $D --pair sasrec+pte_item_only:sasrec \
    --pair sasrec+pte:sasrec --pair sasrec+pte:sasrec+random
done
