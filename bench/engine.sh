#!/usr/bin/env bash
# The CPU engine against PyTorch and the Python tools, side by side in one run, $THREADS (2)
# threads everywhere, batches of 256: gkd-predict on koo-cnn-deep and koo-cnn-shallow vs PyTorch
# inference (the 44,000 rows of a test split); saliency vs PyTorch autograd input gradients ($N_SALIENCY); integrated
# gradients (50 steps, zero baseline) vs Captum ($N_IG); naive and fast ISM vs tangermeme's
# saturation_mutagenesis fast=False/True ($N_ISM); fast vs naive ISM at L = 200 and L = 1,000
# ($N_LONG); gkd-predict with --engine burn for the path it replaces. gkd is timed as users run it
# (whole command: reading the NPZ, writing outputs); PyTorch only for its computation. Also the
# engine's GFLOP/s on koo-cnn-deep against this machine's GEMM rate (gkd-engine's gemm_peak). Models
# are trained one epoch (speed does not depend on training). Prints a Markdown table.
#   TORCH_VENV  venv with torch, captum and tangermeme (default: ~/.cache/gkd/venv)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
N_SALIENCY="${N_SALIENCY:-2000}"; N_ISM="${N_ISM:-1000}"; N_IG="${N_IG:-200}"
N_LONG="${N_LONG:-20}"; THREADS="${THREADS:-2}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
"$PY" -c "import captum, tangermeme" 2>/dev/null || "$PY" -m pip install --quiet captum==0.9.0 tangermeme==1.6.0
cargo build --release --locked --workspace --all-targets >&2
BIN="$CARGO_TARGET_DIR/release"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
MOTIFS=test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar
"$BIN/gkd-synth" task1 --motifs "$MOTIFS" --n 50000 --seed 1 --split train=0.1,valid=0.02,test=0.88 \
  -o "$W/t1.{split}.npz" 2>/dev/null
for arch in koo-cnn-deep koo-cnn-shallow; do
  "$BIN/gkd-train" --arch "$arch" --train "$W/t1.train.npz" --valid "$W/t1.valid.npz" --epochs 1 --seed 1 \
    -o "$W/$arch" -q --threads "$THREADS"
done
secs() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
predict() { secs "$BIN/gkd-predict" --model "$W/$1" --data "$W/t1.test.npz" -o "$W/p-$1-$2.npz" \
  --batch-size 256 -q --threads "$THREADS" --engine "$2"; }
attr() { secs "$BIN/gkd-attribute" --model "$W/koo-cnn-deep" --data "$W/t1.test.npz" --target 0 -q \
  --threads "$THREADS" --batch-size 256 "$@"; }
pred_deep=$(predict koo-cnn-deep auto); pred_deep_burn=$(predict koo-cnn-deep burn)
pred_shallow=$(predict koo-cnn-shallow auto); pred_shallow_burn=$(predict koo-cnn-shallow burn)
sal=$(attr --method saliency --rows "0:$N_SALIENCY" -o "$W/sal.npz")
naive=$(attr --method ism --rows "0:$N_ISM" -o "$W/ism.npz")
fast=$(attr --method ism-fast --rows "0:$N_ISM" -o "$W/ismf.npz")
ig=$(attr --method ig --steps 50 --rows "0:$N_IG" -o "$W/ig.npz")
"$BIN/gkd-synth" task1 --motifs "$MOTIFS" --n 500 --length 1000 --seed 1 -o "$W/long.{split}.npz" 2>/dev/null
"$BIN/gkd-train" --arch koo-cnn-deep --train "$W/long.train.npz" --valid "$W/long.valid.npz" --epochs 1 \
  --seed 1 -o "$W/long" -q --threads "$THREADS"
long() { secs "$BIN/gkd-attribute" --model "$W/long" --data "$W/long.train.npz" --target 0 -q --threads "$THREADS" \
  --rows "0:$N_LONG" "$@"; }
