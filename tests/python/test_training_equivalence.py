"""gkd-train step for step against the same networks written independently in PyTorch
(torch_models.py): both start from the same weights (PyTorch's initialisation, passed to
gkd-train with --init-weights), see the same batches (gkd-train's --step-log names each step's
rows), and run without dropout (--no-dropout). Every step's loss must agree, and after K >= 20
steps so must every weight and BatchNorm running statistic.

Tolerances (float32 on both sides; measured margins are in RESULTS.md):
- loss at every step: 1e-4 absolute.
- SGD: every tensor within 1e-4 of its largest magnitude (relative) after K steps.
- Adam: every element within 0.05 * lr * K absolute. Adam divides the first moment by the root
  of the second, so a gradient near zero whose float32 rounding differs between the two
  frameworks can move its weight by up to one lr per step in either direction; lr * K bounds the
  total movement of any weight, and the test allows 5% of it. The BatchNorm running statistics,
  which Adam does not update, keep the 1e-4 relative tolerance.
"""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from torch_models import ARCHS

K_MIN = 20


def synth_task1(tool, data, cwd, n=300, seed=3):
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--n", n, "--seed", seed, "-o", "task1.{split}.npz", cwd=cwd)
    return "task1"


def histone_toy(tool, data, cwd):
    toy = data("deepchrome_toy")
    for split in ("train", "valid", "test"):
        tool("gkd-histone", "--from-deepchrome", toy / f"{split}.csv", "-o", f"h.{split}.npz", cwd=cwd)
    return "h"


def make_multiclass(cwd, name, classes=3):
    """Turn a task-1 split into a multiclass one (softmax head): each row's label is its first
    motif class modulo `classes` (class 0 when it has none)."""
    for split in ("train", "valid"):
        npz = dict(np.load(cwd / f"{name}.{split}.npz"))
        first = np.where(npz["y"].any(axis=1), npz["y"].argmax(axis=1), 0) % classes
        npz["y"] = np.eye(classes, dtype=np.float32)[first]
        np.savez(cwd / f"mc.{split}.npz", **npz)
        manifest = json.loads((cwd / f"{name}.{split}.json").read_text())
        manifest["task"] = "multiclass"
        manifest["classes"] = [f"c{k}" for k in range(classes)]
        (cwd / f"mc.{split}.json").write_text(json.dumps(manifest))
        rows = (cwd / f"{name}.{split}.rows.tsv").read_text().splitlines()
        header = rows[0].split("\t")
        keep = [i for i, h in enumerate(header) if h in ("id", "chrom", "start", "end", "strand", "n_motifs")]
        out = ["\t".join([header[i] for i in keep] + manifest["classes"])]
        for line, k in zip(rows[1:], first):
            f = line.split("\t")
            out.append("\t".join([f[i] for i in keep] + ["1" if j == k else "0" for j in range(classes)]))
        (cwd / f"mc.{split}.rows.tsv").write_text("\n".join(out) + "\n")
    return "mc"


def write_soft_targets(cwd, name, classes, seed=11):
    """Random teacher logits for the training rows, as a gkd-predict TSV (id, class, logit, p)."""
    ids = [l.split("\t")[0] for l in (cwd / f"{name}.train.rows.tsv").read_text().splitlines()[1:]]
    logits = np.random.default_rng(seed).normal(0, 3, (len(ids), len(classes))).astype(np.float32)
    lines = ["id\tclass\tlogit\tprobability"]
    for i, row_id in enumerate(ids):
        for k, c in enumerate(classes):
            lines.append(f"{row_id}\t{c}\t{float(logits[i, k])!r}\t0.5")
    (cwd / "teacher.tsv").write_text("\n".join(lines) + "\n")
    return logits


def read_steps(path):
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    steps = []
    for line in lines[1:]:
        f = dict(zip(header, line.split("\t")))
        steps.append((float(f["loss"]), [int(r) for r in f["rows"].split(",")], float(f["lr"])))
    return steps


def torch_loss(head, z, y, teacher, temperature, alpha):
    if head == "sigmoid":
        hard = F.binary_cross_entropy_with_logits(z, y)
    else:
        hard = -(torch.log_softmax(z, 1) * y).sum(1).mean()
    if teacher is None:
        return hard
    t = temperature
    if head == "sigmoid":
        soft = F.binary_cross_entropy_with_logits(z / t, torch.sigmoid(teacher / t))
    else:
        p = torch.softmax(teacher / t, 1)
        soft = (p * (torch.log_softmax(teacher / t, 1) - torch.log_softmax(z / t, 1))).sum(1).mean()
    return alpha * hard + (1 - alpha) * t * t * soft


