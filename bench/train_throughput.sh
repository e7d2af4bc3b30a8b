#!/usr/bin/env bash
# Training samples/s, gkd (burn flex + mimalloc) against the same architecture in PyTorch CPU,
# batch 100 (or $BATCH), 2 threads (or $THREADS), random one-hot DNA 4 x 200, 12 labels, Adam,
# BCE with logits. Prints a Markdown table for BENCHMARKS.md.
#   TORCH_VENV  venv with torch (default: ~/.cache/gkd/venv, which tests/run.sh fills)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BATCH="${BATCH:-100}"; THREADS="${THREADS:-2}"; STEPS="${STEPS:-40}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked -p gkd-nn --example train_throughput >&2
EX="$CARGO_TARGET_DIR/release/examples/train_throughput"
echo "| architecture | batch | threads | gkd samples/s | PyTorch samples/s | ratio |"
echo "|---|---|---|---|---|---|"
for arch in ${ARCHS:-koo-cnn-deep koo-cnn-shallow}; do
  ours=$(RAYON_NUM_THREADS="$THREADS" "$EX" "$arch" "$BATCH" "$STEPS" 5 | awk '{print $3}')
  theirs=$("$PY" bench/train_throughput_torch.py "$arch" "$BATCH" "$STEPS" 5 "$THREADS" | awk '{print $3}')
  ratio=$(python3 -c "print(f'{$ours/$theirs:.2f}')")
  echo "| $arch | $BATCH | $THREADS | $ours | $theirs | ${ratio}x |"
done
