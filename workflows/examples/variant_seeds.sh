#!/usr/bin/env bash
# Do students rank variants like their teacher, and find the motif-breaking ones? Over training
# seeds, with paired statistics. gkd-synth variants writes one motif-breaking SNV per embedded site
# of a synthetic test split and one background SNV per motif SNV; gkd-variant scores every model of
# a seed on them; gkd-score variants compares each model's |alt − ref| ranking with the first
# model's (Spearman, top-k overlap) and scores motif against background variants (AUROC);
# gkd-score sweep gives mean ± sd over seeds and paired differences from --reference.
#   usage: workflows/examples/variant_seeds.sh TEST_NPZ OUT_DIR SEEDS MODEL [MODEL...]
#     TEST_NPZ  a gkd-synth split with its truth and NAME.sites.tsv
#     SEEDS     training seeds, e.g. "1 2 3"
#     MODEL     NAME=DIR, or NAME=DIR,DIR,... for an ensemble (logits averaged); "{seed}" in a
#               DIR is replaced by the seed. The first MODEL is the ranking reference (the teacher).
#   env: REFERENCE (the sweep's paired reference, default scratch), THREADS (default 2), TOP_K
#   (default 100)
#   needs: the gkd tools on PATH. Writes OUT_DIR/variants.{fa,fa.fai,vcf,truth.tsv},
#   OUT_DIR/seedS/{effects,variants}.{tsv,json}, OUT_DIR/sweep.{tsv,json}.
set -euo pipefail
DATA="$1"; OUT="$2"; SEEDS="$3"; shift 3
REFERENCE="${REFERENCE:-scratch}"; THREADS="${THREADS:-2}"; TOP_K="${TOP_K:-100}"
mkdir -p "$OUT"
[ -f "$OUT/variants.vcf" ] || gkd-synth variants --data "$DATA" --seed 1 -o "$OUT/variants" -q
first="${1%%=*}"
reports=()
for seed in $SEEDS; do
  s="$OUT/seed$seed"; mkdir -p "$s"
  flags=()
  for spec in "$@"; do
    spec="${spec//\{seed\}/$seed}"
    case "$spec" in *,*) flags+=(--ensemble "$spec") ;; *) flags+=(--model "$spec") ;; esac
  done
  [ -f "$s/effects.tsv" ] || gkd-variant "${flags[@]}" --vcf "$OUT/variants.vcf" --fasta "$OUT/variants.fa" \
    --threads "$THREADS" -o "$s/effects" -q
  gkd-score variants -i "$s/effects.tsv" --reference "$first" --truth "$OUT/variants.truth.tsv" --top-k "$TOP_K" \
    -o "$s/variants.tsv" --json "$s/variants.json" -q
  reports+=(--report "seed$seed=$s/variants.json")
done
gkd-score sweep "${reports[@]}" --reference "$REFERENCE" -o "$OUT/sweep.tsv" --json "$OUT/sweep.json" -q
column -t "$OUT/sweep.tsv" | cut -c1-200