def compare(tool, tmp_path, data, arch, optimizer, *, dataset="task1", epochs=1, batch=10, lr=None, extra=(),
            distill=None, act="relu"):
    """Train `arch` both ways and return the per-step loss gaps and the largest weight gaps."""
    name = {"task1": lambda: synth_task1(tool, data, tmp_path), "histone": lambda: histone_toy(tool, data, tmp_path),
            "multiclass": lambda: make_multiclass(tmp_path, synth_task1(tool, data, tmp_path))}[dataset]()
    train = np.load(tmp_path / f"{name}.train.npz")
    x, y = torch.from_numpy(train["x"]), torch.from_numpy(train["y"])
    classes = json.loads((tmp_path / f"{name}.train.json").read_text())["classes"]
    head = "softmax" if dataset == "multiclass" else "sigmoid"
    lr = lr if lr is not None else (0.05 if optimizer == "sgd" else 1e-3)

    # gkd's --describe settings of this architecture, as the PyTorch module needs them.
    torch.manual_seed(0)
    kwargs = {"dropout": False}
    if arch.startswith("koo"):
        kwargs.update(act=act)
    if arch in ("deepchrome", "attentivechrome"):
        kwargs.update(marks=x.shape[1])
    if arch == "deepchrome":
        kwargs.update(bins=x.shape[2])
    unbiased = "--bn-running-variance" in extra and extra[list(extra).index("--bn-running-variance") + 1] == "unbiased"
    if arch.startswith("koo"):
        kwargs["norm"] = dict(eps=1e-3, momentum=0.01, unbiased=unbiased)
    net = ARCHS[arch](len(classes), **kwargs)
    init = {k: v.contiguous() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_file(init, str(tmp_path / "init.safetensors"))

    args = ["--arch", arch, "--train", f"{name}.train.npz", "--valid", f"{name}.valid.npz", "--epochs", epochs,
            "--batch-size", batch, "--lr", lr, "--optimizer", optimizer, "--no-dropout", "--keep", "last",
            "--patience", 0, "--plateau-patience", 0, "--monitor", "loss", "--seed", 5,
            "--init-weights", "init.safetensors", "--step-log", "steps.tsv", "-o", "model", "-q",
            "--first-activation", act if arch.startswith("koo") else "relu", *extra]
    teacher = None
    if distill is not None:
        teacher = torch.from_numpy(write_soft_targets(tmp_path, name, classes))
        args += ["--soft-targets", "teacher.tsv", "--temperature", distill[0], "--alpha", distill[1]]
    tool("gkd-train", *args, cwd=tmp_path)
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    steps = read_steps(tmp_path / "steps.tsv")
    assert len(steps) >= K_MIN

    # The same steps in PyTorch.
    adam_eps = card["training"]["adam_epsilon"]
    l2 = card["training"]["kernel_l2"]
    opt = (torch.optim.SGD(net.parameters(), lr=lr) if optimizer == "sgd"
           else torch.optim.Adam(net.parameters(), lr=lr, eps=adam_eps))
    net.train()
    loss_gaps = []
    for logged, rows, step_lr in steps:
        assert step_lr == lr
        opt.zero_grad()
        z = net(x[rows])
        loss = torch_loss(head, z, y[rows], None if teacher is None else teacher[rows],
                          distill and distill[0], distill and distill[1])
        if l2 > 0:
            loss = loss + l2 * sum((w ** 2).sum() for w in net.kernels())
        loss_gaps.append(abs(loss.item() - logged))
        loss.backward()
        opt.step()

    ours = load_file(str(tmp_path / "model" / "model.safetensors"))
    theirs = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert set(ours) == set(theirs)
    gaps = {}
    for k, v in theirs.items():
        a, b = ours[k].numpy().astype(np.float64), v.detach().numpy().astype(np.float64)
        gaps[k] = (np.abs(a - b).max(), np.abs(b).max())
    return np.array(loss_gaps), gaps, lr, len(steps)


def check(loss_gaps, gaps, optimizer, lr, k):
    assert loss_gaps.max() <= 1e-4, loss_gaps
    for name, (gap, scale) in gaps.items():
        running = name.endswith("running_mean") or name.endswith("running_var")
        if optimizer == "sgd" or running:
            assert gap <= 1e-4 * max(scale, 1e-6), f"{name}: {gap} vs scale {scale}"
        else:
            assert gap <= 0.05 * lr * k, f"{name}: {gap} vs lr*K {lr * k}"


# Open discrepancy (issue 11, not yet resolved): with a relu FIRST layer the Koo CNNs drift from
# PyTorch after a few steps (losses agree to 1e-7 for ~5 steps, then 1e-6 growing to 1e-3 by step
# 21), with SGD for koo-cnn-deep and koo-cnn-dist and with Adam for koo-cnn-shallow (and with Adam
# for koo-cnn-deep even with an exponential first layer). With SGD the same
# networks with an exponential first layer agree to 1e-7 at every step; one full-batch SGD step
# agrees to 1e-6 relative on every tensor; PyTorch float32 against float64 agrees to 1e-7 over the
# same 21 steps. So something about the first relu (exact zeros) differs between the frameworks.
# Strict xfail: the day these pass, the marks must go.
OPEN = pytest.mark.xfail(strict=True, reason="open: relu first layer drifts from PyTorch (see above)")


def case(arch, optimizer, dataset="task1", open_=False, **kw):
    act = kw.get("act", "")
    return pytest.param(arch, optimizer, dataset, kw, marks=OPEN if open_ else (),
                        id="-".join(filter(None, [arch, act, optimizer])))


CASES = [
    case("koo-cnn-deep", "sgd", act="exponential", lr=0.01),
    case("koo-cnn-deep", "adam", open_=True, act="exponential"),
    case("koo-cnn-deep", "sgd", open_=True, lr=0.01),
    case("koo-cnn-shallow", "sgd"),
    case("koo-cnn-shallow", "adam", open_=True),
    case("koo-cnn-local", "sgd"),
    case("koo-cnn-dist", "sgd", act="exponential", lr=0.01),
    case("koo-cnn-dist", "sgd", open_=True, lr=0.01),
    case("demo-cnn-rnn", "sgd"),
    case("demo-cnn-rnn", "adam"),
    case("deepchrome", "sgd", "histone", epochs=4, batch=2, lr=1e-5),
    case("deepchrome", "adam", "histone", epochs=4, batch=2),
    case("attentivechrome", "sgd", "histone", epochs=4, batch=2),
    case("attentivechrome", "adam", "histone", epochs=4, batch=2),
]


@pytest.mark.parametrize("arch,optimizer,dataset,kw", CASES)
def test_training_matches_pytorch_step_for_step(tool, data, tmp_path, arch, optimizer, dataset, kw):
    loss_gaps, gaps, lr, k = compare(tool, tmp_path, data, arch, optimizer, dataset=dataset, **kw)
    check(loss_gaps, gaps, optimizer, lr, k)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_unbiased_running_variance_and_adam_epsilon_options_match_pytorch(tool, data, tmp_path, optimizer):
    # PyTorch's own BatchNorm convention and PyTorch's Adam epsilon, on the exponential activation.
    loss_gaps, gaps, lr, k = compare(tool, tmp_path, data, "koo-cnn-shallow", optimizer, act="exponential",
                                     extra=("--bn-running-variance", "unbiased", "--adam-epsilon", "1e-8"))
    check(loss_gaps, gaps, optimizer, lr, k)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("dataset", ["task1", "multiclass"])
def test_distillation_loss_matches_pytorch(tool, data, tmp_path, dataset, optimizer):
    # Sigmoid heads (multi-label task 1) and softmax heads (a 3-class relabelling), T = 4, alpha = 0.3
    # (exponential first layer: see the open discrepancy above).
    loss_gaps, gaps, lr, k = compare(tool, tmp_path, data, "koo-cnn-shallow", optimizer, dataset=dataset,
                                     distill=(4.0, 0.3), act="exponential")
    check(loss_gaps, gaps, optimizer, lr, k)


def test_a_different_start_is_detected(tool, data, tmp_path):
    # The comparison can fail: gkd with a BatchNorm momentum of 0.02 against PyTorch's 0.01.
    loss_gaps, gaps, lr, k = compare(tool, tmp_path, data, "koo-cnn-shallow", "sgd",
                                     extra=("--bn-momentum", "0.02"))
    with pytest.raises(AssertionError):
        check(loss_gaps, gaps, "sgd", lr, k)
