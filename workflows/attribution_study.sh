#!/usr/bin/env bash
# The attribution study (DESIGN §4.1, §4.2, §4.4, §4.5) on Koo & Ploenzke's task 3:
#  1. Koo & Ploenzke's comparison: CNN-local and CNN-dist with relu and exponential first layers,
#     saliency / integrated gradients / ISM motif-recovery AUROC over the first 500 positive test
#     sequences.
#  2. The seed's question: teacher (koo-cnn-dist, relu) -> student koo-cnn-local from scratch and
#     distilled (T, alpha); motif recovery of all three, per seed.
# Models that already exist are reused (so an interrupted run goes on where it stopped).
#   usage: workflows/attribution_study.sh OUT_DIR
#   env:   SEEDS ("1 2 3"), KOO_SEEDS (seeds for part 1; default: SEEDS), EPOCHS (60), PATIENCE (10),
#          PLATEAU (5), T (15), ALPHA (0.5), N_POS (500), THREADS, BIN (built tools),
#          TRAIN_ONLY=1 (stop after training), SUMMARY_ONLY=1 (only print the tables)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?usage: attribution_study.sh OUT_DIR}"
SEEDS="${SEEDS:-1 2 3}"; KOO_SEEDS="${KOO_SEEDS-$SEEDS}"
EPOCHS="${EPOCHS:-60}"; PATIENCE="${PATIENCE:-10}"; PLATEAU="${PLATEAU:-5}"
T="${T:-15}"; ALPHA="${ALPHA:-0.5}"; N_POS="${N_POS:-500}"
BIN="${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release}"
THREADS_FLAG=(); [ -n "${THREADS:-}" ] && THREADS_FLAG=(--threads "$THREADS")

train() { # train DIR NAME ARCH ACTIVATION [extra gkd-train args...]; the model goes to DIR/NAME
  local d="$1" out="$1/$2" arch="$3" act="$4"; shift 4
  [ -f "$out/model.json" ] && return 0
  "$BIN/gkd-train" --arch "$arch" --first-activation "$act" --train "$d/task3.train.npz" \
    --valid "$d/task3.valid.npz" --epochs "$EPOCHS" --patience "$PATIENCE" --plateau-patience "$PLATEAU" \
    --seed "$seed" "${THREADS_FLAG[@]}" -o "$out" "$@"
}

for seed in $(echo $SEEDS $KOO_SEEDS | tr ' ' '\n' | sort -un); do
  [ -n "${SUMMARY_ONLY:-}" ] && break
  d="$OUT/seed$seed"
  mkdir -p "$d"
  [ -f "$d/task3.test.npz" ] || "$BIN/gkd-synth" task3 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
    --decoys test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme --seed "$seed" -o "$d/task3.{split}.npz"
  if [[ " $KOO_SEEDS " == *" $seed "* ]]; then
    for arch in koo-cnn-local koo-cnn-dist; do for act in relu exponential; do
      train "$d" "$arch-$act" "$arch" "$act"
    done; done
  fi
  if [[ " $SEEDS " == *" $seed "* ]]; then
    train "$d" koo-cnn-dist-relu koo-cnn-dist relu
    [ -f "$d/teacher.train.tsv" ] || "$BIN/gkd-predict" --model "$d/koo-cnn-dist-relu" \
      --data "$d/task3.train.npz" -o "$d/teacher.train.npz" --tsv "$d/teacher.train.tsv" "${THREADS_FLAG[@]}"
    train "$d" koo-cnn-local-relu koo-cnn-local relu
    train "$d" distilled koo-cnn-local relu --soft-targets "$d/teacher.train.tsv" --temperature "$T" --alpha "$ALPHA"
  fi
  [ -n "${TRAIN_ONLY:-}" ] && continue
done
