#!/bin/bash
# PtE profiles on Industrial (issue 35), the single pass: round 0 only (users from their
# training history and their neighbours' items, then items induced from up to 5 of their
# training users' profiles), one greedy candidate each, 32 new tokens: what one session's
# CPU allowed beside ProEx (research/industrial/proex_jobs.sh). Resumes from its part files.
# More rounds / candidates later: rerun with --rounds 1 --candidates 4 into the same folder
# (round 0's greedy parts are reused where their keys match).
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=${THREADS:-1}
mkdir -p runs/industrial/logs
/usr/bin/time -v .venv/bin/profilerec pte-profiles runs/industrial/data --out runs/industrial/pte/profiles \
  --rounds ${ROUNDS:-0} --candidates ${CANDIDATES:-1} --set max_new_tokens=32 \
  > runs/industrial/logs/pte_profiles.log 2>&1
