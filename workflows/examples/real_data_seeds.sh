#!/usr/bin/env bash
# Teacher, scratch student and distilled student on a real data set, over several training seeds,
# each explained by DeepSHAP -> TF-MoDISco -> Tomtom: per model, in how many seeds the known motif
# is found, and whether the students find what their teacher finds. Beside them a gapped k-mer SVM
# (gkd-kmer, LS-GKM's l 11, k 7, d 3, C 1; solved, not trained from a seed, so one model serves
# every seed), explained by GkmExplain -> TF-MoDISco -> Tomtom. RESULTS.md reports the runs.
#   usage: workflows/examples/real_data_seeds.sh SET OUT_DIR [SEEDS]
#     SET    pum2       PUM2 eCLIP sites (concise 0.6.9's data/RBP/PUM2_*.csv, 101 nt; split by
#                       chromosome as concise ships it); known motif: PUM2's UGUAHAUA (as DNA).
#                       Teacher koo-cnn-shallow, students koo-cnn-local, exponential first layers.
#            oct4-mafk  Oct4 vs Mafk ChIP-seq peaks (janggu 0.10.2's resources/sample.fa and
#                       sample2.fa, 200 bp; class oct4 = 1); known motifs: Pou5f1::Sox2 (MA0142.1)
#                       for the Oct4 peaks, MAFK (MA0496.1) for the Mafk peaks, explained as
#                       negative evidence. Teacher koo-cnn-deep, students koo-cnn-shallow.
#     SEEDS  training seeds (default "1 2 3"); the data split is the same for every seed.
#   needs: the gkd tools on PATH; python3 with numpy, h5py, memelite and modisco-lite
#   (tests/python/requirements.txt; PYTHON selects the interpreter, MODISCO the modisco command);
#   network access to PyPI once (the sdists are cached in ~/.cache/gkd/packages).
# Writes OUT_DIR/gkmsvm (model, maps, patterns), OUT_DIR/seedS/{teacher,scratch,distilled} models,
# their maps, patterns and scores, and OUT_DIR/summary.tsv (model, motif, seeds found, seeds found where the teacher found it).
set -euo pipefail
SET="$1"; OUT="$2"; SEEDS="${3:-1 2 3}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"; MODISCO="${MODISCO:-modisco}"
THREADS="${THREADS:-2}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"; cd "$OUT"
fetch() { "$PYTHON" "$ROOT/workflows/scripts/fetch_sdist.py" "$@" -o raw; }

case "$SET" in
  pum2)
    fetch concise 0.6.9 9da41e0a80f1d15aae1b3c2738deaf393bca073a0069abc502e3c55fc69985e5 \
      concise-0.6.9/data/RBP/PUM2_{train,valid,test}.csv
    for split in train valid test; do
      [ -f "d.$split.npz" ] || gkd-onehot --table "raw/PUM2_$split.csv" --seq-column seq \
        --label-columns binding_site -o "d.$split.npz" -q
    done
    TEACHER=koo-cnn-shallow; STUDENT=koo-cnn-local; ACT=exponential; CLASS=binding_site; WIDTH=100
    MOTIFS=(--motif PUM2_UGUAHAUA)
    { cat "$ROOT/test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme"
      tail -n +9 "$ROOT/test-data/motifs/pum2_consensus.meme"; } > database.meme
    ;;
  oct4-mafk)
    fetch janggu 0.10.2 b57c1cea3b3588e6ebadb2c1600f64565f344f846cf49e0a26401cc0f7e04021 \
      janggu-0.10.2/src/janggu/resources/sample.fa janggu-0.10.2/src/janggu/resources/sample2.fa
    # gkd-onehot --header-labels reads the label from each header's last word.
    { sed '/^>/ s/$/ 1/' raw/sample.fa; sed '/^>/ s/$/ 0/' raw/sample2.fa; } > labelled.fa
    [ -f d.test.npz ] || gkd-onehot --fasta labelled.fa --header-labels --class-names oct4 \
      --split train=0.7,valid=0.1,test=0.2 --seed 1 -o 'd.{split}.npz' -q
    TEACHER=koo-cnn-deep; STUDENT=koo-cnn-shallow; ACT=relu; CLASS=oct4; WIDTH=200
    MOTIFS=(--motif MA0142.1 --motif MA0496.1)
    cp "$ROOT/test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme" database.meme
    ;;
  *) echo "real_data_seeds.sh: unknown SET '$SET' (expected pum2 or oct4-mafk)" >&2; exit 2 ;;
