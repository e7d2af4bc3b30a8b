#!/usr/bin/env bash
# The seed study (docs/design.md §4.1-4.3): Koo & Eddy task 1 -> teacher koo-cnn-deep -> its logits on
# the training rows -> student koo-cnn-shallow from scratch and distilled (T, alpha) -> test
# AUROC/AUPR of all three, for each seed. Prints a summary table (mean +/- sd over seeds).
#   usage: workflows/seed_study.sh OUT_DIR
#   env:   N (30000 sequences), SEEDS ("1 2 3"), EPOCHS (100), PATIENCE (20), PLATEAU (5), T (15), ALPHA (0.5),
#          THREADS (all cores), BIN (built tools; default $CARGO_TARGET_DIR/release),
#          SUMMARY_ONLY=1 (only print the table of finished seeds, e.g. after running seeds in parallel)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?usage: seed_study.sh OUT_DIR}"
N="${N:-30000}"; SEEDS="${SEEDS:-1 2 3}"; EPOCHS="${EPOCHS:-100}"; PATIENCE="${PATIENCE:-20}"
T="${T:-15}"; ALPHA="${ALPHA:-0.5}"; PLATEAU="${PLATEAU:-5}"
BIN="${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release}"
THREADS_FLAG=(); [ -n "${THREADS:-}" ] && THREADS_FLAG=(--threads "$THREADS")
MOTIFS=test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar

for seed in $SEEDS; do
  [ -n "${SUMMARY_ONLY:-}" ] && break
  d="$OUT/seed$seed"
  mkdir -p "$d"
  "$BIN/gkd-synth" task1 --motifs "$MOTIFS" --n "$N" --seed "$seed" -o "$d/task1.{split}.npz"
  common=(--train "$d/task1.train.npz" --valid "$d/task1.valid.npz" --epochs "$EPOCHS" --patience "$PATIENCE" --plateau-patience "$PLATEAU"
          --seed "$seed" "${THREADS_FLAG[@]}")
  "$BIN/gkd-train" --arch koo-cnn-deep "${common[@]}" -o "$d/teacher"
  "$BIN/gkd-predict" --model "$d/teacher" --data "$d/task1.train.npz" -o "$d/teacher.train.npz" "${THREADS_FLAG[@]}"
  "$BIN/gkd-train" --arch koo-cnn-shallow "${common[@]}" -o "$d/scratch"
  "$BIN/gkd-train" --arch koo-cnn-shallow "${common[@]}" --soft-targets "$d/teacher.train.tsv" \
    --temperature "$T" --alpha "$ALPHA" -o "$d/distilled"
  for model in teacher scratch distilled; do
    "$BIN/gkd-predict" --model "$d/$model" --data "$d/task1.test.npz" -o "$d/$model.test.npz" \
      --metrics "$d/$model.test.metrics.tsv" "${THREADS_FLAG[@]}"
  done
done

# Summary: macro test AUROC / AUPR per model, mean +/- sd over seeds.
python3 - "$OUT" $SEEDS <<'PY'
import statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
print("| model | test AUROC | test AUPR | seeds |")
print("|---|---|---|---|")
for model in ("teacher", "distilled", "scratch"):
    vals = {"auroc": [], "aupr": []}
    for s in seeds:
        for line in open(f"{out}/seed{s}/{model}.test.metrics.tsv"):
            f = line.rstrip("\n").split("\t")
            if f[0] == "macro":
                vals["auroc"].append(float(f[3])); vals["aupr"].append(float(f[4]))
    fmt = lambda v: f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}" if len(v) > 1 else f"{v[0]:.4f}"
    print(f"| {model} | {fmt(vals['auroc'])} | {fmt(vals['aupr'])} | {len(vals['aupr'])} |")
PY
