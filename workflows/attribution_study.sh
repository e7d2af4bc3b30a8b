#!/usr/bin/env bash
# The attribution study (docs/design.md §4.1, §4.2, §4.4, §4.5) on Koo & Ploenzke's task 3:
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

  # Attribution maps of the first N_POS positive test sequences, and their motif recovery.
  models=()
  [[ " $KOO_SEEDS " == *" $seed "* ]] && models+=(koo-cnn-local-relu koo-cnn-local-exponential koo-cnn-dist-relu koo-cnn-dist-exponential)
  [[ " $SEEDS " == *" $seed "* ]] && models+=(koo-cnn-dist-relu koo-cnn-local-relu distilled)
  inputs=()
  for model in $(printf '%s\n' "${models[@]}" | awk '!seen[$0]++'); do
    for method in saliency ig ism-fast; do
      a="$d/attr/$model.$method.npz"
      extra=(); [ "$method" = ig ] && extra=(--baseline shuffle --baselines 10 --steps 20 --seed "$seed")
      [ -f "$a" ] || "$BIN/gkd-attribute" --model "$d/$model" --data "$d/task3.test.npz" --positives positive \
        --first "$N_POS" --method "$method" "${extra[@]}" -o "$a" "${THREADS_FLAG[@]}"
      inputs+=(-i "$model.$method=$a")
    done
  done
  "$BIN/gkd-score" recovery --data "$d/task3.test.npz" "${inputs[@]}" --first "$N_POS" \
    -o "$d/recovery.tsv" --json "$d/recovery.json" "${THREADS_FLAG[@]}"
  if [[ " $SEEDS " == *" $seed "* ]]; then
    for model in koo-cnn-dist-relu koo-cnn-local-relu distilled; do
      [ -f "$d/$model.test.tsv" ] || "$BIN/gkd-predict" --model "$d/$model" --data "$d/task3.test.npz" \
        -o "$d/$model.test.npz" "${THREADS_FLAG[@]}"
    done
    "$BIN/gkd-score" predictive --data "$d/task3.test.npz" -i teacher="$d/koo-cnn-dist-relu.test.npz" \
      -i scratch="$d/koo-cnn-local-relu.test.npz" -i distilled="$d/distilled.test.npz" -o "$d/predictive.tsv"
    "$BIN/gkd-score" consistency -i teacher="$d/attr/koo-cnn-dist-relu.saliency.npz" \
      -i scratch="$d/attr/koo-cnn-local-relu.saliency.npz" --reference "$d/attr/koo-cnn-dist-relu.saliency.npz" \
      -o "$d/consistency.scratch.tsv"
    "$BIN/gkd-score" consistency -i teacher="$d/attr/koo-cnn-dist-relu.saliency.npz" \
      -i distilled="$d/attr/distilled.saliency.npz" --reference "$d/attr/koo-cnn-dist-relu.saliency.npz" \
      -o "$d/consistency.distilled.tsv"
  fi
done
[ -n "${TRAIN_ONLY:-}" ] && exit 0

# Summary tables: mean +/- sd over seeds.
python3 - "$OUT" "$KOO_SEEDS" "$SEEDS" <<'PY'
import csv, statistics, sys
out, koo_seeds, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def table(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))
def fmt(v):
    v = [x for x in v if x == x]
    if not v:
        return "NA"
    return f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}"
def recovery(seed_list, model, method, column="auroc_mean"):
    vals = []
    for s in seed_list:
        for r in table(f"{out}/seed{s}/recovery.tsv"):
            if r["model"] == f"{model}.{method}":
                vals.append(float(r[column]) if r[column] != "NA" else float("nan"))
    return vals
koo = {("koo-cnn-local-relu", "saliency"): 0.771, ("koo-cnn-local-relu", "ism-fast"): 0.808,
       ("koo-cnn-local-exponential", "saliency"): 0.827, ("koo-cnn-local-exponential", "ism-fast"): 0.887,
       ("koo-cnn-dist-exponential", "ism-fast"): 0.908}
if koo_seeds:
    print(f"Motif recovery AUROC, first positive test sequences, {len(koo_seeds)} seed(s) (Koo & Ploenzke: mean of 10 trials)\n")
    print("| model | saliency | IG (10 shuffles x 20 steps) | ISM | Koo & Ploenzke saliency / ISM |")
    print("|---|---|---|---|---|")
    for model in ("koo-cnn-local-relu", "koo-cnn-local-exponential", "koo-cnn-dist-relu", "koo-cnn-dist-exponential"):
        ref = " / ".join(f"{koo[(model, m)]:.3f}" if (model, m) in koo else "–" for m in ("saliency", "ism-fast"))
        cells = [fmt(recovery(koo_seeds, model, m)) for m in ("saliency", "ig", "ism-fast")]
        print(f"| {model} | " + " | ".join(cells) + f" | {ref} |")
if seeds:
    print(f"\nTeacher vs students, {len(seeds)} seed(s): test AUROC/AUPR and motif recovery AUROC (mean ± sd)\n")
    print("| model | test AUROC | test AUPR | saliency | IG | ISM | saliency RMSE to teacher |")
    print("|---|---|---|---|---|---|---|")
    for label, model in (("teacher (koo-cnn-dist)", "koo-cnn-dist-relu"), ("scratch (koo-cnn-local)", "koo-cnn-local-relu"),
                         ("distilled (koo-cnn-local)", "distilled")):
        short = {"koo-cnn-dist-relu": "teacher", "koo-cnn-local-relu": "scratch", "distilled": "distilled"}[model]
        pred = {"auroc": [], "aupr": []}
        rmse = []
        for s in seeds:
            for r in table(f"{out}/seed{s}/predictive.tsv"):
                if r["model"] == short and r["class"] == "macro":
                    pred["auroc"].append(float(r["auroc"])); pred["aupr"].append(float(r["aupr"]))
            if short != "teacher":
                for r in table(f"{out}/seed{s}/consistency.{short}.tsv"):
                    if r["model"] == short:
                        rmse.append(float(r["rmse_mean"]))
        cells = [fmt(pred["auroc"]), fmt(pred["aupr"])] + [fmt(recovery(seeds, model, m)) for m in ("saliency", "ig", "ism-fast")]
        print(f"| {label} | " + " | ".join(cells) + f" | {fmt(rmse) if rmse else '–'} |")
PY
