"""gkd-predict --metrics (AUROC and average precision from tools/lib/gkd-metrics) against scikit-learn on
the same probabilities and labels."""
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def test_predict_metrics_equal_sklearn(tool, data, tmp_path):
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"), "--n", 600,
         "--seed", 4, "-o", "t.{split}.npz", cwd=tmp_path)
    tool("gkd-train", "--arch", "koo-cnn-local", "--train", "t.train.npz", "--valid", "t.valid.npz",
         "--epochs", 2, "-o", "m", cwd=tmp_path)
    tool("gkd-predict", "--model", "m", "--data", "t.test.npz", "-o", "p.npz", "--metrics", "p.metrics.tsv",
         cwd=tmp_path)
    p = np.load(tmp_path / "p.npz")["probabilities"]
    y = np.load(tmp_path / "t.test.npz")["y"]
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
    assert abs(float(rows["macro"]["auroc"]) - np.mean(aurocs)) < 1e-6
    assert abs(float(rows["macro"]["aupr"]) - np.mean(auprs)) < 1e-6


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
