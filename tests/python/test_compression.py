"""gkd-compress and early exits against independent computations: numpy's SVD and TT-SVD error
bound, top-k magnitude masks, PyTorch running the pruned, factorised, fake-quantised and
early-exit models from the files gkd writes."""
import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file as load_np

from torch_models import koo_cnn_deep, koo_cnn_shallow


@pytest.fixture(scope="module")
def trained(tool, data, tmp_path_factory):
    """A koo-cnn-shallow trained 3 epochs on 700 synthetic task-1 rows."""
    d = tmp_path_factory.mktemp("compress")
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--n", 700, "--seed", 3, "-o", "t.{split}.npz", cwd=d)
    tool("gkd-train", "--arch", "koo-cnn-shallow", "--train", "t.train.npz", "--valid", "t.valid.npz",
         "--epochs", 3, "--batch-size", 50, "--seed", 1, "-o", "model", "-q", cwd=d)
    return d


def card(path):
    return json.loads((path / "model.json").read_text())


def predict(tool, d, model, *extra):
    tool("gkd-predict", "--model", model, "--data", "t.test.npz", "-o", f"{model}.pred.npz", "-q", *extra, cwd=d)
    return np.load(d / f"{model}.pred.npz")["logits"]


def torch_logits(net, state, x, strict=True):
    result = net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()},
                                 strict=strict)
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy(), result


PRUNABLE = ["blocks.0.conv.weight", "blocks.1.conv.weight", "dense.0.linear.weight", "output.weight"]


def test_magnitude_pruning_keeps_each_layers_largest_weights_and_pytorch_runs_it(tool, trained):
    d = trained
    tool("gkd-compress", "prune", "--model", "model", "--ratio", 10, "--epochs", 0, "-o", "pruned", "-q", cwd=d)
    source, pruned = load_np(str(d / "model" / "model.safetensors")), load_np(str(d / "pruned" / "model.safetensors"))
    masks = load_np(str(d / "pruned" / "masks.safetensors"))
    record = card(d / "pruned")["compression"]
    assert sorted(masks) == sorted(PRUNABLE)
    kept_total = 0
    for name in PRUNABLE:
        w, m = source[name], masks[name].astype(bool)
        assert m.shape == w.shape
        kept = int(m.sum())
        kept_total += kept
        # The kept entries are exactly the `kept` largest magnitudes (ties aside).
        threshold = np.sort(np.abs(w).ravel())[::-1][kept - 1]
        assert np.all(np.abs(w[m]) >= threshold) and np.all(np.abs(w[~m]) <= threshold)
        np.testing.assert_array_equal(pruned[name], np.where(m, w, 0))
    # Every other tensor is untouched.
    for name in set(source) - set(PRUNABLE):
        np.testing.assert_array_equal(pruned[name], source[name])
    before = record["parameters_before"]
    zeros = sum(int((~masks[n].astype(bool)).sum()) for n in PRUNABLE)
    assert record["parameters_after"] == before - zeros
    assert before / record["parameters_after"] == pytest.approx(10, rel=0.01)
    assert record["parameters_after"] <= before // 10
    # PyTorch loads the pruned weights as they are, and computes gkd-predict's logits.
    x = np.load(d / "t.test.npz")["x"]
    theirs, _ = torch_logits(koo_cnn_shallow(12), pruned, x)
    assert np.abs(predict(tool, d, "pruned") - theirs).max() <= 1e-4


