"""gkd-attribute and gkd-score against independent references on the same trained weights:
saliency = PyTorch's input gradient, naive ISM = per-mutant PyTorch forward passes, integrated
gradients = Captum's IntegratedGradients (trapezoid rule), the bigWig track = numpy placement
read back with pyBigWig, and motif recovery / predictive scores / consistency = numpy and
scikit-learn written from docs/science.md §5."""
import json

import jsonschema
import numpy as np
import pyBigWig
import pytest
import torch
from captum.attr import IntegratedGradients
from safetensors.torch import load_file
from sklearn.metrics import average_precision_score, roc_auc_score

from torch_models import ARCHS


@pytest.fixture(scope="module")
def study(tool, data, tmp_path_factory):
    """A small task-3 dataset and two CNN-local models (relu and exponential), trained briefly."""
    d = tmp_path_factory.mktemp("study")
    tool("gkd-synth", "task3", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--decoys", data("motifs/core_vertebrates_nonredundant_jaspar2016.meme"),
         "--n-positive", 600, "--n-negative", 600, "--seed", 4, "-o", "t3.{split}.npz", cwd=d)
    for act in ("relu", "exponential"):
        tool("gkd-train", "--arch", "koo-cnn-local", "--first-activation", act, "--train", "t3.train.npz",
             "--valid", "t3.valid.npz", "--epochs", 6, "--seed", 2, "-o", act, "-q", cwd=d)
    return d


def torch_net(model_dir, act):
    net = ARCHS["koo-cnn-local"](1, act=act)
    net.load_state_dict(load_file(str(model_dir / "model.safetensors")), strict=True)
    return net.eval()


def attribute(tool, study, out, *args):
    tool("gkd-attribute", "--data", "t3.test.npz", "-o", out, "-q", *args, cwd=study)
    return np.load(study / out)


@pytest.mark.parametrize("act", ["relu", "exponential"])
def test_saliency_equals_the_pytorch_input_gradient(tool, study, act):
    a = attribute(tool, study, f"sal-{act}.npz", "--model", act, "--method", "saliency", "--rows", "0:40")
    x = torch.from_numpy(np.load(study / "t3.test.npz")["x"][:40]).requires_grad_(True)
    torch_net(study / act, act)(x)[:, 0].sum().backward()
    np.testing.assert_allclose(a["attr"], x.grad.numpy(), atol=1e-4, rtol=1e-3)
    # grad x input and the gradient correction, from the same gradient.
    g = attribute(tool, study, "gxi.npz", "--model", act, "--method", "gradxinput", "--rows", "0:40",
                  "--gradient-correction")
    corrected = x.grad.numpy() - x.grad.numpy().mean(axis=1, keepdims=True)
    np.testing.assert_allclose(g["attr"], corrected * x.detach().numpy(), atol=1e-4, rtol=1e-3)


def test_ism_equals_per_mutant_pytorch_passes_and_fast_ism_equals_naive(tool, study):
    naive = attribute(tool, study, "ism.npz", "--model", "relu", "--method", "ism", "--rows", "0:6")["attr"]
    fast = attribute(tool, study, "ismf.npz", "--model", "relu", "--method", "ism-fast", "--rows", "0:6")["attr"]
    x = np.load(study / "t3.test.npz")["x"][:6]
    net = torch_net(study / "relu", "relu")
    expected = np.zeros_like(x)
    with torch.no_grad():
        for n in range(x.shape[0]):
            ref = net(torch.from_numpy(x[n:n + 1]))[0, 0].item()
            for i in range(x.shape[2]):
                for b in range(4):
                    if x[n, b, i] == 1:
                        continue
                    m = x[n:n + 1].copy()
                    m[0, :, i] = 0
                    m[0, b, i] = 1
                    expected[n, b, i] = net(torch.from_numpy(m))[0, 0].item() - ref
    np.testing.assert_allclose(naive, expected, atol=1e-4)
    assert np.abs(fast - naive).max() <= 1e-4


