#!/usr/bin/env bash
# The GPU check (run on the GPU machine, one call, within 8 minutes; needs Python 3 with numpy,
# and PyTorch with CUDA for the speed comparison): unpack what tests/gpu/prepare.sh packed, then
#   1. CUDA against CPU: from the same initial weights, the same batches (no dropout), the first
#      epoch's step losses on cuda and on the CPU (the same binary, burn's CPU back end) agree to
#      1e-3 relative; a model trained on cuda predicts the same on the GPU as on the CPU (1e-4);
#      saliency maps on cuda equal the CPU's (1e-3 of the largest);
#   2. speed: gkd-train on cuda against PyTorch CUDA (bench/train_throughput_torch.py), koo-cnn-deep
#      and koo-cnn-shallow, at batch 100 and at $GPU_BATCH (1000), after a warm-up epoch;
#   3. writes $OUT/gpu.md (the table and every check's number) and $OUT/gpu.log.
#   GKD_GPU_DEVICE  the device to check (default: cuda; `cpu` runs the logic on a CPU-only pack)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$(mktemp -d)}"; mkdir -p "$OUT"
DEVICE="${GKD_GPU_DEVICE:-cuda}"; GPU_BATCH="${GPU_BATCH:-1000}"; EPOCHS="${EPOCHS:-2}"
PY="${PYTHON:-python3}"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
exec > >(tee "$OUT/gpu.log") 2>&1
"$PY" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" tests/gpu/pack/gkd-gpu.tar.xz "$W/tools"
export LD_LIBRARY_PATH="$W/tools/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -d "$W/tools/nvvm" ] && export CUDA_PATH="$W/tools"
G="$W/tools/gpu"; C="$W/tools/cpu"
md="$OUT/gpu.md"
{
  echo "# GPU check, $(date -u +%Y-%m-%d), commit $(cat "$W/tools/COMMIT" 2>/dev/null || echo unknown), device $DEVICE"
  echo
  if command -v nvidia-smi >/dev/null; then
    echo '```'; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; echo '```'; echo
  fi
} >"$md"
MOTIFS=test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar
"$C/gkd-synth" task1 --motifs "$MOTIFS" --n 30000 --seed 1 -q -o "$W/t.{split}.npz"
"$C/gkd-synth" task1 --motifs "$MOTIFS" --n 4300 --seed 2 -q -o "$W/s.{split}.npz"

echo "## Correctness" >>"$md"
# 1a. The same weights and batches: step losses of the first epoch (30 steps).
"$G/gkd-train" --device cpu --engine burn --arch koo-cnn-shallow --train "$W/s.train.npz" --valid "$W/s.valid.npz" \
  --epochs 1 --seed 3 -q -o "$W/init"
for dev in "$DEVICE" cpu; do
  "$G/gkd-train" --device "$dev" --engine burn --arch koo-cnn-shallow --init-weights "$W/init/model.safetensors" \
    --no-dropout --train "$W/s.train.npz" --valid "$W/s.valid.npz" --epochs 1 --seed 4 -q \
    --step-log "$W/steps.$dev.tsv" -o "$W/steps-$dev"
done
"$PY" - "$W/steps.$DEVICE.tsv" "$W/steps.cpu.tsv" "$md" <<'PY'
import csv, sys
rows = lambda p: [float(r["loss"]) for r in csv.DictReader(open(p), delimiter="\t")]
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert len(a) == len(b) and len(a) >= 20, (len(a), len(b))
worst = max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b))
with open(sys.argv[3], "a") as md:
    md.write(f"- step losses, {len(a)} steps from the same weights and batches: max relative difference {worst:.2e} (limit 1e-3)\n")
assert worst < 1e-3, worst
PY
# 1b. A model trained on the device predicts the same there and on the CPU; 1c. saliency.
"$G/gkd-train" --device "$DEVICE" --arch koo-cnn-deep --train "$W/t.train.npz" --valid "$W/t.valid.npz" \
  --epochs 2 --batch-size 100 --seed 1 -q -o "$W/deep"
"$G/gkd-predict" --device "$DEVICE" --model "$W/deep" --data "$W/t.test.npz" -q -o "$W/p.gpu.npz"
"$C/gkd-predict" --device cpu --model "$W/deep" --data "$W/t.test.npz" -q -o "$W/p.cpu.npz"
"$G/gkd-attribute" --device "$DEVICE" --model "$W/deep" --data "$W/t.test.npz" --method saliency --rows 0:500 -q -o "$W/a.gpu.npz"
"$G/gkd-attribute" --device cpu --engine burn --model "$W/deep" --data "$W/t.test.npz" --method saliency --rows 0:500 -q -o "$W/a.cpu.npz"
"$PY" - "$W" "$md" <<'PY'
import sys
import numpy as np
w, md = sys.argv[1], open(sys.argv[2], "a")
g, c = np.load(f"{w}/p.gpu.npz")["logits"], np.load(f"{w}/p.cpu.npz")["logits"]
d = float(np.abs(g - c).max())
md.write(f"- predictions of the device-trained koo-cnn-deep, device vs CPU: max |logit difference| {d:.2e} over {g.size} logits (limit 1e-4)\n")
ga, ca = np.load(f"{w}/a.gpu.npz")["attr"], np.load(f"{w}/a.cpu.npz")["attr"]
s = float(np.abs(ga - ca).max() / np.abs(ca).max())
md.write(f"- saliency of 500 rows, device vs CPU: max difference {s:.2e} of the largest value (limit 1e-3)\n")
md.close()
assert d < 1e-4 and s < 1e-3, (d, s)
PY

echo >>"$md"; echo "## Training speed (samples/s, epoch $EPOCHS of the whole gkd-train command; PyTorch: the step loop)" >>"$md"
echo >>"$md"
echo "| architecture | batch | gkd-train $DEVICE | PyTorch | gkd / PyTorch |" >>"$md"
echo "|---|---|---|---|---|" >>"$md"
rows=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'])" "$W/t.train.json")
for arch in koo-cnn-deep koo-cnn-shallow; do
  for batch in 100 "$GPU_BATCH"; do
    rm -rf "$W/m"
    "$G/gkd-train" --device "$DEVICE" --arch "$arch" --train "$W/t.train.npz" --valid "$W/t.valid.npz" \
      --epochs "$EPOCHS" --batch-size "$batch" --seed 1 -q -o "$W/m"
    gkd=$(awk -v n="$rows" -v e="$EPOCHS" 'NR == e + 1 {printf "%.1f", n / $2}' "$W/m/timings.tsv")
    torch=$(TORCH_DEVICE="${TORCH_DEVICE:-cuda}" "$PY" bench/train_throughput_torch.py "$arch" "$batch" "${TORCH_STEPS:-200}" "${TORCH_WARMUP:-20}" \
      "$(nproc)" 2>/dev/null | awk '{print $3}' || echo NA)
    ratio=$("$PY" -c "import sys; a,b=sys.argv[1:3]; print(f'{float(a)/float(b):.2f}x' if b not in ('', 'NA') else 'NA')" "$gkd" "${torch:-NA}")
    echo "| $arch | $batch | $gkd | ${torch:-NA} | $ratio |" >>"$md"
  done
done
cat "$md"
