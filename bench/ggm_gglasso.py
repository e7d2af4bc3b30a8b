"""gkd-ggm against gglasso (group graphical lasso, ADMM) and scikit-learn's GraphicalLasso (K = 1)
on planted networks, p = 50, 200, 1000 and K = 1, 3, 10, one run each, 2 threads.

Data: K precision matrices Ω⁽ᶜ⁾ = B_S + B_I⁽ᶜ⁾ + δI (p shared edges, p/5 specific edges per
condition, weights ±U(0.3, 0.6)), n = 2p samples per condition (at least 200), saved as .npy.

Each method is run at one λ. gkd's λ is chosen by bisection on the planted truth's edge count
(cheap for gkd; untimed); gglasso's and scikit-learn's λ1 = c·√(log p / n), c chosen by a search over 0.5, 1, 1.5 at
p = 50 for the best F1 (GGL c = 1, GGM_LAMBDA_FACTOR; scikit-learn c = 1.5,
GGM_SKLEARN_FACTOR; λ2 = λ1 for GGL), also untimed. The times are one fit each: gkd-ggm as
a command (reading the .npy files, correlation, backward mapping, estimator, writing its
outputs), gglasso and scikit-learn from the correlation matrices (numpy's corrcoef included).
F1: edges of every condition against the truth.

Usage: GKD_BIN_DIR=target/release python bench/ggm_gglasso.py [--max-p 1000] [--skip-gglasso-over SECONDS]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")
os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import numpy as np  # noqa: E402

LAMBDA_FACTOR = float(os.environ.get("GGM_LAMBDA_FACTOR", "1.0"))
SKLEARN_FACTOR = float(os.environ.get("GGM_SKLEARN_FACTOR", "1.5"))
BIN = os.path.join(os.environ.get("GKD_BIN_DIR", "target/release"), "gkd-ggm")


def planted(p, k, n, seed):
    rng = np.random.default_rng(seed)
    pairs = np.array([(i, j) for i in range(p) for j in range(i + 1, p)])
    order = rng.permutation(len(pairs))
    n_shared, n_own = p, max(1, p // 5)
    weight = lambda m: rng.choice([-1, 1], size=m) * rng.uniform(0.3, 0.6, size=m)
    shared = np.zeros((p, p))
    sp = pairs[order[:n_shared]]
    shared[sp[:, 0], sp[:, 1]] = weight(n_shared)
    data, truth = [], []
    for c in range(k):
        b = shared.copy()
        own = pairs[order[n_shared + c * n_own:n_shared + (c + 1) * n_own]]
        b[own[:, 0], own[:, 1]] = weight(n_own)
        b = b + b.T
        omega = b + (abs(np.linalg.eigvalsh(b).min()) + 0.5) * np.eye(p)
        chol = np.linalg.cholesky(np.linalg.inv(omega))
        data.append(rng.normal(size=(n, p)) @ chol.T)
        truth.append({(int(i), int(j)) for i, j in np.vstack([sp, own])})
    return data, truth


def f1(estimated, truth):
    tp = len(estimated & truth)
    if tp == 0:
        return 0.0
    precision, recall = tp / len(estimated), tp / len(truth)
    return 2 * precision * recall / (precision + recall)


def support(m, tol=1e-6):
    i, j = np.nonzero(np.triu(np.abs(m) > tol, 1))
    return set(zip(i.tolist(), j.tolist()))


def gkd(paths, method, lam, out):
    args = [BIN, "--method", method, "--lambda", repr(float(lam)), "--threads", "2", "-q", "-o", out]
    for path in paths:
        args += ["--data", path]
    start = time.perf_counter()
    subprocess.run(args, check=True)
    seconds = time.perf_counter() - start
    npz = np.load(out + ".npz")
    return seconds, [support(m, 0.0) for m in npz["precision"]]


def gkd_at_truth(paths, method, truth, out):
    """Bisect λ until the total edge count is the truth's (within 2%)."""
    want = sum(len(t) for t in truth)
    lo, hi = 1e-4, 100.0
    for _ in range(30):
        mid = np.sqrt(lo * hi)
        _, edges = gkd(paths, method, mid, out)
        got = sum(len(e) for e in edges)
        if abs(got - want) <= 0.02 * want:
            break
        lo, hi = (mid, hi) if got > want else (lo, mid)
    return mid


