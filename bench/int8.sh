#!/usr/bin/env bash
# int8 inference against the float32 engine on the same model, self-contained: synthesises task-1
# data, trains koo-cnn-deep (and koo-cnn-shallow) for $EPOCHS epochs on the engine, quantises
# each with gkd-compress quantize (calibrated on 1,000 training rows), then times gkd-predict on
# the test split for the float and the int8 model round-robin ($REPS rounds, median of the
# compute seconds gkd-predict reports in --stats) and compares their test AUPR. Prints a Markdown
# table for BENCHMARKS.md.
#   ARCHS (koo-cnn-deep koo-cnn-shallow)  EPOCHS (8)  REPS (5)  THREADS (2)  N (30000 rows)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BIN="$CARGO_TARGET_DIR/release"
ARCHS="${ARCHS:-koo-cnn-deep koo-cnn-shallow}"; EPOCHS="${EPOCHS:-8}"; REPS="${REPS:-5}"
THREADS="${THREADS:-2}"; N="${N:-30000}"
cargo build --release --locked --workspace -q
W="${WORK:-$(mktemp -d)}"; [ -n "${WORK:-}" ] || trap 'rm -rf "$W"' EXIT
[ -f "$W/d.test.npz" ] || "$BIN/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --n "$N" --seed 1 -o "$W/d.{split}.npz" -q
once() {  # compute seconds of one gkd-predict run of model $1, and its macro AUPR
  "$BIN/gkd-predict" --model "$1" --data "$W/d.test.npz" -o "$W/p.npz" --tsv "$W/p.tsv" \
    --metrics "$W/m.tsv" --stats "$W/s.json" --threads "$THREADS" -q
  python3 - "$W/s.json" "$W/m.tsv" <<'PY'
import csv, json, sys
m = json.load(open(sys.argv[1]))["models"][0]
rows = list(csv.DictReader(open(sys.argv[2]), delimiter="\t"))
macro = next(r for r in rows if r["class"] == "macro")
print(m["seconds"], macro["aupr"])
PY
}
median() { python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }
echo "| architecture | test rows | float32 engine s | int8 s | int8 speed-up | float32 AUPR | int8 AUPR | AUPR difference |"
echo "|---|---|---|---|---|---|---|---|"
for arch in $ARCHS; do
  m="$W/$arch"
  [ -d "$m" ] || "$BIN/gkd-train" --arch "$arch" --train "$W/d.train.npz" --valid "$W/d.valid.npz" \
    --epochs "$EPOCHS" --seed 1 --threads "$THREADS" -q -o "$m"
  [ -d "$m-int8" ] || "$BIN/gkd-compress" quantize --model "$m" --calibration "$W/d.train.npz" \
    --threads "$THREADS" -q -o "$m-int8"
  tf=(); ti=()
  for _ in $(seq "$REPS"); do
    read -r s af < <(once "$m"); tf+=("$s")
    read -r s ai < <(once "$m-int8"); ti+=("$s")
  done
  f=$(median "${tf[@]}"); i=$(median "${ti[@]}")
  rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'])" "$W/d.test.json")
  python3 -c "import sys; f,i,af,ai=map(float,sys.argv[2:6]); print(f'| {sys.argv[1]} | {sys.argv[6]} | {f:.3f} | {i:.3f} | {f/i:.2f}x | {af:.4f} | {ai:.4f} | {ai-af:+.4f} |')" \
    "$arch" "$f" "$i" "$af" "$ai" "$rows"
done
