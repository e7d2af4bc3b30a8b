"""The distillation sweep's pieces against numpy, scikit-learn and scipy (docs/distillation.md):
ensemble predictions = the mean of the members' logits, agreement = mean |p - p_teacher|,
multi-label maps (one per labelled class) scored against the explained class's sites only, and the
sweep summary = means, sample sds, paired differences and exact sign tests."""
import json

import jsonschema
import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import average_precision_score, roc_auc_score


@pytest.fixture(scope="module")
def task1(tool, data, tmp_path_factory):
    """A small task-1 split and three briefly trained CNN-50s (two teachers and a student)."""
    d = tmp_path_factory.mktemp("sweep")
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"), "--n", 700,
         "--seed", 7, "-o", "t.{split}.npz", cwd=d)
    for name, seed in (("a", 1), ("b", 2), ("s", 3)):
        tool("gkd-train", "--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz",
             "--epochs", 3, "--batch-size", 50, "--seed", seed, "-o", name, "-q", cwd=d)
    return d


def sigmoid(z):
    return 1 / (1 + np.exp(-z.astype(np.float64)))


def test_ensemble_predictions_are_the_mean_of_the_members(tool, task1):
    for name in ("a", "b"):
        tool("gkd-predict", "--model", name, "--data", "t.test.npz", "-o", f"{name}.npz", "-q", cwd=task1)
    tool("gkd-predict", "--model", "a", "--model", "b", "--data", "t.test.npz", "-o", "ab.npz", "-q", cwd=task1)
    a, b, ab = (np.load(task1 / f"{n}.npz") for n in ("a", "b", "ab"))
    np.testing.assert_allclose(ab["logits"], (a["logits"] + b["logits"]) / 2, atol=1e-6)
    np.testing.assert_allclose(ab["probabilities"], sigmoid(ab["logits"]), atol=1e-6)
    assert np.abs(a["logits"] - b["logits"]).max() > 1e-2  # the members differ, so the mean is a test


def test_agreement_is_the_mean_absolute_probability_difference(tool, task1, schema):
    for name in ("a", "s"):
        tool("gkd-predict", "--model", name, "--data", "t.test.npz", "-o", f"{name}.npz", "-q", cwd=task1)
    tool("gkd-score", "predictive", "--data", "t.test.npz", "-i", "teacher=a.npz", "-i", "student=s.npz",
         "--agreement-with", "teacher", "-o", "pred.tsv", "--json", "pred.json", cwd=task1)
    report = json.loads((task1 / "pred.json").read_text())
    jsonschema.validate(report, schema("scores.v1.schema.json"))
    diff = np.abs(sigmoid(np.load(task1 / "s.npz")["logits"]) - sigmoid(np.load(task1 / "a.npz")["logits"]))
    classes = json.loads((task1 / "t.test.json").read_text())["classes"]
    rows = {(r["model"], r["class"]): r for r in report["rows"]}
    assert rows[("teacher", "macro")]["mean_abs_diff"] == 0
    assert abs(rows[("student", "macro")]["mean_abs_diff"] - diff.mean()) < 1e-9
    for k, c in enumerate(classes):
        assert abs(rows[("student", c)]["mean_abs_diff"] - diff[:, k].mean()) < 1e-9


