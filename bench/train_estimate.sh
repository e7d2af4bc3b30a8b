#!/usr/bin/env bash
# Would a hand-written training step on the CPU engine reach PyTorch? A
# measured estimate, not an implementation: tools/lib/gkd-engine/examples/train_estimate.rs times
# each part of a training step with the engine's kernels on the model's real shapes (forward +
# backward to the input, weight-gradient GEMMs, training-mode BatchNorm/dropout passes, Adam) and
# adds them; the PyTorch side is bench/train_throughput_torch.py (the same step, measured), and
# gkd-train's burn step is tools/lib/gkd-nn/examples/train_throughput.rs. Batch 100 (or $BATCH),
# 2 threads (or $THREADS), median of $REPS (3) alternating runs. Prints a Markdown table.
#   TORCH_VENV  venv with torch (default: ~/.cache/gkd/venv, which tests/run.sh fills)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BATCH="${BATCH:-100}"; THREADS="${THREADS:-2}"; REPS="${REPS:-3}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked --workspace --all-targets >&2
EST="$CARGO_TARGET_DIR/release/examples/train_estimate"
BURN="$CARGO_TARGET_DIR/release/examples/train_throughput"
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}')" "$@"; }
echo "| architecture | forward + input backward ms | weight gradients ms | BatchNorm + dropout ms | Adam ms | engine estimate samples/s | PyTorch samples/s | estimate / PyTorch | gkd-train (burn) samples/s |"
echo "|---|---|---|---|---|---|---|---|---|"
for arch in ${ARCHS:-koo-cnn-deep koo-cnn-shallow}; do
  e=(); f=(); w=(); b=(); a=(); t=(); u=()
  for _ in $(seq "$REPS"); do   # alternate the sides so that machine noise hits them alike
    read -r _ _ rate fb wg bn adam _ < <(RAYON_NUM_THREADS="$THREADS" "$EST" "$arch" "$BATCH" 21)
    e+=("$rate"); f+=("$fb"); w+=("$wg"); b+=("$bn"); a+=("$adam")
    t+=("$("$PY" bench/train_throughput_torch.py "$arch" "$BATCH" 40 5 "$THREADS" | awk '{print $3}')")
    u+=("$(RAYON_NUM_THREADS="$THREADS" "$BURN" "$arch" "$BATCH" 40 5 | awk '{print $3}')")
  done
  est=$(median "${e[@]}"); torch=$(median "${t[@]}")
  ratio=$(python3 -c "print(f'{$est/$torch:.2f}')")
  echo "| $arch | $(median "${f[@]}") | $(median "${w[@]}") | $(median "${b[@]}") | $(median "${a[@]}") | $est | $torch | ${ratio}x | $(median "${u[@]}") |"
done