def test_admm_pruning_reaches_its_sparsity_and_retraining_keeps_the_cut_weights_at_zero(tool, trained):
    d = trained
    tool("gkd-compress", "prune", "--method", "admm", "--stages", 2, "--admm-epochs", 1, "--model", "model",
         "--ratio", 5, "--train", "t.train.npz", "--valid", "t.valid.npz", "--epochs", 2, "-o", "admm", "-q", cwd=d)
    c = card(d / "admm")
    weights, masks = load_np(str(d / "admm" / "model.safetensors")), load_np(str(d / "admm" / "masks.safetensors"))
    for name in PRUNABLE:
        assert np.all(weights[name][masks[name] == 0] == 0)
    assert c["compression"]["ratio"] >= 4.95
    assert c["compression"]["fine_tune"]["admm"] == {"stages": 2, "epochs": 1, "rho": 1e-3}
    assert c["outcome"]["epochs_run"] >= 1
    # The model.json metrics are those of the written weights.
    tool("gkd-predict", "--model", "admm", "--data", "t.valid.npz", "-o", "v.npz", "--metrics", "v.tsv", "-q", cwd=d)
    macro = [l.split("\t") for l in (d / "v.tsv").read_text().splitlines() if l.startswith("macro")][0]
    assert float(macro[-1]) == pytest.approx(c["outcome"]["valid"]["aupr"], abs=1e-6)


def test_low_rank_factors_are_the_truncated_svd(tool, trained):
    d = trained
    tool("gkd-compress", "low-rank", "--model", "model", "--rank", 7, "--epochs", 0, "-o", "lr", "-q", cwd=d)
    source, lr = load_np(str(d / "model" / "model.safetensors")), load_np(str(d / "lr" / "model.safetensors"))
    w = source["dense.0.linear.weight"].astype(np.float64)  # (out, in)
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    best = (u[:, :7] * s[:7]) @ vt[:7]
    product = lr["dense.0.linear.weight"].astype(np.float64) @ lr["dense.0.factor.weight"].astype(np.float64)
    assert lr["dense.0.factor.weight"].shape == (7, w.shape[1])
    assert np.abs(product - best).max() <= 1e-4 * np.abs(w).max()
    assert card(d / "lr")["compression"]["parameters_after"] == card(d / "model")["parameters"] - w.size + 7 * sum(w.shape)
    # PyTorch with the product as the dense matrix gives gkd-predict's logits.
    state = {k: v for k, v in lr.items() if k != "dense.0.factor.weight"}
    state["dense.0.linear.weight"] = product.astype(np.float32)
    x = np.load(d / "t.test.npz")["x"]
    theirs, _ = torch_logits(koo_cnn_shallow(12), state, x)
    assert np.abs(predict(tool, d, "lr") - theirs).max() <= 1e-4


def test_low_rank_convolutions_are_the_truncated_svd_of_the_unfolded_kernel(tool, trained):
    d = trained
    tool("gkd-compress", "low-rank", "--convs", "--model", "model", "--rank", 3, "--epochs", 0, "-o", "lrc", "-q", cwd=d)
    source, lrc = load_np(str(d / "model" / "model.safetensors")), load_np(str(d / "lrc" / "model.safetensors"))
    spec = card(d / "lrc")["spec"]
    assert spec["conv_ranks"] == [None, 3] and spec["dense_maps"] == [{"kind": "low-rank", "rank": 3}]
    # Block 1 (124 filters x 32 channels x width 5): conv (124, 3, 1) . factor (3, 32, 5).
    w = source["blocks.1.conv.weight"].astype(np.float64)
    unfolded = w.reshape(w.shape[0], -1)
    u, sv, vt = np.linalg.svd(unfolded, full_matrices=False)
    best = (u[:, :3] * sv[:3]) @ vt[:3]
    conv, factor = lrc["blocks.1.conv.weight"].astype(np.float64), lrc["blocks.1.factor.weight"].astype(np.float64)
    assert conv.shape == (124, 3, 1) and factor.shape == (3, 32, 5)
    product = conv[:, :, 0] @ factor.reshape(3, -1)
    assert np.abs(product - best).max() <= 1e-4 * np.abs(w).max()
    # The first block (the motif detectors) stays whole.
    np.testing.assert_array_equal(lrc["blocks.0.conv.weight"], source["blocks.0.conv.weight"])
    # PyTorch with the products as full kernels gives gkd-predict's logits.
    state = {k: v for k, v in lrc.items() if not k.endswith("factor.weight")}
    state["blocks.1.conv.weight"] = product.reshape(w.shape).astype(np.float32)
    state["dense.0.linear.weight"] = (lrc["dense.0.linear.weight"].astype(np.float64)
                                      @ lrc["dense.0.factor.weight"].astype(np.float64)).astype(np.float32)
    x = np.load(d / "t.test.npz")["x"]
    theirs, _ = torch_logits(koo_cnn_shallow(12), state, x)
    assert np.abs(predict(tool, d, "lrc") - theirs).max() <= 1e-4


