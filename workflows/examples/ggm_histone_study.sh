#!/usr/bin/env bash
# Gaussian graphical models of histone marks × bins against a ground truth, and against
# AttentiveChrome's attention (RESULTS.md, "Networks of histone marks").
# Three synthetic "cell types" (gkd-synth histone on the bundled DeepChrome counts), each with its
# own expression rule, so that among the expressed genes the rule's marks depend on each other in
# the rule's bins (conditioning on the label couples them) and nowhere else across marks; within a
# mark, neighbouring bins depend on each other in every cell type (the real profiles). Per cell
# type an AttentiveChrome is trained and its attention (α over bins per mark, β over marks) read
# on the expressed test genes. Then JEEK, FASJEM and the single-task estimator over the three
# cell types' expressed training genes (POOL bins per feature, log counts), and DIFFEE between the
# unexpressed and expressed genes of the bundled DeepChrome toy data (all 30 genes of its splits).
#   usage: workflows/examples/ggm_histone_study.sh OUT_DIR
#   env: N (genes per cell type, default 6000), EPOCHS (default 10), POOL (bins per feature, default
#        20), THREADS (default 2)
#   needs: the gkd tools on PATH; python3 with numpy and scipy for the analysis
#   (workflows/examples/ggm_histone_analysis.py). Writes OUT_DIR/cell{A,B,C}.*,
#   OUT_DIR/models/, OUT_DIR/attention/, OUT_DIR/ggm/, OUT_DIR/report.html, OUT_DIR/analysis.md.
set -euo pipefail
OUT="$1"; N="${N:-6000}"; EPOCHS="${EPOCHS:-10}"; POOL="${POOL:-20}"; THREADS="${THREADS:-2}"
HERE="$(cd "$(dirname "$0")" && pwd)"; DATA="$HERE/../../test-data/deepchrome_toy"
mkdir -p "$OUT/models" "$OUT/attention" "$OUT/ggm"
declare -A RULE=(
  [A]="H3K4me3:40-60:+,H3K27me3:60-100:-"
  [B]="H3K36me3:50-100:+,H3K9me3:40-60:-"
  [C]="H3K4me1:30-50:+,H3K4me3:40-60:+"
)
seed=1
for c in A B C; do
  gkd-synth histone --background "$DATA/train.csv" --background "$DATA/valid.csv" --n "$N" --rule "${RULE[$c]}" \
    --seed "$seed" -q -o "$OUT/cell$c.{split}.npz"
  gkd-train --arch attentivechrome --train "$OUT/cell$c.train.npz" --valid "$OUT/cell$c.valid.npz" --epochs "$EPOCHS" \
    --patience 5 --batch-size 50 --seed "$seed" --threads "$THREADS" -q -o "$OUT/models/cell$c"
  gkd-attribute --model "$OUT/models/cell$c" --data "$OUT/cell$c.test.npz" --method attention --positives expressed \
    --threads "$THREADS" -q -o "$OUT/attention/cell$c.npz"
  gkd-predict --model "$OUT/models/cell$c" --data "$OUT/cell$c.test.npz" -q -o "$OUT/models/cell$c.test.npz"
  seed=$((seed + 1))
done
cells=(--data "$OUT/cellA.train.npz" --data "$OUT/cellB.train.npz" --data "$OUT/cellC.train.npz"
       --condition A --condition B --condition C --where-label expressed=1 --pool-bins "$POOL" --log1p)
for method in jeek fasjem ee; do
  gkd-ggm "${cells[@]}" --method "$method" --threads "$THREADS" -q -o "$OUT/ggm/cells.$method"
done
# The bundled DeepChrome data: its three splits' 30 genes as one split, unexpressed vs expressed.
cat "$DATA/train.csv" "$DATA/valid.csv" "$DATA/test.csv" > "$OUT/toy.csv"
gkd-histone --from-deepchrome "$OUT/toy.csv" -q -o "$OUT/toy.npz"
gkd-ggm --data "$OUT/toy.npz" --by-label expressed --pool-bins 10 --log1p --method diffee --threads "$THREADS" -q -o "$OUT/ggm/toy.diffee"
gkd-ggm --data "$OUT/toy.npz" --by-label expressed --pool-bins 10 --log1p --method jeek --threads "$THREADS" -q -o "$OUT/ggm/toy.jeek"
gkd-report --networks "$OUT/ggm/cells.jeek.json" --networks "$OUT/ggm/toy.diffee.json" --title "histone networks" -o "$OUT/report.html"
python3 "$HERE/ggm_histone_analysis.py" "$OUT" > "$OUT/analysis.md"
cat "$OUT/analysis.md"
