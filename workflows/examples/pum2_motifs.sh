#!/usr/bin/env bash
# Real-data motif check: PUM2 eCLIP sites (concise's data/RBP/PUM2_{train,valid,test}.csv)
# -> koo-cnn-local (exponential first layer) -> DeepSHAP on the test binding sites -> TF-MoDISco ->
# Tomtom against JASPAR 2016 core vertebrates plus PUM2's consensus UGUAHAUA (as DNA, TGTAHATA)
# -> gkd-score motifs. RESULTS.md reports what it found.
#   usage: workflows/examples/pum2_motifs.sh DIR_WITH_PUM2_CSVS OUT_DIR
#   needs: the gkd tools on PATH; modisco and a python3 with memelite and h5py (tests/python/requirements.txt)
set -euo pipefail
DATA="$1"; OUT="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$OUT"; cd "$OUT"
for split in train valid test; do
  gkd-onehot --table "$DATA/concise_PUM2_$split.csv.gz" --seq-column seq --label-columns binding_site -o "p.$split.npz" -q
done
gkd-train --arch koo-cnn-local --first-activation exponential --train p.train.npz --valid p.valid.npz \
          --epochs 30 --seed 1 -o model -q
gkd-predict --model model --data p.test.npz --metrics test_metrics.tsv -o test_predictions.npz -q
gkd-attribute --model model --data p.test.npz --method deepshap --positives binding_site -o deepshap.npz \
              --modisco modisco_inputs -q
# 101 nt: modisco-lite centres an even window, so -w 100.
modisco motifs -s modisco_inputs/sequences.npz -a modisco_inputs/attributions.npz -n 2000 -w 100 -o modisco.h5
{ cat "$ROOT/test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme"
  tail -n +9 "$ROOT/test-data/motifs/pum2_consensus.meme"; } > database.meme
python3 "$ROOT/workflows/scripts/gkd_tomtom.py" --modisco modisco.h5 --database database.meme -o patterns.json
gkd-score motifs --motif PUM2_UGUAHAUA -i model.deepshap=patterns.json -o motifs.tsv --json motifs.json
cat test_metrics.tsv motifs.tsv