def mpo_matrix(cores):
    """Contract MPO cores (r0, i, o, r1) into the (rows, cols) matrix, rows and cols row-major."""
    acc = np.ones((1, 1, 1))
    for g in cores:
        rows, cols, _ = acc.shape
        _, i, o, r = g.shape
        acc = np.einsum("abr,rios->aibos", acc, g).reshape(rows * i, cols * o, r)
    return acc[:, :, 0]


def test_mpo_cores_contract_to_the_matrix_within_the_tt_svd_bound(tool, trained):
    d = trained
    tool("gkd-compress", "mpo", "--model", "model", "--bond", 1000, "--epochs", 0, "-o", "exact", "-q", cwd=d)
    tool("gkd-compress", "mpo", "--model", "model", "--bond", 3, "--epochs", 0, "-o", "mpo", "-q", cwd=d)
    source = load_np(str(d / "model" / "model.safetensors"))
    w = source["dense.0.linear.weight"].T.astype(np.float64)  # (in, out), the MPO's rows and columns
    # Exact bonds: the same function.
    assert np.abs(predict(tool, d, "exact") - predict(tool, d, "model")).max() <= 1e-4
    spec = card(d / "mpo")["spec"]["dense_maps"][0]
    assert spec["kind"] == "mpo" and spec["bonds"] == [3, 3]
    ins, outs = spec["inputs"], spec["outputs"]
    mpo = load_np(str(d / "mpo" / "model.safetensors"))
    cores = [mpo[f"dense.0.mpo.cores.{k}"].astype(np.float64) for k in range(len(ins))]
    approx = mpo_matrix(cores)
    # Oseledets (2011): |W - TT(W)|_F^2 <= sum over cuts k of the squared singular values that
    # the rank-r_k truncation of unfolding k drops.
    n = len(ins)
    t = w.reshape(*ins, *outs).transpose([a for k in range(n) for a in (k, n + k)])
    bound = 0.0
    for k in range(1, n):
        left = int(np.prod([ins[j] * outs[j] for j in range(k)]))
        s = np.linalg.svd(t.reshape(left, -1), compute_uv=False)
        bound += (s[3:] ** 2).sum()
    err = ((approx - w) ** 2).sum()
    assert err <= bound * (1 + 1e-6) + 1e-9
    assert err > 0  # bond 3 does truncate


