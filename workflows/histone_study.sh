#!/usr/bin/env bash
# DeepChrome vs AttentiveChrome on the DeepChrome CSVs bundled in test-data (the toy split of the
# AttentiveChrome repository: 10 genes per split, 5 marks x 100 bins) — or on any directory holding
# train.csv / valid.csv / test.csv of one Roadmap cell type. Prints test AUROC per model and seed.
#   usage: workflows/histone_study.sh OUT_DIR [CSV_DIR]
#   env:   SEEDS ("1 2 3"), EPOCHS (30), BIN (built tools)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?usage: histone_study.sh OUT_DIR [CSV_DIR]}"; CSV="${2:-test-data/deepchrome_toy}"
SEEDS="${SEEDS:-1 2 3}"; EPOCHS="${EPOCHS:-30}"
BIN="${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release}"
mkdir -p "$OUT"
for split in train valid test; do
  "$BIN/gkd-histone" --from-deepchrome "$CSV/$split.csv" -o "$OUT/h.$split.npz"
done
echo "| model | seed | test AUROC | test AUPR |"
echo "|---|---|---|---|"
for seed in $SEEDS; do
  for arch in deepchrome attentivechrome; do
    "$BIN/gkd-train" --arch "$arch" --train "$OUT/h.train.npz" --valid "$OUT/h.valid.npz" --epochs "$EPOCHS" \
      --batch-size 10 --monitor loss --seed "$seed" -q -o "$OUT/$arch.seed$seed"
    "$BIN/gkd-predict" --model "$OUT/$arch.seed$seed" --data "$OUT/h.test.npz" -q \
      -o "$OUT/$arch.seed$seed.test.npz" --metrics "$OUT/$arch.seed$seed.test.metrics.tsv"
    awk -F'\t' -v a="$arch" -v s="$seed" '$1 == "macro" {print "| " a " | " s " | " $4 " | " $5 " |"}' \
      "$OUT/$arch.seed$seed.test.metrics.tsv"
  done
done
