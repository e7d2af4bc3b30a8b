"""A whole training run of a gkd architecture written independently in PyTorch
(tests/python/torch_models.py), with gkd-train's recipe or any one factor of it changed: the
reference for RESULTS.md's learning curves ("Why does the scratch student learn slowly?").

The recipe mirrors gkd-train's defaults for the Koo CNNs: Adam (lr 1e-3, β 0.9/0.999, ε 1e-7),
BCE on logits + 1e-6·Σw² over convolution and hidden dense kernels, batches of 100 reshuffled each
epoch, validation macro AUPR watched by a plateau rule (×0.2 after 5 epochs, lr ≥ 1e-7) and early
stopping (patience 20) that keeps the best epoch's weights. Keras initialisation (he_normal
kernels truncated at 2 sd, glorot_uniform output, zero biases) and Keras BatchNorm (ε 1e-3,
momentum 0.01 in PyTorch's convention, biased running variance) unless told otherwise.

Usage:
  python whole_run_torch.py --data PREFIX --out HISTORY.tsv [--arch koo-cnn-shallow]
      [--init keras|torch] [--dropout-placement before-pool|after-pool] [--bn-momentum M]
      [--bn-epsilon E] [--bn-unbiased] [--kernel-l2 L] [--adam-epsilon E] [--patience P]
      [--plateau-patience P] [--epochs N] [--seed S] [--threads T]
PREFIX names gkd datasets PREFIX.train.npz, PREFIX.valid.npz and PREFIX.test.npz. The history has
one row per epoch (epoch, lr, train_loss, valid_loss, valid_auroc, valid_aupr); the last line of
stdout gives the kept epoch and its test macro AUROC / AUPR (scikit-learn)."""
import argparse
import math
import pathlib
import sys

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "python"))
from torch_models import ARCHS  # noqa: E402


def keras_init(net):
    """Keras's initialisers as the Koo lab's layers use them: he_normal (truncated normal, sd
    √(2/fan_in) corrected for the truncation) for hidden kernels, glorot_uniform for the output
    layer, zero biases."""
    truncated_sd = 0.87962566103423978
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (torch.nn.Conv1d, torch.nn.Linear)):
                w = module.weight
                fan_in = w[0].numel()
                fan_out = w.shape[0] * (w[0, 0].numel() if w.dim() == 3 else 1)
                if module is net.output:
                    bound = math.sqrt(6.0 / (fan_in + fan_out))
                    w.uniform_(-bound, bound)
                else:
                    torch.nn.init.trunc_normal_(w, 0.0, 1.0, -2.0, 2.0)
                    w.mul_(math.sqrt(2.0 / fan_in) / truncated_sd)
                if module.bias is not None:
                    module.bias.zero_()


def macro(scores, labels):
    cols = [k for k in range(labels.shape[1]) if 0 < labels[:, k].sum() < len(labels)]
    auroc = np.mean([roc_auc_score(labels[:, k], scores[:, k]) for k in cols])
    aupr = np.mean([average_precision_score(labels[:, k], scores[:, k]) for k in cols])
    return float(auroc), float(aupr)


def evaluate(net, x, y, batch=1000):
    net.eval()
    with torch.no_grad():
        logits = torch.cat([net(x[i:i + batch]) for i in range(0, len(x), batch)])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y).item()
    return loss, *macro(logits.numpy(), y.numpy())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--arch", default="koo-cnn-shallow")
    p.add_argument("--init", choices=["keras", "torch"], default="keras")
    p.add_argument("--dropout-placement", choices=["before-pool", "after-pool"], default="before-pool")
    p.add_argument("--bn-momentum", type=float, default=0.01)
    p.add_argument("--bn-epsilon", type=float, default=1e-3)
    p.add_argument("--bn-unbiased", action="store_true")
    p.add_argument("--kernel-l2", type=float, default=1e-6)
    p.add_argument("--adam-epsilon", type=float, default=1e-7)
    p.add_argument("--patience", type=int, default=20)
    p.add_argument("--plateau-patience", type=int, default=5)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    split = {s: np.load(f"{a.data}.{s}.npz") for s in ("train", "valid", "test")}
    x, y = (torch.from_numpy(split["train"][k]) for k in ("x", "y"))
    xv, yv = (torch.from_numpy(split["valid"][k]) for k in ("x", "y"))
    xt, yt = (torch.from_numpy(split["test"][k]) for k in ("x", "y"))
    norm = dict(eps=a.bn_epsilon, momentum=a.bn_momentum, unbiased=a.bn_unbiased)
    net = ARCHS[a.arch](y.shape[1], act="relu", length=x.shape[2], norm=norm, dropout=True)
    if a.init == "keras":
        keras_init(net)
    for block in net.blocks:
        block.dropout_after_pool = a.dropout_placement == "after-pool" and block.pool is not None
    lr = 1e-3
    opt = torch.optim.Adam(net.parameters(), lr=lr, eps=a.adam_epsilon)
    best, best_epoch, best_state, since_best, since_plateau = -1.0, 0, None, 0, 0
    rows = ["epoch\tlr\ttrain_loss\tvalid_loss\tvalid_auroc\tvalid_aupr"]
    for epoch in range(1, a.epochs + 1):
        net.train()
        order = torch.randperm(len(x))
        total, seen = 0.0, 0
        for start in range(0, len(x), a.batch_size):
            batch = order[start:start + a.batch_size]
            opt.zero_grad()
            hard = torch.nn.functional.binary_cross_entropy_with_logits(net(x[batch]), y[batch])
            loss = hard + a.kernel_l2 * sum((w ** 2).sum() for w in net.kernels())
            loss.backward()
            opt.step()
            total, seen = total + hard.item() * len(batch), seen + len(batch)
        valid_loss, auroc, aupr = evaluate(net, xv, yv)
        rows.append(f"{epoch}\t{lr:g}\t{total / seen:.6f}\t{valid_loss:.6f}\t{auroc:.6f}\t{aupr:.6f}")
        print(rows[-1], file=sys.stderr)
        if aupr > best:
            best, best_epoch, since_best, since_plateau = aupr, epoch, 0, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            since_best, since_plateau = since_best + 1, since_plateau + 1
            if a.plateau_patience and since_plateau >= a.plateau_patience:
                lr = max(lr * 0.2, 1e-7)
                for group in opt.param_groups:
                    group["lr"] = lr
                since_plateau = 0
            if a.patience and since_best >= a.patience:
                break
    pathlib.Path(a.out).write_text("\n".join(rows) + "\n")
    net.load_state_dict(best_state)
    _, test_auroc, test_aupr = evaluate(net, xt, yt)
    print(f"kept epoch {best_epoch} of {epoch}: test AUROC {test_auroc:.4f} AUPR {test_aupr:.4f}")


if __name__ == "__main__":
    main()
