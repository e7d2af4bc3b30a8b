#!/usr/bin/env bash
# Build the tools and run the main job on the bundled data: the Koo & Eddy synthetic benchmark
# (task 1) and a real sequence set (PUM2 eCLIP sites) turned into dataset splits under results/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked --workspace --bins
BIN="$CARGO_TARGET_DIR/release"
OUT="${1:-results/quickstart}"

"$BIN/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --seed 1 -o "$OUT/task1/task1.{split}.npz"
"$BIN/gkd-synth" task3 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --decoys test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme \
  --seed 1 -o "$OUT/task3/task3.{split}.npz"
"$BIN/gkd-onehot" --table test-data/seqdata/concise_PUM2_valid.csv.gz --seq-column seq \
  --label-columns binding_site --split train=0.7,valid=0.1,test=0.2 --seed 1 \
  -o "$OUT/pum2/pum2.{split}.npz"
"$BIN/gkd-onehot" --fasta test-data/fasta/dm3_chr2L_1-10050.fa \
  --bed test-data/annotation/dm3_chr2L_1-10050_features.bed --length 200 --label-columns 5 \
  -o "$OUT/dm3/features.npz"
echo "Datasets written under $OUT:" >&2
ls -R "$OUT" >&2