def test_labelled_maps_are_scored_against_their_class_sites(tool, task1):
    tool("gkd-attribute", "--model", "s", "--data", "t.test.npz", "--method", "saliency", "--positives", "any",
         "--first", 25, "-o", "sal.npz", "-q", cwd=task1)
    d = np.load(task1 / "t.test.npz")
    classes = json.loads((task1 / "t.test.json").read_text())["classes"]
    ids = [l.split("\t")[0] for l in (task1 / "t.test.rows.tsv").read_text().splitlines()[1:]]
    # The maps: the first 25 rows with any label, one per labelled class, classes ascending.
    rows = [r for r in range(len(ids)) if d["y"][r].max() > 0.5][:25]
    expected = [(ids[r], classes[k]) for r in rows for k in range(len(classes)) if d["y"][r, k] > 0.5]
    got = [tuple(l.split("\t")[:1] + [l.split("\t")[2]]) for l in (task1 / "sal.rows.tsv").read_text().splitlines()[1:]]
    header = (task1 / "sal.rows.tsv").read_text().splitlines()[0].split("\t")
    assert header[0] == "id" and header[2] == "class", header
    assert got == expected and len(expected) > len(rows)

    tool("gkd-score", "recovery", "--data", "t.test.npz", "--sites", "t.test.sites.tsv", "-i", "sal=sal.npz",
         "--first", 1000, "-o", "rec.tsv", "--json", "rec.json", "--per-sequence", "seq.tsv", cwd=task1)
    sites = {}
    for line in (task1 / "t.test.sites.tsv").read_text().splitlines()[1:]:
        f = line.split("\t")
        sites.setdefault((f[0], f[6]), []).append((int(f[1]), int(f[2])))
    attr = np.load(task1 / "sal.npz")["attr"]
    truth = d["truth"]
    p = np.clip(truth, 1e-30, 1)
    ic = 2 + np.where(truth > 0, truth * np.log2(p), 0).sum(axis=1)
    aurocs, whole_row = [], []
    for i, (row_id, c) in enumerate(expected):
        r = ids.index(row_id)
        mask = np.zeros(truth.shape[2], bool)
        for s, e in sites[(row_id, c)]:
            mask[s:e] = True
        motif = (ic[r] > 0.01) & mask
        scores = (attr[i] * d["x"][r]).sum(axis=0)
        aurocs.append(roc_auc_score(motif, scores))
        whole_row.append(roc_auc_score(ic[r] > 0.01, scores) if (ic[r] > 0.01).sum() > motif.sum() else None)
    report = json.loads((task1 / "rec.json").read_text())
    [row] = report["rows"]
    assert row["sequences"] == len(expected)
    assert abs(row["auroc_mean"] - np.mean(aurocs)) < 1e-6
    per_seq = [float(l.split("\t")[2]) for l in (task1 / "seq.tsv").read_text().splitlines()[1:]]
    np.testing.assert_allclose(per_seq, aurocs, atol=1e-6)
    # Rows with motifs of other classes are scored differently without --sites: the option matters.
    assert any(w is not None and abs(w - a) > 1e-3 for w, a in zip(whole_row, aurocs))


def fake_report(kind, data, rows, settings=None):
    return {"$schema": "https://gkd.example/schemas/scores.v1.schema.json", "data": data, "inputs": [],
            "settings": settings or {}, "kind": kind, "rows": rows, "tool": "test", "version": "0"}


def assert_paired_statistics(row, diff):
    """The sweep row's paired t-test, 95% CI, Cohen's d_z and Wilcoxon p against scipy."""
    from scipy.stats import t as student_t, ttest_rel, wilcoxon
    test = ttest_rel(diff, np.zeros_like(diff))
    half = student_t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    assert abs(row["t_test_p"] - test.pvalue) < 1e-9, (row, test)
    assert abs(row["diff_ci_low"] - (diff.mean() - half)) < 1e-9
    assert abs(row["diff_ci_high"] - (diff.mean() + half)) < 1e-9
    assert abs(row["effect_size"] - diff.mean() / diff.std(ddof=1)) < 1e-12
    assert abs(row["wilcoxon_p"] - wilcoxon(diff).pvalue) < 1e-9, (row, wilcoxon(diff))