def gglasso_fit(data, lam1, lam2):
    from gglasso.problem import glasso_problem

    start = time.perf_counter()
    s = np.stack([np.corrcoef(x.T) for x in data])
    problem = glasso_problem(s, np.array([len(x) for x in data]), reg="GGL",
                             reg_params={"lambda1": lam1, "lambda2": lam2}, latent=False, do_scaling=False)
    problem.solve(verbose=False)
    seconds = time.perf_counter() - start
    theta = problem.solution.precision_
    return seconds, [support(theta[c]) for c in range(len(data))]


def sklearn_fit(x, alpha):
    from sklearn.covariance import graphical_lasso

    start = time.perf_counter()
    s = np.corrcoef(x.T)
    _, precision = graphical_lasso(s, alpha=alpha, max_iter=500, tol=1e-4)
    return time.perf_counter() - start, [support(precision)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-p", type=int, default=1000)
    parser.add_argument("--skip-gglasso-over", type=float, default=900.0,
                        help="do not run gglasso on a larger problem once one fit took this long")
    args = parser.parse_args()
    # Warm numba's JIT (gglasso) so that compile time is not charged to the first fit.
    d0, _ = planted(20, 2, 100, 9)
    gglasso_fit(d0, 0.05, 0.05)
    rows = []
    slow = False
    with tempfile.TemporaryDirectory() as tmp:
        for p in [50, 200, 1000]:
            if p > args.max_p:
                continue
            for k in [1, 3, 10]:
                n = max(200, 2 * p)
                data, truth = planted(p, k, n, seed=p + k)
                paths = []
                for c, x in enumerate(data):
                    path = os.path.join(tmp, f"p{p}k{k}c{c}.npy")
                    np.save(path, x)
                    paths.append(path)
                out = os.path.join(tmp, "o")
                lam_ref = LAMBDA_FACTOR * np.sqrt(np.log(p) / n)  # see the docstring
                methods = ["ee"] if k == 1 else ["fasjem", "jeek"]
                for method in methods:
                    lam = gkd_at_truth(paths, method, truth, out)
                    seconds, edges = gkd(paths, method, lam, out)
                    rows.append(dict(p=p, k=k, n=n, tool=f"gkd-ggm {method}", seconds=seconds,
                                     f1=float(np.mean([f1(e, t) for e, t in zip(edges, truth)]))))
                    print(json.dumps(rows[-1]), flush=True)
                if k == 1:
                    seconds, edges = sklearn_fit(data[0], lam_ref / LAMBDA_FACTOR * SKLEARN_FACTOR)
                    rows.append(dict(p=p, k=k, n=n, tool="scikit-learn graphical_lasso", seconds=seconds,
                                     f1=f1(edges[0], truth[0])))
                elif not slow:
                    seconds, edges = gglasso_fit(data, lam_ref, lam_ref)
                    slow = seconds > args.skip_gglasso_over
                    rows.append(dict(p=p, k=k, n=n, tool="gglasso GGL (ADMM)", seconds=seconds,
                                     f1=float(np.mean([f1(e, t) for e, t in zip(edges, truth)]))))
                else:
                    rows.append(dict(p=p, k=k, n=n, tool="gglasso GGL (ADMM)", seconds=None, f1=None))
                print(json.dumps(rows[-1]), flush=True)
    print("\n| p | K | n per condition | tool | seconds | mean F1 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        sec = "not run" if r["seconds"] is None else f"{r['seconds']:.2f}"
        f = "–" if r["f1"] is None else f"{r['f1']:.3f}"
        print(f"| {r['p']} | {r['k']} | {r['n']} | {r['tool']} | {sec} | {f} |")


if __name__ == "__main__":
    sys.exit(main())
