#!/usr/bin/env bash
# Training samples/s of the whole gkd-train command, on gkd's engine (--engine auto, the default on
# the CPU) and on burn (--engine burn), against the same architecture in PyTorch CPU
# (bench/train_throughput_torch.py: the step loop alone on one resident batch, dropout on, Adam).
# gkd-train trains on 5,760 synthetic task-1 rows (gkd-synth: 4 x 200 one-hot DNA, 12 labels),
# batch 100 (or $BATCH), 2 threads (or $THREADS), and its second epoch's wall time (timings.tsv:
# batches, validation on 120 rows and the checkpoint) gives its rate; median of $REPS (3) runs,
# alternating the three. Uses the binaries of the workspace build (cargo build --release
# --workspace; no second build of burn). Prints a Markdown table for BENCHMARKS.md.
#   TORCH_VENV  venv with torch (default: ~/.cache/gkd/venv, which tests/run.sh fills)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BATCH="${BATCH:-100}"; THREADS="${THREADS:-2}"; REPS="${REPS:-3}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked --workspace >&2
BIN="$CARGO_TARGET_DIR/release"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$BIN/gkd-synth" -q task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 6000 --seed 1 \
  --split train=0.96,valid=0.02,test=0.02 -o "$work/t.{split}.npz"
rows=$(python3 -c "import json; print(json.load(open('$work/t.train.json'))['rows'])")
gkd_rate() {  # ARCH ENGINE -> samples/s of epoch 2
  rm -rf "$work/m"
  "$BIN/gkd-train" -q --threads "$THREADS" --arch "$1" --engine "$2" --train "$work/t.train.npz" \
    --valid "$work/t.valid.npz" --epochs 2 --batch-size "$BATCH" --seed 1 -o "$work/m"
  awk -v n="$rows" 'NR == 3 {printf "%.1f", n / $2}' "$work/m/timings.tsv"
}
echo "| architecture | batch | threads | gkd-train engine samples/s | gkd-train burn samples/s | PyTorch samples/s | engine / PyTorch | burn / PyTorch |"
echo "|---|---|---|---|---|---|---|---|"
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}')" "$@"; }
for arch in ${ARCHS:-koo-cnn-deep koo-cnn-shallow}; do
  e=(); b=(); t=()
  for _ in $(seq "$REPS"); do   # alternate the three so that machine noise hits them alike
    e+=("$(gkd_rate "$arch" auto)")
    b+=("$(gkd_rate "$arch" burn)")
    t+=("$("$PY" bench/train_throughput_torch.py "$arch" "$BATCH" 40 5 "$THREADS" | awk '{print $3}')")
  done
  engine=$(median "${e[@]}"); burn=$(median "${b[@]}"); torch=$(median "${t[@]}")
  ratios=$(python3 -c "print(f'{$engine/$torch:.2f}x | {$burn/$torch:.2f}x')")
  echo "| $arch | $BATCH | $THREADS | $engine | $burn | $torch | $ratios |"
done
