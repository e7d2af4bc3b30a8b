"""gkd-predict --metrics and gkd-score predictive (AUROC and average precision, both from
gkd_metrics::predictive) against scikit-learn on the same logits and labels, and against each other."""
import json

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def test_predict_metrics_equal_sklearn(tool, data, tmp_path):
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"), "--n", 600,
         "--seed", 4, "-o", "t.{split}.npz", cwd=tmp_path)
    tool("gkd-train", "--arch", "koo-cnn-local", "--train", "t.train.npz", "--valid", "t.valid.npz",
         "--epochs", 2, "-o", "m", cwd=tmp_path)
    tool("gkd-predict", "--model", "m", "--data", "t.test.npz", "-o", "p.npz", "--metrics", "p.metrics.tsv",
         cwd=tmp_path)
    # Ranked from the logits (sigmoid heads: the same order as the probabilities, without ties
    # from float32 rounding).
    p = np.load(tmp_path / "p.npz")["logits"]
    y = np.load(tmp_path / "t.test.npz")["y"]
    tool("gkd-score", "predictive", "--data", "t.test.npz", "-i", "m=p.npz", "-o", "s.tsv", cwd=tmp_path)
    scored = [l.rstrip("\n").split("\t") for l in open(tmp_path / "s.tsv")]
    scored = {r[scored[0].index("class")]: dict(zip(scored[0], r)) for r in scored[1:]}
    lines = [l.rstrip("\n").split("\t") for l in open(tmp_path / "p.metrics.tsv")]
    header = lines[0]
    rows = {r[0]: dict(zip(header, r)) for r in lines[1:]}
    classes = [l.split("\t")[1] for l in open(tmp_path / "p.tsv").readlines()[1:13]]
    aurocs, auprs = [], []
    for k, name in enumerate(classes):
        auroc = roc_auc_score(y[:, k], p[:, k])
        aupr = average_precision_score(y[:, k], p[:, k])
        aurocs.append(auroc)
        auprs.append(aupr)
        assert abs(float(rows[name]["auroc"]) - auroc) < 1e-6, name
        assert abs(float(rows[name]["aupr"]) - aupr) < 1e-6, name
        assert int(rows[name]["positives"]) == int(y[:, k].sum())
        assert float(scored[name]["auroc"]) == float(rows[name]["auroc"]), name
        assert float(scored[name]["aupr"]) == float(rows[name]["aupr"]), name
    assert abs(float(rows["macro"]["auroc"]) - np.mean(aurocs)) < 1e-6
    assert abs(float(rows["macro"]["aupr"]) - np.mean(auprs)) < 1e-6


def test_logits_above_17_are_ranked_without_the_ties_of_rounded_probabilities(tool, data, tmp_path):
    """Predictions whose logits lie above 17.3, where every float32 sigmoid probability is exactly
    1.0: gkd-score ranks them as sklearn ranks the logits (ranking the rounded probabilities
    would give AUROC 0.5 for every class)."""
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"), "--n", 300,
         "--seed", 5, "-o", "t.{split}.npz", cwd=tmp_path)
    y = np.load(tmp_path / "t.test.npz")["y"]
    ids = [l.split("\t")[0] for l in open(tmp_path / "t.test.rows.tsv").readlines()[1:]]
    classes = json.load(open(tmp_path / "t.test.json"))["classes"]
    rng = np.random.default_rng(3)
    logits = (18.0 + 4.0 * y + rng.normal(0.0, 2.0, y.shape)).clip(17.5, None).astype(np.float32)
    assert (1.0 / (1.0 + np.exp(-logits.astype(np.float32))) == np.float32(1.0)).all()
    with open(tmp_path / "big.tsv", "w") as f:
        f.write("id\tclass\tlogit\tprobability\n")
        for i, row_id in enumerate(ids):
            for k, name in enumerate(classes):
                f.write(f"{row_id}\t{name}\t{float(logits[i, k])!r}\t1\n")
    tool("gkd-score", "predictive", "--data", "t.test.npz", "-i", "big=big.tsv", "-o", "s.tsv", cwd=tmp_path)
    scored = [l.rstrip("\n").split("\t") for l in open(tmp_path / "s.tsv")]
    scored = {r[scored[0].index("class")]: dict(zip(scored[0], r)) for r in scored[1:]}
    for k, name in enumerate(classes):
        if 0 < y[:, k].sum() < len(y):
            assert abs(float(scored[name]["auroc"]) - roc_auc_score(y[:, k], logits[:, k])) < 1e-6, name
            assert abs(float(scored[name]["aupr"]) - average_precision_score(y[:, k], logits[:, k])) < 1e-6, name
            assert float(scored[name]["auroc"]) > 0.6, name


def test_rank_metrics_equal_sklearn_with_ties(tmp_path):
    """Random scores with many ties (values on a coarse grid), several class balances."""
    import os
    import pathlib
    import subprocess

    exe = pathlib.Path(os.environ.get("GKD_BIN_DIR", "target/release")) / "examples" / "rank_scores"
    rng = np.random.default_rng(7)
    for trial in range(40):
        n = int(rng.integers(5, 400))
        scores = (rng.integers(0, int(rng.integers(2, 30)), n) / 7.0).astype(np.float32)
        labels = (rng.random(n) < rng.uniform(0.05, 0.9)).astype(np.float32)
        if labels.min() == labels.max():
            labels[0] = 1 - labels[0]
        text = "".join(f"{s!r}\t{int(l)}\n" for s, l in zip(scores.tolist(), labels.tolist()))
        out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout.split()
        assert abs(float(out[0]) - roc_auc_score(labels, scores)) < 1e-9, trial
        assert abs(float(out[1]) - average_precision_score(labels, scores)) < 1e-9, trial