def test_paired_tests_equal_scipy_at_ten_and_twenty_seeds_with_ties_and_zeros(tool, tmp_path, schema):
    """Ten seeds without ties (Wilcoxon exact), ten with a zero and a tie (exact over the sign
    assignments), twenty with ties (normal approximation): every paired statistic as scipy's."""
    rng = np.random.default_rng(5)
    cases = {10: rng.normal(0.01, 0.02, 10), 20: np.round(rng.normal(0.01, 0.02, 20), 2)}
    tied = np.round(rng.normal(0.01, 0.02, 10), 3)
    tied[3], tied[7] = 0.0, tied[5]
    for seeds, diff in [*cases.items(), (10, tied)]:
        scratch = rng.uniform(0.8, 0.85, seeds)
        distilled = scratch + diff
        args = []
        for s in range(seeds):
            rows = [{"model": m, "class": "macro", "positives": 1, "rows": 2, "auroc": 0.5, "aupr": float(v),
                     "mean_abs_diff": None} for m, v in (("scratch", scratch[s]), ("distilled", distilled[s]))]
            path = tmp_path / f"p{s}.json"
            report = fake_report("predictive", f"seed{s}/d.test.npz", rows)
            jsonschema.validate(report, schema("scores.v1.schema.json"))
            path.write_text(json.dumps(report))
            args += ["--report", path.name]
        tool("gkd-score", "sweep", *args, "--reference", "scratch", "-o", "s.tsv", "--json", "s.json", cwd=tmp_path)
        out = json.loads((tmp_path / "s.json").read_text())
        jsonschema.validate(out, schema("scores.v1.schema.json"))
        row = next(r for r in out["rows"] if r["model"] == "distilled" and r["metric"] == "test_aupr")
        # The differences as gkd-score sees them: the JSON values subtracted in float64.
        assert_paired_statistics(row, np.array([float(d) - float(c) for d, c in zip(distilled, scratch)]))


def test_sweep_summary_equals_numpy_and_scipy(tool, tmp_path, schema):
    rng = np.random.default_rng(0)
    models = ["teacher", "scratch", "teacher_T1_a0.5", "teacher_T15_a0.5", "ensemble_T15_a0.1"]
    seeds = 5
    aupr = {m: rng.uniform(0.6, 0.9, seeds) for m in models}
    agree = {m: rng.uniform(0.01, 0.1, seeds) for m in models}
    rec = {m: rng.uniform(0.7, 0.95, seeds) for m in models}
    args = []
    for s in range(seeds):
        pred = [{"model": m, "class": "macro", "positives": 1, "rows": 2, "auroc": 0.5, "aupr": aupr[m][s],
                 "mean_abs_diff": 0.0 if m == "teacher" else agree[m][s]} for m in models]
        recovery = [{"model": f"{m}.saliency", "method": "saliency", "position_score": "observed", "sequences": 3,
                     "auroc_mean": rec[m][s], "auroc_sd": 0.1, "aupr_mean": 0.5, "aupr_sd": 0.1, "snr_max": None,
                     "snr_mean": None, "snr_top10": None} for m in models]
        for kind, rows, settings in (("predictive", pred, {"agreement_with": "teacher"}), ("recovery", recovery, None)):
            path = tmp_path / f"{kind}{s}.json"
            report = fake_report(kind, f"seed{s}/d.test.npz", rows, settings)
            jsonschema.validate(report, schema("scores.v1.schema.json"))
            path.write_text(json.dumps(report))
            args += ["--report", path.name]
    tool("gkd-score", "sweep", *args, "--reference", "scratch", "-o", "sweep.tsv", "--json", "sweep.json", cwd=tmp_path)
    out = json.loads((tmp_path / "sweep.json").read_text())
    jsonschema.validate(out, schema("scores.v1.schema.json"))
    rows = {(r["model"], r["metric"]): r for r in out["rows"]}
    for m in models:
        for metric, values in (("test_aupr", aupr[m]), ("agreement.teacher", agree[m]), ("recovery_auroc.saliency", rec[m])):
            if m == "teacher" and metric == "agreement.teacher":
                assert (m, metric) not in rows  # a model's agreement with itself is not a result
                continue
            r = rows[(m, metric)]
            assert r["seeds"] == seeds
            assert abs(r["mean"] - values.mean()) < 1e-12 and abs(r["sd"] - values.std(ddof=1)) < 1e-12
            if m == "scratch":
                assert r["diff_mean"] is None and r["sign_test_p"] is None
                continue
            ref = {"test_aupr": aupr, "agreement.teacher": agree, "recovery_auroc.saliency": rec}[metric]["scratch"]
            diff = values - ref
            assert abs(r["diff_mean"] - diff.mean()) < 1e-12 and abs(r["diff_sd"] - diff.std(ddof=1)) < 1e-12
            above, below = int((diff > 0).sum()), int((diff < 0).sum())
            assert (r["above"], r["below"]) == (above, below)
            assert abs(r["sign_test_p"] - binomtest(above, above + below).pvalue) < 1e-9
            assert_paired_statistics(r, diff)
    setting = rows[("ensemble_T15_a0.1", "test_aupr")]
    assert (setting["teacher"], setting["temperature"], setting["alpha"]) == ("ensemble", 15, 0.1)
    assert rows[("scratch", "test_aupr")]["teacher"] is None

    tool("gkd-report", "-o", "r.html", "--scores", "sweep.json", cwd=tmp_path)
    html = (tmp_path / "r.html").read_text()
    # Paired differences of test AUPR and recovery (two forest plots), then both metrics' curves
    # for each of the two teacher kinds.
    assert html.count("<svg") == 6 and "α = 0.5" in html and "(ensemble teacher)" in html
    assert html.count("<title>test_aupr: difference from scratch, 95% CI</title>") == 1
    assert html.count("<title>recovery_auroc.saliency: difference from scratch, 95% CI</title>") == 1


