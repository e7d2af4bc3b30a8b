"""gkd-attack's gradient attacks against PyTorch on the same trained weights, written from
docs/science.md §8: HotFlip (each step the largest first-order gain g[b, i] - g[a_i, i] of the
input gradient, at distinct positions, until the goal is met) and the projected-gradient attack
(steps of pgd_step * g / max|g| on the relaxed rows, Euclidean projection of every position onto
the simplex, then the positions whose original base lost the most mass take their most likely
other base, one more per budget). Every recorded score is PyTorch's on the substituted row; the
robustness summary is recounted with numpy and the detector's AUROC with scikit-learn."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sklearn.metrics import roc_auc_score

from torch_models import ARCHS

BUDGET, STEPS, ETA, ROWS = 5, 8, 0.1, 40


@pytest.fixture(scope="module")
def study(tool, data, tmp_path_factory):
    """A task-3 model trained briefly, attacked on the first positive test rows (down by 1 logit)."""
    d = tmp_path_factory.mktemp("attack")
    tool("gkd-synth", "task3", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--decoys", data("motifs/core_vertebrates_nonredundant_jaspar2016.meme"),
         "--n-positive", 500, "--n-negative", 500, "--seed", 6, "-o", "t3.{split}.npz", cwd=d)
    tool("gkd-train", "--arch", "koo-cnn-local", "--train", "t3.train.npz", "--valid", "t3.valid.npz",
         "--epochs", 5, "--seed", 3, "-o", "m", "-q", cwd=d)
    tool("gkd-attack", "--model", "m", "--data", "t3.test.npz", "--positives", "positive", "--first", ROWS,
         "--goal", "down", "--margin", 1, "--budget", BUDGET, "--pgd-steps", STEPS, "--pgd-step", ETA,
         "-o", "a", "-q", cwd=d)
    return d


def torch_net(d):
    net = ARCHS["koo-cnn-local"](1)
    net.load_state_dict(load_file(str(d / "m" / "model.safetensors")), strict=True)
    return net.eval()


def table(d, attack):
    import csv
    with open(d / "a.tsv") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["attack"] == attack]


def changes(row):
    return [] if row["changes"] == "NA" else [(int(c.split(":")[0]), "ACGT".index(c[-1])) for c in row["changes"].split(",")]


def score(net, x):
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(x[None], dtype=np.float32)))[0, 0].item()


def gradient(net, x):
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).requires_grad_(True)
    net(t)[:, 0].sum().backward()
    return t.grad.numpy()


def project(v):
    """Euclidean projection of each column (axis 0) onto the simplex (Duchi et al. 2008)."""
    u = -np.sort(-v, axis=0)
    css = np.cumsum(u, axis=0) - 1
    j = np.arange(1, v.shape[0] + 1)[:, None]
    rho = (u - css / j > 0).sum(axis=0)
    theta = css[rho - 1, np.arange(v.shape[1])] / rho
    return np.maximum(v - theta, 0)


def test_hotflip_equals_pytorch(study):
    net = torch_net(study)
    x = np.load(study / "t3.test.npz")["x"]
    rows = table(study, "hotflip")
    same = 0
    for r in rows:
        cur = x[int(r["row"])].copy()
        start = score(net, cur)
        assert abs(start - float(r["start_score"])) < 1e-4
        path, changed, scores = [], set(), []
        for _ in range(BUDGET):
            g = -gradient(net, cur[None])[0]  # the goal lowers the score
            a = cur.argmax(axis=0)
            gain = g - g[a, np.arange(cur.shape[1])]
            gain[a, np.arange(cur.shape[1])] = -np.inf
            gain[:, sorted(changed)] = -np.inf
            i, b = np.unravel_index(np.argmax(gain.T), gain.T.shape)  # position-major, first on ties
            cur[:, i] = 0
            cur[b, i] = 1
            changed.add(i)
            path.append((int(i), int(b)))
            scores.append(score(net, cur))
            if start - scores[-1] >= 1:
                break
        if path == changes(r):
            same += 1
            recorded = [float(s) for s in r["scores"].split(",")]
            np.testing.assert_allclose(recorded, scores, atol=1e-4)
    # Near-ties of first-order gains may order differently in float32; the paths agree otherwise.
    assert same >= 0.9 * len(rows), f"{same} of {len(rows)} HotFlip paths equal PyTorch's"


def test_pgd_equals_pytorch(study):
    net = torch_net(study)
    x = np.load(study / "t3.test.npz")["x"]
    rows = table(study, "pgd")
    same = 0
    for r in rows:
        clean = x[int(r["row"])]
        start = score(net, clean)
        p = clean.copy()
        for _ in range(STEPS):
            g = -gradient(net, p[None])[0]
            p = project(p + ETA * g / np.abs(g).max())
        a = clean.argmax(axis=0)
        lost = 1 - p[a, np.arange(p.shape[1])]
        other = p.copy()
        other[a, np.arange(p.shape[1])] = -np.inf
        order = sorted(range(p.shape[1]), key=lambda i: (-lost[i], i))[:BUDGET]
        plan = [(i, int(np.argmax(other[:, i]))) for i in order]
        cur, scores = clean.copy(), []
        for i, b in plan:
            cur[:, i] = 0
            cur[b, i] = 1
            scores.append(score(net, cur))
            if start - scores[-1] >= 1:
                break
        if plan[:len(scores)] == changes(r):
            same += 1
            np.testing.assert_allclose([float(s) for s in r["scores"].split(",")], scores, atol=1e-4)
    assert same >= 0.9 * len(rows), f"{same} of {len(rows)} PGD plans equal PyTorch's"


def test_summary_and_detector_recounted(tool, study):
    summary = json.loads((study / "a.json").read_text())
    for s in summary["attacks"]:
        rows = table(study, s["attack"])
        used = np.array([int(r["substitutions"]) if r["success"] == "1" else BUDGET + 1 for r in rows])
        np.testing.assert_allclose(s["robust"], [(used > k).mean() for k in range(BUDGET + 1)])
        broken = used[(used >= 1) & (used <= BUDGET)]
        assert s["successes"] == len(broken)
        if len(broken):
            assert s["median_substitutions"] == np.median(broken)
    tool("gkd-attack", "detect", "--model", "m", "--clean", "t3.test.npz", "--adversarial", "a.greedy-ism.npz",
         "--rc", "--mask", 0.5, "-o", "det", "-q", cwd=study)
    det = json.loads((study / "det.json").read_text())
    import csv
    with open(study / "det.tsv") as f:
        scored = list(csv.DictReader(f, delimiter="\t"))
    labels = [r["kind"] == "adversarial" for r in scored]
    for s in det["squeezers"]:
        auc = roc_auc_score(labels, [float(r[s["squeezer"]]) for r in scored])
        assert abs(s["auroc"] - auc) < 1e-9, s
    # The rc squeezer is |score(x) - score(reverse complement of x)| on PyTorch's logits.
    net = torch_net(study)
    adv = np.load(study / "a.greedy-ism.npz")["x"]
    ids = [l.split("\t")[0] for l in (study / "a.greedy-ism.rows.tsv").read_text().splitlines()[1:]]
    for r in [r for r in scored if r["kind"] == "adversarial"][:5]:
        row = adv[ids.index(r["id"])]
        expected = abs(score(net, row) - score(net, row[::-1, ::-1]))
        assert abs(float(r["rc"]) - expected) < 1e-4
