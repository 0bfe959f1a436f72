#!/bin/bash
# PtE profiles on Industrial (issue 35). Default: the single pass, round 0 only (users from
# their training history and their neighbours' items, then items induced from up to 5 of their
# training users' profiles), one greedy candidate each, 32 new tokens, one thread, into
# runs/industrial/pte/profiles (1h30m beside other jobs). Resumes from its part files.
# The refinement round with group-relative selection (run on 2026-12-06 afternoon):
#   OUT=runs/industrial/pte/profiles_r1 ROUNDS=1 CANDIDATES=2 WORKERS=2 research/industrial/pte_jobs.sh
# A new OUT starts from a copy of the single pass's part files, so round 0 is reused (its keys
# match) and only round 1 is generated (13,060 profiles, 50 min on two one-thread Ray actors).
# WORKERS=N runs generation on a local Ray pool of N one-thread actors (needs the ray extra).
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=${THREADS:-1}
BASE=runs/industrial/pte/profiles
OUT=${OUT:-$BASE}
ENGINE=""
[ -n "$WORKERS" ] && ENGINE="--engine ray --workers $WORKERS"
if [ "$OUT" != "$BASE" ] && [ ! -d "$OUT/.parts" ] && [ -d "$BASE/.parts" ]; then
  mkdir -p "$OUT" && cp -a "$BASE/.parts" "$OUT/.parts"
fi
mkdir -p runs/industrial/logs
/usr/bin/time -v .venv/bin/profilerec pte-profiles runs/industrial/data --out "$OUT" \
  --rounds ${ROUNDS:-0} --candidates ${CANDIDATES:-1} --set max_new_tokens=32 $ENGINE \
  > runs/industrial/logs/pte_$(basename "$OUT").log 2>&1
