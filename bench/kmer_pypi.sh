#!/usr/bin/env bash
# gkd-kmer and gkd-attribute --method gkmexplain against the gapped k-mer SVM packages on PyPI,
# where they install: gkmsvm-lite (its `gkmsvm` command: train, predict, explain) and FastSK
# (QData's; reported as not installing when its build fails). Same data (gkd-synth task 3,
# N_POS positives and as many negatives), same kernel (LS-GKM's -t 0, gkm_cnt), l, k, d and C:
# training time and test AUROC of each program's own model, then both explainers on one model
# (gkd-kmer's, written in LS-GKM's format, which gkmsvm-lite reads) on the positive test rows:
# the largest difference of the hypothetical scores and the time. Prints Markdown tables.
#   PYPI_VENV   a venv for the packages (created and filled when missing; default
#               ~/.cache/gkd/kmer-pypi)
#   N_POS (1000), L (11), K (7), D (l − k), C (1); TORCH_VENV: a venv with numpy and scikit-learn
# gkmsvm-lite's gkm_cnt kernel counts every pair up to l − k mismatches whatever -d says (its model
# files carry no d; its decision values equal gkd-kmer's at -d 4 for l 11, k 7, to 5e-5), so both
# programs run at d = l − k unless D is given.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
N_POS="${N_POS:-1000}"; L="${L:-11}"; K="${K:-7}"; D="${D:-$((L - K))}"; C="${C:-1}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
VENV="${PYPI_VENV:-$HOME/.cache/gkd/kmer-pypi}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "gkmsvm-lite==0.1.0" >&2
fastsk="installed"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "fastsk==0.0.2" >/dev/null 2>&1 ||
  fastsk="does not install: its wheel build fails (pip install fastsk==0.0.2 on CPython $("$VENV/bin/python" -c 'import platform; print(platform.python_version())'))"
cargo build --release --locked --workspace --all-targets >&2
BIN="$CARGO_TARGET_DIR/release"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
"$BIN/gkd-synth" task3 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --decoys test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme \
  --n-positive "$N_POS" --n-negative "$N_POS" --seed 2 -o "$W/t.{split}.npz" -q
"$PY" bench/kmer_files.py fasta "$W"
cat "$W/test.pos.fa" "$W/test.neg.fa" > "$W/test.fa"
secs() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
P=(-l "$L" -k "$K" -d "$D")
read -r t_lite m_lite <<<"$(secs "$VENV/bin/gkmsvm" train -p "$W/train.pos.fa" -n "$W/train.neg.fa" -t gkm_cnt "${P[@]}" -C "$C" -o "$W/lite.model.txt")"
"$VENV/bin/gkmsvm" predict -m "$W/lite.model.txt" -i "$W/test.fa" -o "$W/lite.pred.tsv"
read -r t_gkd1 m_gkd1 <<<"$(secs "$BIN/gkd-kmer" train --data "$W/t.train.npz" "${P[@]}" -c "$C" -t 1 -o "$W/svm")"
read -r t_gkd2 _ <<<"$(secs "$BIN/gkd-kmer" train --data "$W/t.train.npz" "${P[@]}" -c "$C" -t 2 -o "$W/svm2")"
"$BIN/gkd-kmer" predict --model "$W/svm" --data "$W/t.test.npz" -o "$W/gkd.pred.npz" -q
# gkd-kmer's model in LS-GKM's format, read by gkmsvm-lite's explain.
"$PY" bench/kmer_files.py lsgkm-model "$W/svm" "$W/gkd.model.txt"
read -r t_lx m_lx <<<"$(secs "$VENV/bin/gkmsvm" explain -m "$W/gkd.model.txt" -i "$W/test.pos.fa" -o "$W/lite.attr.npz" -s "$W/lite.seqs.npz" --device cpu)"
grep '^>' "$W/test.pos.fa" | cut -c2- > "$W/rows.txt"
A=(--model "$W/svm" --data "$W/t.test.npz" --ids-file "$W/rows.txt" --method gkmexplain -q)
read -r t_gx1 m_gx1 <<<"$(secs "$BIN/gkd-attribute" "${A[@]}" -t 1 -o "$W/gkd1.npz")"
read -r t_gx2 _ <<<"$(secs "$BIN/gkd-attribute" "${A[@]}" -t 2 -o "$W/gkd.npz")"
"$PY" - "$W" "$fastsk" "$t_lite" "$m_lite" "$t_gkd1" "$t_gkd2" "$m_gkd1" "$t_lx" "$m_lx" "$t_gx1" "$t_gx2" "$m_gx1" <<'PY'
import sys
import numpy as np
from sklearn.metrics import roc_auc_score
w, fastsk = sys.argv[1], sys.argv[2]
t_lite, m_lite, t_gkd1, t_gkd2, m_gkd1, t_lx, m_lx, t_gx1, t_gx2, m_gx1 = map(float, sys.argv[3:])
test_ids = [l.split("\t")[0] for l in open(f"{w}/t.test.rows.tsv")][1:]
y = dict(zip(test_ids, np.load(f"{w}/t.test.npz")["y"][:, 0]))
lite = {}
for line in open(f"{w}/lite.pred.tsv"):
    parts = line.split()
    try:
        lite[parts[0]] = float(parts[1])
    except (IndexError, ValueError):
        pass  # a header line
gkd = dict(zip(test_ids, np.load(f"{w}/gkd.pred.npz")["logits"][:, 0]))
auc = lambda s: roc_auc_score([y[i] for i in test_ids], [s[i] for i in test_ids])
ours, theirs = np.load(f"{w}/gkd.npz")["attr"].astype(np.float64), np.load(f"{w}/lite.attr.npz")["arr_0"].astype(np.float64)
print(f"FastSK: {fastsk}.\n")
print("| program | training s, 1 thread | training s, 2 threads | peak MiB | test AUROC |")
print("|---|---|---|---|---|")
print(f"| gkmsvm-lite 0.1.0 `gkmsvm train` (its own threading) | {t_lite:.1f} | – | {m_lite / 1024:.0f} | {auc(lite):.4f} |")
print(f"| gkd-kmer train | {t_gkd1:.1f} | {t_gkd2:.1f} | {m_gkd1 / 1024:.0f} | {auc(gkd):.4f} |")
print()
x = np.load(f"{w}/gkd.npz")["x"].astype(np.float64)
same = ours.shape == theirs.shape
d_obs = np.abs((ours - theirs) * x).max() if same else float("nan")
d_hyp = np.abs(ours - theirs).max() if same else float("nan")
print("| explaining the same model | maps | s | peak MiB | max abs difference from gkd's maps: observed bases (importance) | all four bases (hypothetical) | largest score |")
print("|---|---|---|---|---|---|---|")
print(f"| gkmsvm-lite `gkmsvm explain` | {theirs.shape[0]} | {t_lx:.1f} | {m_lx / 1024:.0f} | {d_obs:.1e} | {d_hyp:.1e} | {np.abs(ours).max():.2e} |")
print(f"| gkd-attribute --method gkmexplain, 1 / 2 threads | {ours.shape[0]} | {t_gx1:.1f} / {t_gx2:.1f} | {m_gx1 / 1024:.0f} | – | – | – |")
PY
