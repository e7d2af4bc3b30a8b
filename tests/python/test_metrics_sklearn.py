"""gkd-predict --metrics (AUROC and average precision from tools/gkd-metrics) against scikit-learn on
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
