#!/usr/bin/env bash
# Attribution speed (issue 5): gkd-attribute naive vs fast ISM on koo-cnn-deep (4 x 200, 12
# classes), $N_ISM (1,000) sequences, and ISM / integrated gradients (50 steps, zeros baseline,
# $N_IG sequences) against tangermeme's saturation_mutagenesis and Captum's IntegratedGradients on
# the same weights in PyTorch CPU; $THREADS (2) threads everywhere. Also fast vs naive ISM at
# L = 1,000 ($N_LONG sequences), the length fastISM's ~10x was reported for. The model is trained for one
# epoch (speed does not depend on how well it is trained). Prints a Markdown table.
#   TORCH_VENV  venv with torch, captum and tangermeme (default: ~/.cache/gkd/venv)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
N_ISM="${N_ISM:-1000}"; N_IG="${N_IG:-200}"; THREADS="${THREADS:-2}"; N_LONG="${N_LONG:-20}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
"$PY" -c "import captum, tangermeme" 2>/dev/null || "$PY" -m pip install --quiet captum==0.9.0 tangermeme==1.6.0
cargo build --release --locked --workspace --bins >&2
BIN="$CARGO_TARGET_DIR/release"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
"$BIN/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 6000 --seed 1 \
  --split train=0.5,valid=0.1,test=0.4 -o "$W/t1.{split}.npz" 2>/dev/null
"$BIN/gkd-train" --arch koo-cnn-deep --train "$W/t1.train.npz" --valid "$W/t1.valid.npz" --epochs 1 --seed 1 \
  -o "$W/model" -q --threads "$THREADS"
secs() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
attr() { secs "$BIN/gkd-attribute" --model "$W/model" --data "$W/t1.test.npz" --target 0 -q --threads "$THREADS" "$@"; }
naive=$(attr --method ism --rows "0:$N_ISM" -o "$W/ism.npz")
fast=$(attr --method ism-fast --rows "0:$N_ISM" -o "$W/ismf.npz")
ig=$(attr --method ig --steps 50 --rows "0:$N_IG" -o "$W/ig.npz")
"$BIN/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 500 --length 1000 --seed 1 \
  -o "$W/long.{split}.npz" 2>/dev/null
"$BIN/gkd-train" --arch koo-cnn-deep --train "$W/long.train.npz" --valid "$W/long.valid.npz" --epochs 1 \
  --seed 1 -o "$W/long" -q --threads "$THREADS"
long() { secs "$BIN/gkd-attribute" --model "$W/long" --data "$W/long.train.npz" --target 0 -q --threads "$THREADS" --rows "0:$N_LONG" "$@"; }
long_naive=$(long --method ism -o "$W/long_ism.npz")
long_fast=$(long --method ism-fast -o "$W/long_ismf.npz")
"$PY" - "$W/ism.npz" "$W/ismf.npz" <<'PY' >&2
import numpy as np, sys
a, b = (np.load(p)["attr"] for p in sys.argv[1:3])
print(f"fast vs naive ISM: max |diff| {np.abs(a - b).max():.2e}")
PY
declare -A torch_s
while read -r name s; do torch_s[$name]=$s; done < <("$PY" bench/attribution_torch.py "$W/model" "$W/t1.test.npz" "$N_ISM" "$N_IG" "$THREADS")
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
echo "| task | sequences | gkd s | reference | reference s | speed-up of gkd |"
echo "|---|---|---|---|---|---|"
echo "| fast ISM vs naive ISM (gkd) | $N_ISM | $fast | gkd naive ISM | $naive | $(ratio "$naive" "$fast") |"
echo "| fast ISM vs naive ISM (gkd), L = 1,000 | $N_LONG | $long_fast | gkd naive ISM | $long_naive | $(ratio "$long_naive" "$long_fast") |"
echo "| naive ISM | $N_ISM | $naive | tangermeme saturation_mutagenesis fast=False | ${torch_s[tangermeme-ism-naive]} | $(ratio "${torch_s[tangermeme-ism-naive]}" "$naive") |"
echo "| fast ISM | $N_ISM | $fast | tangermeme saturation_mutagenesis fast=True | ${torch_s[tangermeme-ism-fast]} | $(ratio "${torch_s[tangermeme-ism-fast]}" "$fast") |"
echo "| integrated gradients, 50 steps | $N_IG | $ig | Captum IntegratedGradients | ${torch_s[captum-ig]} | $(ratio "${torch_s[captum-ig]}" "$ig") |"
