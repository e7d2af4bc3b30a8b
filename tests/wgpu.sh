#!/usr/bin/env bash
# Opt-in check of the GPU code path on burn's wgpu back end (runs on Mesa's llvmpipe software
# adapter where there is no GPU). Builds gkd-train and gkd-predict with --features wgpu in their
# own target directory (about 15 extra minutes on 2 cores, so CI does not run it), trains a small
# model on the wgpu device, and checks that wgpu and CPU predictions of that model agree.
#   usage: bash tests/wgpu.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
CPU_TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
WGPU_TARGET="${WGPU_TARGET_DIR:-$CPU_TARGET/wgpu}"
WORK="${1:-$(mktemp -d)}"
cargo build --release --locked --workspace --all-targets   # the CPU tools, as tests/run.sh builds them
CARGO_TARGET_DIR="$WGPU_TARGET" cargo build --release --locked -p gkd-train -p gkd-predict --features gkd-train/wgpu,gkd-predict/wgpu
CPU="$CPU_TARGET/release"; GPU="$WGPU_TARGET/release"
"$CPU/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 1000 --seed 2 -o "$WORK/t.{split}.npz"
"$GPU/gkd-train" --device wgpu --arch koo-cnn-shallow --train "$WORK/t.train.npz" --valid "$WORK/t.valid.npz" \
  --epochs 4 --batch-size 50 -o "$WORK/model"
"$GPU/gkd-predict" --device wgpu --model "$WORK/model" --data "$WORK/t.test.npz" -o "$WORK/gpu.npz" --metrics "$WORK/gpu.tsv"
"$CPU/gkd-predict" --device cpu --model "$WORK/model" --data "$WORK/t.test.npz" -o "$WORK/cpu.npz" --metrics "$WORK/cpu.tsv"
python3 tests/support/logits_diff.py "$WORK/gpu.npz" "$WORK/cpu.npz" 1e-4 "wgpu vs cpu"
python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
macro = [l.split("\t") for l in open(f"{work}/gpu.tsv") if l.startswith("macro")][0]
history = [l.split("\t") for l in open(f"{work}/model/history.tsv")][1:]
first, last = float(history[0][2]), float(history[-1][2])
print(f"wgpu training loss {first:.4f} -> {last:.4f}; test AUROC {macro[3]}")
assert last < first and float(macro[3]) > 0.5, "the wgpu-trained model did not learn"
PY
echo "wgpu path OK" >&2
