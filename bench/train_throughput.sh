#!/usr/bin/env bash
# Training samples/s, gkd (burn flex + mimalloc) against the same architecture in PyTorch CPU,
# batch 100 (or $BATCH), 2 threads (or $THREADS), random one-hot DNA 4 x 200, 12 labels, Adam,
# BCE with logits; median of $REPS (3) alternating runs. Prints a Markdown table for BENCHMARKS.md.
#   TORCH_VENV  venv with torch (default: ~/.cache/gkd/venv, which tests/run.sh fills)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BATCH="${BATCH:-100}"; THREADS="${THREADS:-2}"; STEPS="${STEPS:-40}"; REPS="${REPS:-3}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked -p gkd-nn --example train_throughput >&2
EX="$CARGO_TARGET_DIR/release/examples/train_throughput"
echo "| architecture | batch | threads | gkd samples/s | PyTorch samples/s | ratio |"
echo "|---|---|---|---|---|---|"
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}')" "$@"; }
for arch in ${ARCHS:-koo-cnn-deep koo-cnn-shallow}; do
  o=(); t=()
  for _ in $(seq "$REPS"); do   # alternate the two so that machine noise hits both alike
    o+=("$(RAYON_NUM_THREADS="$THREADS" "$EX" "$arch" "$BATCH" "$STEPS" 5 | awk '{print $3}')")
    t+=("$("$PY" bench/train_throughput_torch.py "$arch" "$BATCH" "$STEPS" 5 "$THREADS" | awk '{print $3}')")
  done
  ours=$(median "${o[@]}"); theirs=$(median "${t[@]}")
  ratio=$(python3 -c "print(f'{$ours/$theirs:.2f}')")
  echo "| $arch | $BATCH | $THREADS | $ours | $theirs | ${ratio}x |"
done