esac

train() { # NAME ARCH SEED [FLAGS...]
  local name="$1" arch="$2" seed="$3"; shift 3
  [ -f "seed$seed/$name/model.json" ] || gkd-train --arch "$arch" --first-activation "$ACT" \
    --train d.train.npz --valid d.valid.npz --seed "$seed" --threads "$THREADS" -q -o "seed$seed/$name" "$@"
}
explained() { # MODEL PREFIX METHOD: test predictions, then METHOD maps -> TF-MoDISco -> Tomtom (PREFIX.*)
  local model="$1" prefix="$2" method="$3"
  [ -f "$prefix.predictions.npz" ] || gkd-predict --model "$model" --data d.test.npz \
    -o "$prefix.predictions.npz" --threads "$THREADS" -q
  if [ ! -f "$prefix.patterns.json" ]; then
    gkd-attribute --model "$model" --data d.test.npz --method "$method" --positives "$CLASS" \
      -o "$prefix.$method.npz" --modisco "$prefix.modisco_inputs" --threads "$THREADS" -q
    "$MODISCO" motifs -s "$prefix.modisco_inputs/sequences.npz" -a "$prefix.modisco_inputs/attributions.npz" \
      -n 2000 -w "$WIDTH" -o "$prefix.modisco.h5" > "$prefix.modisco.log" 2>&1
    "$PYTHON" "$ROOT/workflows/scripts/gkd_tomtom.py" --modisco "$prefix.modisco.h5" --database database.meme \
      -o "$prefix.patterns.json"
  fi
}
# The gkm-SVM and its GkmExplain motifs (once: no seed changes it).
[ -f gkmsvm/kmer.json ] || gkd-kmer train --data d.train.npz --class "$CLASS" -l 11 -k 7 -d 3 -c 1 \
  --threads "$THREADS" -q -o gkmsvm
explained gkmsvm gkmsvm gkmexplain
for seed in $SEEDS; do
  s="seed$seed"; mkdir -p "$s"
  train teacher "$TEACHER" "$seed"
  train scratch "$STUDENT" "$seed"
  train distilled "$STUDENT" "$seed" --teacher "$s/teacher" --temperature 15 --alpha 0.5
  inputs=(); patterns=()
  for m in teacher scratch distilled; do
    explained "$s/$m" "$s/$m" deepshap
    inputs+=(-i "$m=$s/$m.predictions.npz")
    patterns+=(-i "$m.deepshap=$s/$m.patterns.json")
  done
  inputs+=(-i "gkmsvm=gkmsvm.predictions.npz"); patterns+=(-i "gkmsvm.gkmexplain=gkmsvm.patterns.json")
  gkd-score predictive --data d.test.npz "${inputs[@]}" --agreement-with teacher \
    -o "$s/predictive.tsv" --json "$s/predictive.json" -q
  gkd-score motifs "${MOTIFS[@]}" "${patterns[@]}" -o "$s/motifs.tsv" --json "$s/motifs.json" -q
done

# Per model and known motif: seeds where it was found, and of the seeds where the teacher found
# it, those where the model found it too.
"$PYTHON" - "$OUT" $SEEDS <<'EOF'
import json, pathlib, sys
out, seeds = pathlib.Path(sys.argv[1]), sys.argv[2:]
found, aupr = {}, {}
for seed in seeds:
    for row in json.loads((out / f"seed{seed}" / "motifs.json").read_text())["rows"]:
        if row["kind"] == "true":
            found[(row["model"], row["motif"], seed)] = row["found"]
    for row in json.loads((out / f"seed{seed}" / "predictive.json").read_text())["rows"]:
        if row["class"] == "macro":
            aupr[(row["model"], seed)] = row["aupr"]
models = ["teacher", "scratch", "distilled", "gkmsvm"]
motifs = sorted({m for _, m, _ in found})
lines = ["model\ttest_aupr_mean\tmotif\tseeds\tfound\tfound_where_teacher_found"]
for model in models:
    mean = sum(aupr[(model, s)] for s in seeds) / len(seeds)
    for motif in motifs:
        hits = [found.get((model, motif, s), False) for s in seeds]
        teacher = [found.get(("teacher", motif, s), False) for s in seeds]
        both = sum(h and t for h, t in zip(hits, teacher))
        lines.append(f"{model}\t{mean:.4f}\t{motif}\t{len(seeds)}\t{sum(hits)}\t{both}/{sum(teacher)}")
(out / "summary.tsv").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
