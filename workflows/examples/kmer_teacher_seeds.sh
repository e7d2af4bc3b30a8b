#!/usr/bin/env bash
# A gapped k-mer SVM next to the CNNs, and as a teacher, over seeds (Koo & Ploenzke's task 3).
# Per seed: a task-3 data set (gkd-synth, the seed's own draw); a CNN teacher (koo-cnn-dist, relu);
# a gkm-SVM (gkd-kmer, LS-GKM's l 11, k 7, d 3, C 1); an ensemble of the two (logits averaged);
# a koo-cnn-shallow from scratch and one distilled from each teacher's cached logits at each
# temperature in TEMPERATURES (alpha 0.5). Every model is scored for prediction on the test split
# and for motif recovery (saliency and fast ISM for the CNNs, GkmExplain for the SVM) on the first
# 500 positive test rows; gkd-score sweep gives mean +/- sd over seeds and paired differences from
# the scratch student.
#   usage: workflows/examples/kmer_teacher_seeds.sh OUT_DIR SEEDS
#   env: N (positives and negatives each, default 2000), EPOCHS (100; patience 10), TEMPERATURES ("1 15"),
#        THREADS (2)
#   needs: the gkd tools on PATH. Writes OUT_DIR/seedS/{data,models,preds,attr,scores},
#   OUT_DIR/sweep.{tsv,json}, OUT_DIR/times.tsv (seconds per model: training, or solving).
set -euo pipefail
OUT="$1"; SEEDS="$2"
N="${N:-2000}"; EPOCHS="${EPOCHS:-100}"; TEMPERATURES="${TEMPERATURES:-1 15}"; THREADS="${THREADS:-2}"
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
MOTIFS="$HERE/test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar"
DECOYS="$HERE/test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme"
mkdir -p "$OUT"
[ -f "$OUT/times.tsv" ] || printf 'seed\tmodel\tseconds\n' > "$OUT/times.tsv"
timed() { # seed model command...: run, record its wall time
  local seed="$1" model="$2"; shift 2
  local t0; t0=$(date +%s.%N)
  "$@"
  printf '%s\t%s\t%.1f\n' "$seed" "$model" "$(echo "$(date +%s.%N) - $t0" | bc)" >> "$OUT/times.tsv"
}
reports=()
for seed in $SEEDS; do
  s="$OUT/seed$seed"; mkdir -p "$s"/{data,models,preds,attr,scores}
  d="$s/data/t"
  [ -f "$d.test.npz" ] || gkd-synth task3 --motifs "$MOTIFS" --decoys "$DECOYS" --n-positive "$N" --n-negative "$N" \
    --seed "$seed" -o "$d.{split}.npz" -q
  train=(--train "$d.train.npz" --valid "$d.valid.npz" --epochs "$EPOCHS" --patience 10 --plateau-patience 5
         --batch-size 100 --seed "$seed" --threads "$THREADS" -q)
  [ -d "$s/models/teacher" ] || timed "$seed" teacher gkd-train --arch koo-cnn-dist --first-activation relu "${train[@]}" -o "$s/models/teacher"
  [ -d "$s/models/scratch" ] || timed "$seed" scratch gkd-train --arch koo-cnn-shallow --first-activation relu "${train[@]}" -o "$s/models/scratch"
  [ -d "$s/models/gkmsvm" ] || timed "$seed" gkmsvm gkd-kmer train --data "$d.train.npz" -l 11 -k 7 -d 3 -c 1 --threads "$THREADS" -q -o "$s/models/gkmsvm"
  # The teachers' logits on the training rows: the students' soft targets.
  declare -A members=([teacher]="$s/models/teacher" [gkmsvm]="$s/models/gkmsvm" [ensemble]="$s/models/gkmsvm $s/models/teacher")
  for t in teacher gkmsvm ensemble; do
    flags=(); for m in ${members[$t]}; do flags+=(--model "$m"); done
    [ -f "$s/preds/$t.train.tsv" ] || gkd-predict "${flags[@]}" --data "$d.train.npz" -o "$s/preds/$t.train.npz" \
      --tsv "$s/preds/$t.train.tsv" --threads "$THREADS" -q
  done
  students=()
  for t in teacher gkmsvm ensemble; do
    for T in $TEMPERATURES; do
      name="${t}_T${T}_a0.5"; students+=("$name")
      [ -d "$s/models/$name" ] || timed "$seed" "$name" gkd-train --arch koo-cnn-shallow --first-activation relu "${train[@]}" \
        --soft-targets "$s/preds/$t.train.tsv" --temperature "$T" --alpha 0.5 -o "$s/models/$name"
    done
  done
  members+=([scratch]="$s/models/scratch")
  for st in "${students[@]}"; do members+=([$st]="$s/models/$st"); done
  models=(teacher gkmsvm ensemble scratch "${students[@]}")
  inputs=()
  for m in "${models[@]}"; do
    flags=(); for dir in ${members[$m]}; do flags+=(--model "$dir"); done
    [ -f "$s/preds/$m.test.npz" ] || gkd-predict "${flags[@]}" --data "$d.test.npz" -o "$s/preds/$m.test.npz" --threads "$THREADS" -q
    inputs+=(-i "$m=$s/preds/$m.test.npz")
  done
  gkd-score predictive --data "$d.test.npz" "${inputs[@]}" -o "$s/scores/predictive.tsv" --json "$s/scores/predictive.json" -q
  maps=()
  for m in teacher gkmsvm scratch "${students[@]}"; do
    if [ "$m" = gkmsvm ]; then methods=(gkmexplain); else methods=(saliency ism-fast); fi
    for method in "${methods[@]}"; do
      [ -f "$s/attr/$m.$method.npz" ] || gkd-attribute --model "${members[$m]}" --data "$d.test.npz" --positives positive \
        --first 500 --method "$method" --threads "$THREADS" -q -o "$s/attr/$m.$method.npz"
      maps+=(-i "$m.$method=$s/attr/$m.$method.npz")
    done
  done
  gkd-score recovery --data "$d.test.npz" "${maps[@]}" --first 500 -o "$s/scores/recovery.tsv" --json "$s/scores/recovery.json" -q
  reports+=(--report "seed$seed=$s/scores/predictive.json" --report "seed$seed=$s/scores/recovery.json")
  unset members
done
gkd-score sweep "${reports[@]}" --reference scratch -o "$OUT/sweep.tsv" --json "$OUT/sweep.json" -q
column -t "$OUT/sweep.tsv" | cut -c1-200
