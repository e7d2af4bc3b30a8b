"""gkd-kmer against independent computations.

- The gkm kernel (normalised, both strands) against its definition written in numpy: every pair of
  l-mers of two sequences, their mismatches m, C(l − m, k) summed for m ≤ d (1e-6).
- Decision values against scikit-learn's SVC(kernel="precomputed") trained on gkd's kernel matrix
  with the same C (both solvers run to a tight tolerance): 1e-4; gkd-predict gives the same logits.
- GkmExplain (gkd-attribute --method gkmexplain) against the rule of Shrikumar et al. (2019) as
  LS-GKM's gkmexplain -m 1 applies it, pair by pair in numpy: 1e-6; the observed bases' scores
  sum to the decision value + rho; the TF-MoDISco export holds them.
"""
import json

from math import comb

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC

ACGT = "ACGT"


def sequences(path):
    x = np.load(path)["x"]
    return [
        "".join(ACGT[int(np.argmax(x[r][:, p]))] if x[r][:, p].max() > 0.5 else "N" for p in range(x.shape[2]))
        for r in range(x.shape[0])
    ]


def lmer_matrix(seq, l):
    """Every l-mer of seq and of its reverse complement, as rows of base codes (N-free only)."""
    rc = seq[::-1].translate(str.maketrans("ACGTN", "TGCAN"))
    rows = [s[i:i + l] for s in (seq, rc) for i in range(len(s) - l + 1)]
    return np.array([[ACGT.index(b) for b in r] for r in rows if "N" not in r], dtype=np.int8).reshape(-1, l)


def brute_kernel(seqs, l, k, d):
    mats = [lmer_matrix(s, l) for s in seqs]
    h = np.array([comb(l - m, k) if m <= d else 0 for m in range(l + 1)], dtype=np.float64)
    n = len(seqs)
    raw = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            mism = (mats[i][:, None, :] != mats[j][None, :, :]).sum(-1)
            raw[i, j] = raw[j, i] = h[mism].sum()
    diag = np.sqrt(np.diag(raw))
    return raw / np.outer(diag, diag)


def test_kernel_equals_its_definition(tool, data, tmp_path):
    tool("gkd-synth", "task3", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--decoys", data("motifs/core_vertebrates_nonredundant_jaspar2016.meme"), "--length", 30,
         "--n-positive", 150, "--n-negative", 150, "--min-motifs", 1, "--count-probs", "1",
         "--split", "train=0.5,test=0.5", "--seed", 3, "-o", "s.{split}.npz", cwd=tmp_path)
    seqs = sequences(tmp_path / "s.train.npz")
    for l, k, d in ((6, 4, 2), (5, 3, 1)):
        tool("gkd-kmer", "kernel", "--data", "s.train.npz", "-l", l, "-k", k, "-d", d, "-o", f"k{l}.npz", cwd=tmp_path)
        ours = np.load(tmp_path / f"k{l}.npz")["kernel"].astype(np.float64)
        want = brute_kernel(seqs, l, k, d)
        assert ours.shape == want.shape == (150, 150)
        assert np.abs(ours - want).max() < 1e-6, (l, k, d, np.abs(ours - want).max())
        assert want.min() < 0.9  # not a trivial matrix


def test_decision_values_equal_sklearn_svc(tool, data, tmp_path):
    tool("gkd-synth", "task3", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--decoys", data("motifs/core_vertebrates_nonredundant_jaspar2016.meme"),
         "--n-positive", 300, "--n-negative", 300, "--seed", 4, "-o", "t.{split}.npz", cwd=tmp_path)
    flags = ["-l", 8, "-k", 5, "-d", 2]
    tool("gkd-kmer", "train", "--data", "t.train.npz", *flags, "-c", 0.5, "--tolerance", 1e-7, "-o", "svm", cwd=tmp_path)
    tool("gkd-kmer", "predict", "--model", "svm", "--data", "t.test.npz", "-o", "p.npz", cwd=tmp_path)
    tool("gkd-kmer", "kernel", "--data", "t.train.npz", *flags, "-o", "train.npz", cwd=tmp_path)
    tool("gkd-kmer", "kernel", "--data", "t.test.npz", "--against", "t.train.npz", *flags, "-o", "cross.npz",
         cwd=tmp_path)
    k_train = np.load(tmp_path / "train.npz")["kernel"].astype(np.float64)
    k_test = np.load(tmp_path / "cross.npz")["kernel"].astype(np.float64)
    y = np.load(tmp_path / "t.train.npz")["y"][:, 0]
    svc = SVC(kernel="precomputed", C=0.5, tol=1e-7, shrinking=False).fit(k_train, y)
    want = svc.decision_function(k_test)
    ours = np.load(tmp_path / "p.npz")["logits"][:, 0].astype(np.float64)
    assert np.abs(ours - want).max() < 1e-4, np.abs(ours - want).max()
    truth = np.load(tmp_path / "t.test.npz")["y"][:, 0]
    assert roc_auc_score(truth, ours) > 0.8
    # gkd-predict reads the model directory like any model's: the same logits, scored alike.
    tool("gkd-predict", "--model", "svm", "--data", "t.test.npz", "-o", "g.npz", "--metrics", "g.tsv", cwd=tmp_path)
    assert np.array_equal(np.load(tmp_path / "g.npz")["logits"], np.load(tmp_path / "p.npz")["logits"])
    macro = [l.split("\t") for l in open(tmp_path / "g.tsv") if l.startswith("macro")][0]
    assert abs(float(macro[3]) - roc_auc_score(truth, ours)) < 1e-6