def test_integrated_gradients_equal_captum(tool, study):
    a = attribute(tool, study, "ig.npz", "--model", "exponential", "--method", "ig", "--rows", "0:8",
                  "--steps", 50, "--baseline", "uniform")
    x = torch.from_numpy(np.load(study / "t3.test.npz")["x"][:8])
    net = torch_net(study / "exponential", "exponential")
    ig = IntegratedGradients(lambda inp: net(inp)[:, 0])
    baseline = torch.full_like(x, 0.25)
    # Captum's riemann_trapezoid evaluates n points on linspace(0, 1, n) (our 50 intervals for
    # n = 51) but weights them by 1/n instead of 1/(n - 1), so its weights sum to (n - 1)/n;
    # with that factor undone it is the trapezoidal rule we use.
    theirs = ig.attribute(x, baselines=baseline, n_steps=51, method="riemann_trapezoid").detach().numpy()
    np.testing.assert_allclose(a["attr"], theirs * 51 / 50, atol=2e-4, rtol=2e-3)
    # delta = F(x) - F(x'), and the gap is what the map misses of it.
    with torch.no_grad():
        f = (net(x) - net(baseline))[:, 0].numpy()
    np.testing.assert_allclose(a["delta"], f, atol=1e-4)
    np.testing.assert_allclose(a["gap"], theirs.sum(axis=(1, 2)) * 51 / 50 - f, atol=2e-3)


def test_ig_completeness_gap_is_small_on_a_trained_model(tool, study):
    """The completeness gap is what the quadrature misses, so it depends on how curved the model is
    along the path (this exponential-activation model: median 2% at 50 steps); it must fall with
    more steps (the trapezoidal rule's error falls as steps^-2 where the path is smooth, slower across
    relu kinks) to at most 1% of |F(x) - F(x')| at 200 steps."""
    rel = {}
    for steps in (50, 200):
        a = attribute(tool, study, f"ig{steps}.npz", "--model", "exponential", "--method", "ig", "--rows", "0:60",
                      "--steps", steps)
        assert np.allclose(a["attr"].sum(axis=(1, 2)) - a["gap"], a["delta"], atol=1e-4)
        rel[steps] = np.abs(a["gap"]) / np.abs(a["delta"])
    assert np.median(rel[200]) <= 0.01, np.median(rel[200])
    assert np.median(rel[200]) < np.median(rel[50]) / 3


def test_motif_recovery_equals_numpy_and_sklearn(tool, study):
    for method in ("saliency", "ism-fast"):
        attribute(tool, study, f"rec-{method}.npz", "--model", "relu", "--method", method,
                  "--positives", "positive", "--first", 60)
    tool("gkd-score", "recovery", "--data", "t3.test.npz", "-i", "sal=rec-saliency.npz", "-i", "ism=rec-ism-fast.npz",
         "--first", 50, "-o", "rec.tsv", "--json", "rec.json", "--per-sequence", "rec.seq.tsv", cwd=study)
    report = json.loads((study / "rec.json").read_text())
    d = np.load(study / "t3.test.npz")
    positives = np.flatnonzero(d["y"][:, 0] > 0.5)[:50]
    x, truth = d["x"][positives], d["truth"][positives]
    p = np.clip(truth, 1e-30, 1)
    motif = (2 + np.where(truth > 0, truth * np.log2(p), 0).sum(axis=1)) > 0.01
    for row, method in zip(report["rows"], ("saliency", "ism-fast")):
        attr = np.load(study / f"rec-{method}.npz")["attr"][:50]
        scores = np.sqrt((attr ** 2).sum(axis=1)) if method == "ism-fast" else (attr * x).sum(axis=1)
        aurocs = [roc_auc_score(m, s) for m, s in zip(motif, scores)]
        auprs = [average_precision_score(m, s) for m, s in zip(motif, scores)]
        snr = []
        for m, s in zip(motif, scores):
            noise = np.sort(s[~m][s[~m] > 0])[::-1]
            snr.append(s[m].mean() / noise[:10].mean())
        assert row["sequences"] == 50
        assert abs(row["auroc_mean"] - np.mean(aurocs)) < 1e-6
        assert abs(row["auroc_sd"] - np.std(aurocs, ddof=1)) < 1e-6
        assert abs(row["aupr_mean"] - np.mean(auprs)) < 1e-6
        assert abs(row["snr_top10"] - np.mean(snr)) < 1e-4 * abs(np.mean(snr))


