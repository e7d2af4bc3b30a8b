"""gkd models against the same architectures written in PyTorch (tests/python/torch_models.py):
parameter counts for every architecture, and trained weights that load with
load_state_dict(strict=True) and give the same logits as gkd-predict."""
import re

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from torch_models import ARCHS


def describe_total(tool, tmp_path, arch, *extra):
    out = tool("gkd-train", "--arch", arch, "--describe", *extra, cwd=tmp_path).stdout
    return int(re.search(r"total parameters: (\d+)", out).group(1))


@pytest.mark.parametrize("arch", sorted(ARCHS))
@pytest.mark.parametrize("classes", [1, 12])
def test_parameter_count_equals_pytorch(tool, tmp_path, arch, classes):
    expected = sum(p.numel() for p in ARCHS[arch](classes).parameters())
    assert describe_total(tool, tmp_path, arch, "--classes", classes) == expected


def test_parameter_count_other_shapes(tool, tmp_path):
    # Longer inputs change the flattened width; more marks add bin encoders.
    for arch, kwargs, flags in [
        ("koo-cnn-deep", {"length": 1000}, ["--length", "1000"]),
        ("koo-cnn-shallow", {"length": 600}, ["--length", "600"]),
        ("deepchrome", {"marks": 7, "bins": 80}, ["--channels", "7", "--length", "80"]),
        ("attentivechrome", {"marks": 7}, ["--channels", "7"]),
    ]:
        expected = sum(p.numel() for p in ARCHS[arch](3, **kwargs).parameters())
        assert describe_total(tool, tmp_path, arch, "--classes", 3, *flags) == expected, arch


def synth_task1(tool, data, tmp_path, rows):
    tool("gkd-synth", "task1", "--motifs", data("motifs/koo_eddy_12tf_jaspar2016.jaspar"),
         "--n", rows, "--seed", 3, "-o", "task1.{split}.npz", cwd=tmp_path)


def torch_logits(model_dir, arch, classes, x, **kwargs):
    net = ARCHS[arch](classes, **kwargs)
    result = net.load_state_dict(load_file(str(model_dir / "model.safetensors")), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("arch,act", [("koo-cnn-deep", "relu"), ("koo-cnn-deep", "exponential"),
                                      ("koo-cnn-shallow", "relu"), ("demo-cnn-rnn", "relu")])
def test_trained_weights_give_pytorch_the_same_logits(tool, data, tmp_path, arch, act):
    synth_task1(tool, data, tmp_path, 700)
    tool("gkd-train", "--arch", arch, "--first-activation", act, "--train", "task1.train.npz",
         "--valid", "task1.valid.npz", "--epochs", 2, "--batch-size", 50, "--seed", 1, "-o", "model", cwd=tmp_path)
    tool("gkd-predict", "--model", "model", "--data", "task1.test.npz", "-o", "pred.npz", cwd=tmp_path)
    x = np.load(tmp_path / "task1.test.npz")["x"]
    ours = np.load(tmp_path / "pred.npz")["logits"]
    theirs = torch_logits(tmp_path / "model", arch, 12, x, **({"act": act} if arch.startswith("koo") else {}))
    assert ours.shape == theirs.shape == (x.shape[0], 12)
    assert np.abs(ours - theirs).max() <= 1e-4
    # The weights did train: the BatchNorm running statistics moved away from their start.
    state = load_file(str(tmp_path / "model" / "model.safetensors"))
    running = [v for k, v in state.items() if k.endswith("running_var")]
    assert all(not torch.allclose(v, torch.ones_like(v)) for v in running)


def test_attentivechrome_weights_and_logits_match_pytorch(tool, tmp_path, data):
    # Real DeepChrome toy data (AttentiveChrome's own repository) through gkd-histone.
    toy = data("deepchrome_toy")
    for split in ("train", "valid", "test"):
        tool("gkd-histone", "--from-deepchrome", toy / f"{split}.csv", "-o", f"h.{split}.npz", cwd=tmp_path)
    tool("gkd-train", "--arch", "attentivechrome", "--train", "h.train.npz", "--valid", "h.valid.npz",
         "--epochs", 1, "--batch-size", 50, "-o", "model", cwd=tmp_path)
    tool("gkd-predict", "--model", "model", "--data", "h.test.npz", "-o", "pred.npz", cwd=tmp_path)
    x = np.load(tmp_path / "h.test.npz")["x"]
    ours = np.load(tmp_path / "pred.npz")["logits"]
    theirs = torch_logits(tmp_path / "model", "attentivechrome", 1, x, marks=x.shape[1])
    assert np.abs(ours - theirs).max() <= 1e-4