def test_int8_logits_equal_pytorch_with_fake_quantised_inputs(tool, trained):
    d = trained
    tool("gkd-compress", "quantize", "--model", "model", "--calibration", "t.train.npz", "--rows", 200,
         "-o", "int8", "-q", cwd=d)
    assert not (d / "int8" / "model.safetensors").exists()
    raw = load_np(str(d / "int8" / "model.int8.safetensors"))
    source = load_np(str(d / "model" / "model.safetensors"))
    state = {}
    for name, v in raw.items():
        if name.endswith(".scale"):
            continue
        if v.dtype == np.int8:
            scale = raw[name + ".scale"]
            assert np.abs(v).max() == 127 and scale.shape == (v.shape[0],)
            deq = v.astype(np.float32) * scale.reshape(-1, *([1] * (v.ndim - 1)))
            # Each weight moved by at most half a level of its row.
            step = scale.reshape(-1, *([1] * (v.ndim - 1)))
            assert np.all(np.abs(deq - source[name]) <= step / 2 + 1e-7)
            state[name] = deq
        else:
            state[name] = v
    assert sorted(n for n, v in raw.items() if v.dtype == np.int8) == sorted(PRUNABLE)
    int8 = card(d / "int8")["spec"]["int8"]
    net = koo_cnn_shallow(12)
    layers = [b.conv for b in net.blocks] + [b.linear for b in net.dense] + [net.output]
    assert len(layers) == len(int8["input_scales"])

    def quantiser(scale, signed):
        lo, hi = (-127, 127) if signed else (0, 255)
        return lambda module, args: (torch.clamp(torch.round(args[0] / scale), lo, hi) * scale,)

    for layer, scale, signed in zip(layers, int8["input_scales"], int8["input_signed"]):
        layer.register_forward_pre_hook(quantiser(scale, signed))
    x = np.load(d / "t.test.npz")["x"]
    theirs, _ = torch_logits(net, state, x)
    ours = predict(tool, d, "int8")
    # Equal to float rounding, except where an activation lies within float rounding of a level
    # boundary (x/s near k + 0.5; the two sides compute x to ~1e-6 relative, i.e. ~1e-4 of a
    # level at the top of the range) and is rounded to the neighbouring level: one level of one
    # input then moves that row's logits by about s_x * |w|.
    diff = np.abs(ours - theirs)
    rows_exact = (diff.max(axis=1) <= 1e-4).mean()
    assert rows_exact >= 0.75, rows_exact
    assert np.median(diff) <= 1e-5
    assert diff.max() <= 5e-3
    # ... and int8 changes the float model's logits only a little.
    assert np.abs(ours - predict(tool, d, "model")).max() <= 0.1 * np.abs(ours).max()


def test_early_exit_takes_the_exit_exactly_where_it_is_confident(tool, trained):
    d = trained
    tool("gkd-train", "--arch", "koo-cnn-deep", "--early-exit", 1, "--train", "t.train.npz", "--valid",
         "t.valid.npz", "--epochs", 2, "--batch-size", 50, "--seed", 2, "-o", "exit", "-q", cwd=d)
    weights = load_np(str(d / "exit" / "model.safetensors"))
    x = np.load(d / "t.test.npz")["x"]
    net = koo_cnn_deep(12)
    captured = {}
    net.blocks[1].register_forward_hook(lambda m, a, out: captured.__setitem__("h", out))
    final, result = torch_logits(net, {k: v for k, v in weights.items() if not k.startswith("exit.")}, x)
    exit_logits = captured["h"].amax(dim=2).numpy() @ weights["exit.weight"].T + weights["exit.bias"]
    # At threshold 0.5 every row exits; without a threshold none does.
    assert np.abs(predict(tool, d, "exit", "--exit-threshold", 0.5) - exit_logits).max() <= 1e-4
    assert np.abs(predict(tool, d, "exit") - final).max() <= 1e-4
    p = 1 / (1 + np.exp(-exit_logits))
    confidence = np.maximum(p, 1 - p).min(axis=1)
    # A threshold in a gap between two rows' confidences, so rounding cannot move a row across.
    c = np.sort(confidence)
    gaps = [k for k in range(len(c) // 4, 3 * len(c) // 4) if c[k + 1] - c[k] > 1e-5]
    k = gaps[len(gaps) // 2]
    t = float((c[k] + c[k + 1]) / 2)
    expected = np.where((confidence >= t)[:, None], exit_logits, final)
    got = predict(tool, d, "exit", "--exit-threshold", t, "--stats", "stats.json")
    assert np.abs(got - expected).max() <= 1e-4
    stats = json.loads((d / "stats.json").read_text())["models"][0]
    assert stats["exited"] == int((confidence >= t).sum()) and stats["after_block"] == 1
