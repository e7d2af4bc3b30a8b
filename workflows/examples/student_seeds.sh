#!/usr/bin/env bash
# Scratch against distilled students over many training seeds, with paired statistics: does
# distillation help the student predict and explain? One dataset and one trained teacher; for each
# seed a scratch and a distilled student (T 15, alpha 0.5) start from the same seed, so each seed
# is one pair. Per seed: test macro AUROC / AUPR, agreement with the teacher, and saliency and
# DeepSHAP motif recovery on the first 500 test rows carrying CLASS; then `gkd-score sweep`
# (paired t-test with 95% CI, Wilcoxon and sign tests against the scratch student) and a
# dashboard with the paired-difference figure.
#   usage: workflows/examples/student_seeds.sh DATA_PREFIX TEACHER_DIR OUT_DIR [SEEDS] [-- TRAIN_FLAGS...]
#     DATA_PREFIX  gkd-synth splits PREFIX.{train,valid,test}.npz (they carry the ground truth)
#     TEACHER_DIR  a trained teacher model directory
#     SEEDS        training seeds (default "1 2 3 4 5 6 7 8 9 10")
#     TRAIN_FLAGS  gkd-train flags for both students (the recipe), e.g. --init torch
#   env: ARCH (default koo-cnn-shallow), CLASS (default CEBPB), THREADS (default 2)
#   needs: the gkd tools on PATH. Writes OUT_DIR/seedS/…, OUT_DIR/sweep.{tsv,json}, OUT_DIR/report.html.
set -euo pipefail
DATA="$1"; TEACHER="$2"; OUT="$3"; shift 3
SEEDS="1 2 3 4 5 6 7 8 9 10"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then SEEDS="$1"; shift; fi
[ "${1:-}" = "--" ] && shift
ARCH="${ARCH:-koo-cnn-shallow}"; CLASS="${CLASS:-CEBPB}"; THREADS="${THREADS:-2}"
mkdir -p "$OUT"
reports=()
for seed in $SEEDS; do
  s="$OUT/seed$seed"; mkdir -p "$s"
  for m in scratch distilled; do
    distil=(); [ "$m" = distilled ] && distil=(--teacher "$TEACHER" --temperature 15 --alpha 0.5)
    [ -f "$s/$m/model.json" ] || gkd-train --arch "$ARCH" --train "$DATA.train.npz" --valid "$DATA.valid.npz" \
      --seed "$seed" --threads "$THREADS" --resume -q -o "$s/$m" "${distil[@]}" "$@"
    [ -f "$s/$m.predictions.npz" ] || gkd-predict --model "$s/$m" --data "$DATA.test.npz" \
      -o "$s/$m.predictions.npz" --threads "$THREADS" -q
    for method in saliency deepshap; do
      [ -f "$s/$m.$method.npz" ] || gkd-attribute --model "$s/$m" --data "$DATA.test.npz" --method "$method" \
        --positives "$CLASS" --first 500 -o "$s/$m.$method.npz" --threads "$THREADS" -q
    done
  done
  [ -f "$s/teacher.predictions.npz" ] || gkd-predict --model "$TEACHER" --data "$DATA.test.npz" \
    -o "$s/teacher.predictions.npz" --threads "$THREADS" -q
  gkd-score predictive --data "$DATA.test.npz" -i teacher="$s/teacher.predictions.npz" \
    -i scratch="$s/scratch.predictions.npz" -i distilled="$s/distilled.predictions.npz" \
    --agreement-with teacher -o "$s/predictive.tsv" --json "$s/predictive.json" -q
  maps=(); for m in scratch distilled; do for method in saliency deepshap; do maps+=(-i "$m.$method=$s/$m.$method.npz"); done; done
  gkd-score recovery --data "$DATA.test.npz" "${maps[@]}" -o "$s/recovery.tsv" --json "$s/recovery.json" -q
  reports+=(--report "seed$seed=$s/predictive.json" --report "seed$seed=$s/recovery.json")
done
gkd-score sweep "${reports[@]}" --reference scratch -o "$OUT/sweep.tsv" --json "$OUT/sweep.json" -q
gkd-report --scores "$OUT/sweep.json" -o "$OUT/report.html" -q
column -t "$OUT/sweep.tsv" | grep -E "^model|test_aupr|recovery_auroc"
