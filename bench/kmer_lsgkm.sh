#!/usr/bin/env bash
# gkd-kmer against LS-GKM (Lee 2016), built from its public source outside the repository
# (github.com/Dongwon-Lee/lsgkm: `cd src && make`; none of its code is in gkd). Same data, same
# kernel (LS-GKM's -t 0, the gapped k-mer kernel), same l, k, d, C and epsilon: the kernel matrices
# (gkd-kmer kernel against gkmmatrix), the training time (gkd-kmer train at 1 and 2 threads against
# gkmtrain at -T 1 and -T 4, its thread counts being 1, 4 or 16) and the test AUROC (gkd-kmer
# predict against gkmpredict). Data: gkd-synth task 3 (N_POS positives and as many negatives,
# 70/10/20 split; training on the train split). Prints Markdown tables.
#   LSGKM_BIN   directory holding gkmtrain, gkmpredict, gkmmatrix (required)
#   N_POS (1000), L (11), K (7), D (3), C (1); TORCH_VENV: a venv with numpy and scikit-learn
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
: "${LSGKM_BIN:?set LSGKM_BIN to the directory holding the LS-GKM binaries}"
N_POS="${N_POS:-1000}"; L="${L:-11}"; K="${K:-7}"; D="${D:-3}"; C="${C:-1}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked --workspace --all-targets >&2
BIN="$CARGO_TARGET_DIR/release"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
"$BIN/gkd-synth" task3 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --decoys test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme \
  --n-positive "$N_POS" --n-negative "$N_POS" --seed 2 -o "$W/t.{split}.npz" -q
# The splits as FASTA, positives and negatives apart (LS-GKM's input).
"$PY" bench/kmer_files.py fasta "$W"
secs() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
P=(-l "$L" -k "$K" -d "$D")
read -r t_mat _ <<<"$(secs "$LSGKM_BIN/gkmmatrix" -t 0 "${P[@]}" -v 0 "$W/train.pos.fa" "$W/train.neg.fa" "$W/lsgkm.kernel.txt")"
read -r t_ker1 m_ker1 <<<"$(secs "$BIN/gkd-kmer" kernel --data "$W/t.train.npz" "${P[@]}" -t 1 -o "$W/gkd.kernel.npz")"
read -r t_ker2 _ <<<"$(secs "$BIN/gkd-kmer" kernel --data "$W/t.train.npz" "${P[@]}" -t 2 -o "$W/gkd.kernel.npz")"
read -r t_lt1 _ <<<"$(secs "$LSGKM_BIN/gkmtrain" -t 0 "${P[@]}" -c "$C" -e 0.001 -T 1 -v 0 "$W/train.pos.fa" "$W/train.neg.fa" "$W/lsgkm1")"
read -r t_lt4 _ <<<"$(secs "$LSGKM_BIN/gkmtrain" -t 0 "${P[@]}" -c "$C" -e 0.001 -T 4 -v 0 "$W/train.pos.fa" "$W/train.neg.fa" "$W/lsgkm4")"
read -r t_gt1 m_gt1 <<<"$(secs "$BIN/gkd-kmer" train --data "$W/t.train.npz" "${P[@]}" -c "$C" -t 1 -o "$W/gkd1")"
read -r t_gt2 _ <<<"$(secs "$BIN/gkd-kmer" train --data "$W/t.train.npz" "${P[@]}" -c "$C" -t 2 -o "$W/gkd2")"
cat "$W/test.pos.fa" "$W/test.neg.fa" > "$W/test.fa"
"$LSGKM_BIN/gkmpredict" -v 0 "$W/test.fa" "$W/lsgkm4.model.txt" "$W/lsgkm.pred.txt" >/dev/null
"$BIN/gkd-kmer" predict --model "$W/gkd2" --data "$W/t.test.npz" -o "$W/gkd.pred.npz" -q
"$PY" - "$W" "$t_mat" "$t_ker1" "$t_ker2" "$m_ker1" "$t_lt1" "$t_lt4" "$t_gt1" "$t_gt2" "$m_gt1" <<'PY'
import sys
import numpy as np
from sklearn.metrics import roc_auc_score
w = sys.argv[1]
t_mat, t_ker1, t_ker2, m_ker1, t_lt1, t_lt4, t_gt1, t_gt2, m_gt1 = map(float, sys.argv[2:])
ids = [l.split("\t")[0] for l in open(f"{w}/t.train.rows.tsv")][1:]
order = [l[1:].strip() for f in ("train.pos.fa", "train.neg.fa") for l in open(f"{w}/{f}") if l.startswith(">")]
idx = [ids.index(i) for i in order]
ours = np.load(f"{w}/gkd.kernel.npz")["kernel"].astype(np.float64)[np.ix_(idx, idx)]
theirs = np.zeros_like(ours)
for i, line in enumerate(open(f"{w}/lsgkm.kernel.txt")):
    values = [float(t) for t in line.split()]
    theirs[i, :len(values)] = values
theirs = theirs + np.tril(theirs, -1).T
test_ids = [l.split("\t")[0] for l in open(f"{w}/t.test.rows.tsv")][1:]
y = dict(zip(test_ids, np.load(f"{w}/t.test.npz")["y"][:, 0]))
lsgkm = dict((l.split()[0], float(l.split()[1])) for l in open(f"{w}/lsgkm.pred.txt"))
gkd = dict(zip(test_ids, np.load(f"{w}/gkd.pred.npz")["logits"][:, 0]))
auc = lambda s: roc_auc_score([y[i] for i in test_ids], [s[i] for i in test_ids])
dec = np.array([gkd[i] - lsgkm[i] for i in test_ids])
print(f"| training rows | max abs kernel difference (LS-GKM prints 6 digits) | test AUROC gkd-kmer | test AUROC LS-GKM | max abs decision difference |")
print("|---|---|---|---|---|")
print(f"| {len(ids)} | {np.abs(ours - theirs).max():.1e} | {auc(gkd):.4f} | {auc(lsgkm):.4f} | {np.abs(dec).max():.1e} |")
print()
print("| step | LS-GKM 1 thread s | LS-GKM -T 4 s | gkd-kmer 1 thread s | gkd-kmer 2 threads s | speed-up, 1 thread | speed-up, best of each |")
print("|---|---|---|---|---|---|---|")
print(f"| kernel matrix (gkmmatrix / gkd-kmer kernel) | {t_mat:.1f} | – | {t_ker1:.1f} | {t_ker2:.1f} | {t_mat / t_ker1:.1f}x | {t_mat / t_ker2:.1f}x |")
print(f"| training (gkmtrain / gkd-kmer train) | {t_lt1:.1f} | {t_lt4:.1f} | {t_gt1:.1f} | {t_gt2:.1f} | {t_lt1 / t_gt1:.1f}x | {min(t_lt1, t_lt4) / t_gt2:.1f}x |")
print(f"\npeak memory: gkd-kmer kernel {m_ker1 / 1024:.0f} MiB, train {m_gt1 / 1024:.0f} MiB (1 thread)")
PY