long_naive=$(long --method ism -o "$W/long_ism.npz")
long_fast=$(long --method ism-fast -o "$W/long_ismf.npz")
"$PY" - "$W/ism.npz" "$W/ismf.npz" "$W/p-koo-cnn-deep-auto.npz" "$W/p-koo-cnn-deep-burn.npz" <<'PY' >&2
import numpy as np, sys
a, b = (np.load(p)["attr"] for p in sys.argv[1:3])
print(f"fast vs naive ISM: max |diff| {np.abs(a - b).max():.2e}")
c, d = (np.load(p)["logits"] for p in sys.argv[3:5])
print(f"engine vs burn logits: max |diff| {np.abs(c - d).max():.2e}")
PY
N_TEST=$("$PY" -c "import numpy as np, sys; print(np.load(sys.argv[1])['x'].shape[0])" "$W/t1.test.npz")
declare -A torch_s
while read -r name s; do torch_s[$name]=$s; done < <("$PY" bench/engine_torch.py "$W/koo-cnn-deep" \
  "$W/koo-cnn-shallow" "$W/t1.test.npz" "$N_TEST" "$N_SALIENCY" "$N_ISM" "$N_IG" "$THREADS")
peak=$("$BIN/examples/gemm_peak" 1024 "$THREADS" | cut -d' ' -f2)
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
# koo-cnn-deep at L = 200: 4.59M multiply-adds per sequence (conv 0.49M + 2.15M + 1.42M + 0.33M, dense 0.20M).
gflops=$(python3 -c "print(f'{2 * 4.59e6 * $N_TEST / $pred_deep / 1e9:.1f}')")
echo "| task | sequences | gkd s | reference | reference s | speed-up of gkd |"
echo "|---|---|---|---|---|---|"
echo "| gkd-predict koo-cnn-deep | $N_TEST | $pred_deep | PyTorch inference | ${torch_s[torch-predict-deep]} | $(ratio "${torch_s[torch-predict-deep]}" "$pred_deep") |"
echo "| gkd-predict koo-cnn-shallow | $N_TEST | $pred_shallow | PyTorch inference | ${torch_s[torch-predict-shallow]} | $(ratio "${torch_s[torch-predict-shallow]}" "$pred_shallow") |"
echo "| gkd-predict koo-cnn-deep | $N_TEST | $pred_deep | gkd-predict --engine burn | $pred_deep_burn | $(ratio "$pred_deep_burn" "$pred_deep") |"
echo "| gkd-predict koo-cnn-shallow | $N_TEST | $pred_shallow | gkd-predict --engine burn | $pred_shallow_burn | $(ratio "$pred_shallow_burn" "$pred_shallow") |"
echo "| saliency | $N_SALIENCY | $sal | PyTorch autograd input gradients | ${torch_s[torch-saliency]} | $(ratio "${torch_s[torch-saliency]}" "$sal") |"
echo "| integrated gradients, 50 steps | $N_IG | $ig | Captum IntegratedGradients | ${torch_s[captum-ig]} | $(ratio "${torch_s[captum-ig]}" "$ig") |"
echo "| naive ISM | $N_ISM | $naive | tangermeme saturation_mutagenesis fast=False | ${torch_s[tangermeme-ism-naive]} | $(ratio "${torch_s[tangermeme-ism-naive]}" "$naive") |"
echo "| fast ISM | $N_ISM | $fast | tangermeme saturation_mutagenesis fast=True | ${torch_s[tangermeme-ism-fast]} | $(ratio "${torch_s[tangermeme-ism-fast]}" "$fast") |"
echo "| fast vs naive ISM (gkd), L = 200 | $N_ISM | $fast | gkd naive ISM | $naive | $(ratio "$naive" "$fast") |"
echo "| fast vs naive ISM (gkd), L = 1,000 | $N_LONG | $long_fast | gkd naive ISM | $long_naive | $(ratio "$long_naive" "$long_fast") |"
echo
echo "Engine on koo-cnn-deep (gkd-predict, whole command): $gflops GFLOP/s; this machine's float32 GEMM (gemm crate, 1024³, $THREADS threads): $peak GFLOP/s."
