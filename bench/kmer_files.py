"""Files the gapped k-mer benchmarks hand to other programs (bench/kmer_lsgkm.sh,
bench/gkmexplain_lsgkm.sh, bench/kmer_pypi.sh):

  kmer_files.py fasta W [N]        W/{train,test}.{pos,neg}.fa from gkd-synth's W/t.{split}.npz
                                   (positives and negatives apart, as LS-GKM reads them); with N,
                                   also W/explain.fa and W/rows.txt: the first N positive test rows
  kmer_files.py lsgkm-model DIR OUT  a gkd-kmer model directory in LS-GKM's model format (kernel
                                   gkm_cnt, its -t 0; positive-class support vectors first)
"""
import json
import sys

import numpy as np


def split_rows(w, split):
    z = np.load(f"{w}/t.{split}.npz")
    ids = [line.split("\t")[0] for line in open(f"{w}/t.{split}.rows.tsv")][1:]
    seqs = ["".join("ACGT"[c] for c in row.argmax(0)) for row in z["x"]]
    return ids, seqs, z["y"][:, 0] > 0.5


def fasta(w, n=None):
    for split in ("train", "test"):
        ids, seqs, positive = split_rows(w, split)
        for want, name in ((True, "pos"), (False, "neg")):
            with open(f"{w}/{split}.{name}.fa", "w") as f:
                f.writelines(f">{i}\n{s}\n" for i, s, p in zip(ids, seqs, positive) if p == want)
    if n is not None:
        ids, seqs, positive = split_rows(w, "test")
        rows = [r for r in range(len(ids)) if positive[r]][:n]
        open(f"{w}/rows.txt", "w").writelines(ids[r] + "\n" for r in rows)
        open(f"{w}/explain.fa", "w").writelines(f">{ids[r]}\n{seqs[r]}\n" for r in rows)


def lsgkm_model(model_dir, out):
    card = json.load(open(f"{model_dir}/kmer.json"))
    sv = [line.rstrip("\n").split("\t") for line in open(f"{model_dir}/support.tsv")][1:]
    pos = [s for s in sv if float(s[1]) > 0]
    neg = [s for s in sv if float(s[1]) <= 0]
    with open(out, "w") as f:
        f.write(f"svm_type c_svc\nkernel_type gkm_cnt\nL {card['l']}\nk {card['k']}\nd {card['d']}\n")
        f.write(f"nr_class 2\ntotal_sv {len(sv)}\nrho {card['rho']!r}\nlabel 1 -1\nnr_sv {len(pos)} {len(neg)}\nSV\n")
        f.writelines(f"{coef} {seq}\n" for _, coef, seq in pos + neg)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "fasta":
        fasta(args[0], int(args[1]) if len(args) > 1 else None)
    elif command == "lsgkm-model":
        lsgkm_model(*args)
    else:
        sys.exit(f"kmer_files.py: unknown command {command!r} (fasta, lsgkm-model)")