def test_seeds_sharing_one_dataset_are_told_apart_by_their_labels(tool, tmp_path):
    """Studies whose seeds share one dataset (histone, custom) label each report with its seed;
    consistency reports (no dataset at all) are summarised too."""
    rng = np.random.default_rng(1)
    models = ["teacher", "scratch", "distilled"]
    auroc = {m: rng.uniform(0.5, 0.9, 3) for m in models}
    rmse = {m: rng.uniform(0.1, 0.5, 3) for m in models}
    args = []
    for s in range(3):
        pred = [{"model": m, "class": "macro", "positives": 3, "rows": 10, "auroc": auroc[m][s], "aupr": 0.5,
                 "mean_abs_diff": None} for m in models]
        cons = [{"model": m, "sequences": 10, "rmse_mean": rmse[m][s], "rmse_sd": 0.0, "variability_mean": None}
                for m in models] + [{"model": "across-models", "sequences": 10, "rmse_mean": None, "rmse_sd": None,
                                     "variability_mean": 0.3}]
        for kind, rows, data in (("predictive", pred, "h.test.npz"), ("consistency", cons, None)):
            (tmp_path / f"{kind}{s}.json").write_text(json.dumps(fake_report(kind, data, rows)))
            args += ["--report", f"seed{s}={kind}{s}.json"]
    tool("gkd-score", "sweep", *args, "--reference", "scratch", "-o", "s.tsv", "--json", "s.json", cwd=tmp_path)
    rows = {(r["model"], r["metric"]): r for r in json.loads((tmp_path / "s.json").read_text())["rows"]}
    for m in models:
        for metric, values in (("test_auroc", auroc[m]), ("consistency_rmse", rmse[m])):
            r = rows[(m, metric)]
            assert r["seeds"] == 3 and abs(r["mean"] - values.mean()) < 1e-12, (m, metric, r)
    assert ("across-models", "consistency_rmse") not in rows
    # Without the labels the three predictive reports name one dataset: the tool refuses to mix them.
    unlabelled = [a.split("=", 1)[-1] for a in args]
    r = tool("gkd-score", "sweep", *unlabelled, "-o", "u.tsv", cwd=tmp_path, check=False)
    assert r.returncode == 1 and "an earlier input gave" in r.stderr