def brute_gkmexplain(x_seq, svs, coefs, l, k, d):
    """Hypothetical GkmExplain scores (4 x L) of x: for every l-mer pair (both strands of both
    sequences) with m <= d mismatches, each matching position gets c h_m / (l - m) at its base,
    each mismatching one c h_(m-1) / (l - m + 1) at the support vector's base, c = coef /
    sqrt(K(x, x) K(sv, sv)); reverse-strand positions and bases mapped back to the forward strand."""
    h = np.array([comb(l - m, k) if m <= d else 0 for m in range(l + 1)], dtype=np.float64)
    match = np.array([h[m] / (l - m) if m <= d else 0 for m in range(l + 1)])
    mismatch = np.array([h[m - 1] / (l - m + 1) if 1 <= m <= d else 0 for m in range(l + 1)])
    n = len(x_seq)
    words, positions, reversed_ = [], [], []
    for i in range(n - l + 1):
        w = x_seq[i:i + l]
        if "N" in w:
            continue
        codes = [ACGT.index(b) for b in w]
        words.append(codes); positions.append(list(range(i, i + l))); reversed_.append(False)
        words.append([3 - c for c in codes[::-1]]); positions.append(list(range(i + l - 1, i - 1, -1)))
        reversed_.append(True)
    X, P, R = np.array(words), np.array(positions), np.array(reversed_)
    kxx = h[(X[:, None, :] != X[None, :, :]).sum(-1)].sum()
    out = np.zeros((4, n))
    for sv, coef in zip(svs, coefs):
        V = lmer_matrix(sv, l)
        kss = h[(V[:, None, :] != V[None, :, :]).sum(-1)].sum()
        c = coef / np.sqrt(kxx * kss)
        same = X[:, None, :] == V[None, :, :]                    # x l-mer, sv l-mer, position
        m = l - same.sum(-1)
        weight = np.where(same, match[m][..., None], mismatch[m][..., None]) * c
        base = np.where(same, X[:, None, :], V[None, :, :])
        base = np.where(R[:, None, None], 3 - base, base)
        pos = np.broadcast_to(P[:, None, :], base.shape)
        np.add.at(out, (base.ravel(), pos.ravel()), weight.ravel())
    return out


def test_gkmexplain_equals_the_pairwise_rule(tool, data, tmp_path):
    tool("gkd-synth", "task3", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--decoys", data("motifs/core_vertebrates_nonredundant_jaspar2016.meme"), "--length", 40,
         "--n-positive", 120, "--n-negative", 120, "--min-motifs", 1, "--count-probs", "1",
         "--split", "train=0.8,test=0.2", "--seed", 5, "-o", "e.{split}.npz", cwd=tmp_path)
    l, k, d = 6, 4, 2
    tool("gkd-kmer", "train", "--data", "e.train.npz", "-l", l, "-k", k, "-d", d, "-o", "svm", cwd=tmp_path)
    tool("gkd-attribute", "--model", "svm", "--data", "e.test.npz", "--rows", "0:12", "--method", "gkmexplain",
         "-o", "g.npz", "--modisco", "modisco", cwd=tmp_path)
    tool("gkd-predict", "--model", "svm", "--data", "e.test.npz", "-o", "p.npz", cwd=tmp_path)
    z = np.load(tmp_path / "g.npz")
    attr, x = z["attr"].astype(np.float64), z["x"].astype(np.float64)
    assert attr.shape == (12, 4, 40)
    support = [line.rstrip("\n").split("\t") for line in open(tmp_path / "svm/support.tsv")][1:]
    svs, coefs = [s[2] for s in support], [float(s[1]) for s in support]
    seqs = sequences(tmp_path / "e.test.npz")[:12]
    for i, seq in enumerate(seqs):
        want = brute_gkmexplain(seq, svs, coefs, l, k, d)
        assert np.abs(attr[i] - want).max() < 1e-6, (i, np.abs(attr[i] - want).max())
        assert np.abs(want).max() > 1e-3  # not an empty map
    # Completeness: the observed bases' scores sum to the decision value (the logit) plus rho.
    rho = json.load(open(tmp_path / "svm/kmer.json"))["rho"]
    logits = np.load(tmp_path / "p.npz")["logits"][:12, 0].astype(np.float64)
    assert np.abs((attr * x).sum((1, 2)) - (logits + rho)).max() < 1e-5
    # TF-MoDISco reads the hypothetical scores as they are, with the one-hot inputs.
    hyp = np.load(tmp_path / "modisco/attributions.npz")["arr_0"]
    assert np.array_equal(hyp, z["attr"]) and np.array_equal(np.load(tmp_path / "modisco/sequences.npz")["arr_0"], x)
