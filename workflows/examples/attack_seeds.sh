#!/usr/bin/env bash
# Adversarial robustness of teachers and students over training seeds, with paired statistics.
# For each seed and model: gkd-attack (greedy ISM, HotFlip, projected gradient, random; flip goal
# at the model's rate-matched threshold on the validation split) on the first FIRST test rows
# positive for CLASS; gkd-attack detect on the successful rows of each attack (reverse complement,
# the other models of SQUEEZE_MODELS, the MASK fraction of least-attributed positions); then
# gkd-score robustness per seed, gkd-score sweep over seeds, and a dashboard.
#   usage: workflows/examples/attack_seeds.sh DATA_PREFIX OUT_DIR SEEDS MODEL [MODEL...]
#     DATA_PREFIX  splits PREFIX.valid.npz and PREFIX.test.npz ("{seed}" is replaced by the seed);
#                  PREFIX.test.sites.tsv is used when it lists sites of CLASS
#     SEEDS        training seeds, e.g. "1 2 3"
#     MODEL        NAME=DIR ("{seed}" replaced); distilled students named KIND_T{T}_a{alpha}
#   env: CLASS (default: the models' only class), FIRST (default 400), BUDGET (default 10),
#        SQUEEZE_MODELS (comma-separated model dirs for the ensemble squeezer, "{seed}" replaced;
#        a model never squeezes itself), MASK (default 0.5), REFERENCE (default scratch),
#        THREADS (default 2)
#   needs: the gkd tools on PATH. Writes OUT_DIR/seedS/NAME.{tsv,json,ATTACK.npz},
#   OUT_DIR/seedS/NAME.detect.ATTACK.{tsv,json}, OUT_DIR/seedS/robustness.{tsv,json},
#   OUT_DIR/sweep.{tsv,json}, OUT_DIR/report.html.
set -euo pipefail
DATA="$1"; OUT="$2"; SEEDS="$3"; shift 3
FIRST="${FIRST:-400}"; BUDGET="${BUDGET:-10}"; MASK="${MASK:-0.5}"; REFERENCE="${REFERENCE:-scratch}"
THREADS="${THREADS:-2}"; SQUEEZE_MODELS="${SQUEEZE_MODELS:-}"
mkdir -p "$OUT"
reports=()
for seed in $SEEDS; do
  s="$OUT/seed$seed"; mkdir -p "$s"
  d="${DATA//\{seed\}/$seed}"
  class=(); [ -n "${CLASS:-}" ] && class=(--class "$CLASS")
  positives="${CLASS:-0}"
  sites=()
  if [ -n "${CLASS:-}" ] && [ -f "$d.test.sites.tsv" ] && awk -F'\t' -v c="$CLASS" 'NR > 1 && $NF == c { f = 1; exit } END { exit !f }' "$d.test.sites.tsv"; then
    sites=(--sites "$d.test.sites.tsv")
  fi
  inputs=(); detections=()
  for spec in "$@"; do
    name="${spec%%=*}"; dir="${spec#*=}"; dir="${dir//\{seed\}/$seed}"
    [ -f "$s/$name.json" ] || gkd-attack --model "$dir" --data "$d.test.npz" "${class[@]}" --positives "$positives" \
      --first "$FIRST" --budget "$BUDGET" --threshold-from "$d.valid.npz" "${sites[@]}" --threads "$THREADS" \
      -o "$s/$name" -q
    inputs+=(-i "$name=$s/$name.json")
    squeeze=()
    for other in ${SQUEEZE_MODELS//,/ }; do
      other="${other//\{seed\}/$seed}"
      [ "$(realpath "$other")" = "$(realpath "$dir")" ] || squeeze+=(--ensemble-model "$other")
    done
    for attack in greedy-ism hotflip pgd random; do
      # Detection needs at least one row the attack changed and broke.
      awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "attack_success") c = i; if ($i == "substitutions") k = i } }
                  NR > 1 && $c == 1 && $k > 0 { f = 1 } END { exit !f }' \
        "$s/$name.$attack.rows.tsv" || continue
      [ -f "$s/$name.detect.$attack.json" ] || gkd-attack detect --model "$dir" --clean "$d.test.npz" \
        --adversarial "$s/$name.$attack.npz" --rc "${squeeze[@]}" --mask "$MASK" --threads "$THREADS" \
        -o "$s/$name.detect.$attack" -q
      detections+=(--detection "$name=$s/$name.detect.$attack.json")
    done
  done
  gkd-score robustness "${inputs[@]}" "${detections[@]}" -o "$s/robustness.tsv" --json "$s/robustness.json" -q
  reports+=(--report "seed$seed=$s/robustness.json")
done
gkd-score sweep "${reports[@]}" --reference "$REFERENCE" -o "$OUT/sweep.tsv" --json "$OUT/sweep.json" -q
gkd-report --scores "$OUT/sweep.json" --scores "$OUT/seed${SEEDS%% *}/robustness.json" -o "$OUT/report.html" -q
column -t "$OUT/sweep.tsv" | grep -E "^model|success_rate|median_substitutions|robust_k(1|3|5)\.|motif_fraction|site_fraction|detector_auroc" | cut -c1-200