def test_predictive_scores_equal_sklearn_and_reports_validate(tool, study, schema):
    for act in ("relu", "exponential"):
        tool("gkd-predict", "--model", act, "--data", "t3.test.npz", "-o", f"{act}.pred.npz", cwd=study)
    tool("gkd-score", "predictive", "--data", "t3.test.npz", "-i", "relu=relu.pred.npz",
         "-i", "exp=exponential.pred.npz", "-o", "pred.tsv", "--json", "pred.json", cwd=study)
    report = json.loads((study / "pred.json").read_text())
    jsonschema.validate(report, schema("scores.v1.schema.json"))
    y = np.load(study / "t3.test.npz")["y"][:, 0]
    for row, act in zip([r for r in report["rows"] if r["class"] == "positive"], ("relu", "exponential")):
        logits = np.load(study / f"{act}.pred.npz")["logits"][:, 0]
        assert abs(row["auroc"] - roc_auc_score(y, logits)) < 1e-9
        assert abs(row["aupr"] - average_precision_score(y, logits)) < 1e-9
    table = (study / "pred.tsv").read_text().splitlines()
    assert table[0].split("\t") == ["model", "class", "positives", "rows", "auroc", "aupr"]
    assert len(table) == 1 + 2 * 2  # two models x (class + macro)


def test_consistency_equals_numpy(tool, study):
    for act in ("relu", "exponential"):
        attribute(tool, study, f"con-{act}.npz", "--model", act, "--method", "saliency", "--rows", "0:30")
    tool("gkd-score", "consistency", "-i", "relu=con-relu.npz", "-i", "exp=con-exponential.npz",
         "-o", "con.tsv", "--json", "con.json", cwd=study)
    rows = json.loads((study / "con.json").read_text())["rows"]
    maps = np.stack([np.load(study / f"con-{a}.npz")["attr"].astype(np.float64) for a in ("relu", "exponential")])
    mean = maps.mean(axis=0)
    for row, m in zip(rows, maps):
        rmse = np.sqrt(((m - mean) ** 2).mean(axis=(1, 2)))
        assert abs(row["rmse_mean"] - rmse.mean()) < 1e-6
        assert abs(row["rmse_sd"] - rmse.std(ddof=1)) < 1e-6
    variability = np.sqrt(maps.var(axis=0).sum(axis=(1, 2)))
    assert rows[-1]["model"] == "across-models"
    assert abs(rows[-1]["variability_mean"] - variability.mean()) < 1e-6


def test_attribution_export_validates_and_bigwig_places_scores_on_the_reference(tool, data, tmp_path, schema):
    """Real dm3 windows (gkd-onehot --fasta --bed, both strands): the bigWig read back with
    pyBigWig equals Σ attr·x placed at start + i (forward) or end − 1 − i (reverse), overlaps averaged."""
    tool("gkd-onehot", "--fasta", data("fasta/dm3_chr2L_1-10050.fa"),
         "--bed", data("annotation/dm3_chr2L_1-10050_features.bed"), "--length", 200,
         "--label-columns", 5, "-o", "dm3.npz", cwd=tmp_path)
    tool("gkd-train", "--arch", "koo-cnn-local", "--train", "dm3.npz", "--valid", "dm3.npz", "--epochs", 1, "--seed", 1,
         "-o", "m", "-q",
         cwd=tmp_path)
    tool("gkd-attribute", "--model", "m", "--data", "dm3.npz", "--method", "gradxinput", "-o", "a.npz",
         "--json", "a.export.json", "--bigwig", "a.bw", "-q", cwd=tmp_path)
    export = json.loads((tmp_path / "a.export.json").read_text())
    jsonschema.validate(export, schema("attributions.v1.schema.json"))
    a = np.load(tmp_path / "a.npz")
    np.testing.assert_array_equal(np.array([r["scores"] for r in export["rows"]], dtype=np.float32), a["attr"])
    rows = [line.split("\t") for line in (tmp_path / "a.rows.tsv").read_text().splitlines()[1:]]
    assert any(r[6] == "-" for r in rows) and any(r[6] == "+" for r in rows)
    per_base = (a["attr"] * a["x"]).sum(axis=1)
    sums, counts = {}, {}
    for (_, _, _, chrom, start, end, strand), score in zip(rows, per_base):
        start, end = int(start), int(end)
        positions = range(start, end) if strand != "-" else range(end - 1, start - 1, -1)
        for pos, s in zip(positions, score):
            sums[(chrom, pos)] = sums.get((chrom, pos), 0.0) + float(s)
            counts[(chrom, pos)] = counts.get((chrom, pos), 0) + 1
    bw = pyBigWig.open(str(tmp_path / "a.bw"))
    chrom = rows[0][3]
    values = np.array(bw.values(chrom, 0, bw.chroms(chrom)), dtype=np.float64)
    for (c, pos), total in sums.items():
        assert abs(values[pos] - total / counts[(c, pos)]) < 1e-5, (c, pos)
    covered = {pos for (_, pos) in sums}
    assert all(np.isnan(values[p]) for p in range(len(values)) if p not in covered)
