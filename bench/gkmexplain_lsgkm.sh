#!/usr/bin/env bash
# gkd-attribute --method gkmexplain against LS-GKM's gkmexplain (Shrikumar et al. 2019), built
# from the public source of its authors' fork outside the repository (github.com/kundajelab/lsgkm:
# `cd src && make`; none of its code is in gkd). One gkm-SVM, trained by gkd-kmer on gkd-synth
# task 3 and written out in LS-GKM's model format, so both programs explain the same model: the
# importance scores (-m 0 against attr·x), the hypothetical scores (-m 1 against attr), the
# decision values (gkmpredict against gkd-kmer predict) and the time on the first N_EXPLAIN
# positive test rows (gkmexplain has one thread; gkd at 1 and 2). Prints Markdown tables.
#   LSGKM_BIN   directory holding the fork's gkmexplain and gkmpredict (required)
#   N_POS (1000), N_EXPLAIN (200), L (11), K (7), D (3), C (1); TORCH_VENV: a venv with numpy
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
: "${LSGKM_BIN:?set LSGKM_BIN to the directory holding the kundajelab/lsgkm binaries}"
N_POS="${N_POS:-1000}"; N_EXPLAIN="${N_EXPLAIN:-200}"; L="${L:-11}"; K="${K:-7}"; D="${D:-3}"; C="${C:-1}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked --workspace --all-targets >&2
BIN="$CARGO_TARGET_DIR/release"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
"$BIN/gkd-synth" task3 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --decoys test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme \
  --n-positive "$N_POS" --n-negative "$N_POS" --seed 2 -o "$W/t.{split}.npz" -q
"$BIN/gkd-kmer" train --data "$W/t.train.npz" -l "$L" -k "$K" -d "$D" -c "$C" -o "$W/svm" -q
# The model in LS-GKM's format and the explained rows as FASTA.
"$PY" bench/kmer_files.py lsgkm-model "$W/svm" "$W/svm.model.txt"
"$PY" bench/kmer_files.py fasta "$W" "$N_EXPLAIN"
secs() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
read -r t_l0 m_l0 <<<"$(secs "$LSGKM_BIN/gkmexplain" -m 0 "$W/explain.fa" "$W/svm.model.txt" "$W/lsgkm.m0.txt")"
read -r t_l1 m_l1 <<<"$(secs "$LSGKM_BIN/gkmexplain" -m 1 "$W/explain.fa" "$W/svm.model.txt" "$W/lsgkm.m1.txt")"
A=(--model "$W/svm" --data "$W/t.test.npz" --ids-file "$W/rows.txt" --method gkmexplain -q)
read -r t_g1 m_g1 <<<"$(secs "$BIN/gkd-attribute" "${A[@]}" -t 1 -o "$W/gkd1.npz")"
read -r t_g2 _ <<<"$(secs "$BIN/gkd-attribute" "${A[@]}" -t 2 -o "$W/gkd.npz")"
cmp "$W/gkd1.npz" "$W/gkd.npz" || { echo "maps differ between 1 and 2 threads" >&2; exit 1; }
"$LSGKM_BIN/gkmpredict" -v 0 "$W/explain.fa" "$W/svm.model.txt" "$W/lsgkm.pred.txt" >/dev/null
"$BIN/gkd-kmer" predict --model "$W/svm" --data "$W/t.test.npz" -o "$W/pred.npz" -q
"$PY" - "$W" "$t_l0" "$t_l1" "$t_g1" "$t_g2" "$m_l1" "$m_g1" <<'PY'
import sys
import numpy as np
w = sys.argv[1]
t_l0, t_l1, t_g1, t_g2, m_l1, m_g1 = map(float, sys.argv[2:])
def lsgkm(path):
    out = {}
    for line in open(path):
        rid, score, text = line.rstrip("\n").split("\t")
        out[rid] = (float(score), np.array([[float(v) for v in p.split(",")] for p in text.rstrip(";").split(";")]).T)
    return out
m0, m1 = lsgkm(f"{w}/lsgkm.m0.txt"), lsgkm(f"{w}/lsgkm.m1.txt")
z = np.load(f"{w}/gkd.npz")
attr, x = z["attr"].astype(np.float64), z["x"].astype(np.float64)
ids = [l.split("\t")[0] for l in open(f"{w}/gkd.rows.tsv")][1:]
test_ids = [l.split("\t")[0] for l in open(f"{w}/t.test.rows.tsv")][1:]
logits = dict(zip(test_ids, np.load(f"{w}/pred.npz")["logits"][:, 0]))
pred = dict((l.split()[0], float(l.split()[1])) for l in open(f"{w}/lsgkm.pred.txt"))
scale = max(np.abs(attr).max(), 1e-30)
d_imp = max(np.abs(attr[i] * x[i] - m0[r][1]).max() for i, r in enumerate(ids))
d_hyp = max(np.abs(attr[i] - m1[r][1]).max() for i, r in enumerate(ids))
d_dec = max(abs(logits[r] - pred[r]) for r in ids)
corr = np.mean([np.corrcoef(attr[i].ravel(), m1[r][1].ravel())[0, 1] for i, r in enumerate(ids)])
print("| maps | largest score | max abs difference, importance (-m 0 vs attr·x) | max abs difference, hypothetical (-m 1 vs attr) | mean Pearson r, hypothetical | max abs decision difference (gkmpredict vs gkd-kmer predict) |")
print("|---|---|---|---|---|---|")
print(f"| {len(ids)} | {scale:.2e} | {d_imp:.1e} | {d_hyp:.1e} | {corr:.6f} | {d_dec:.1e} |")
print()
print("| explanation | LS-GKM gkmexplain s (1 thread) | gkd 1 thread s | gkd 2 threads s | speed-up, 1 thread | speed-up, best of each |")
print("|---|---|---|---|---|---|")
print(f"| importance (-m 0) | {t_l0:.1f} | – | – | – | – |")
print(f"| hypothetical (-m 1; gkd's maps hold both) | {t_l1:.1f} | {t_g1:.1f} | {t_g2:.1f} | {t_l1 / t_g1:.1f}x | {t_l1 / t_g2:.1f}x |")
print(f"\npeak memory: gkmexplain -m 1 {m_l1 / 1024:.0f} MiB, gkd-attribute 1 thread {m_g1 / 1024:.0f} MiB")
PY
