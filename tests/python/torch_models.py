"""The gkd architectures written independently in PyTorch (docs/science.md §2), with the module names
that gkd's model.safetensors uses, so `load_state_dict(strict=True)` is the interoperability test
and `sum(p.numel())` an independent parameter count."""
import torch
from torch import nn


KERAS_NORM = dict(eps=1e-3, momentum=0.01, unbiased=False)  # the Koo CNNs' BatchNorm (gkd's default)


class BatchNorm(nn.BatchNorm1d):
    """BatchNorm1d whose running variance takes the biased batch variance when unbiased=False
    (Keras's convention; PyTorch's own BatchNorm1d always takes the unbiased one)."""

    def __init__(self, n, eps=1e-3, momentum=0.01, unbiased=False):
        super().__init__(n, eps=eps, momentum=momentum)
        self.unbiased = unbiased

    def forward(self, x):
        if not self.training or self.unbiased:
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))
        mean, var = x.mean(dims), x.var(dims, unbiased=False)
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
            self.num_batches_tracked += 1
        shape = [1, -1] + [1] * (x.dim() - 2)
        return (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps) * self.weight.view(shape) + self.bias.view(shape)


class ConvBlock(nn.Module):
    """conv -> (BatchNorm) -> activation -> dropout -> (max-pool), or pool before dropout."""

    def __init__(self, cin, filters, kernel, same=True, bn=True, act="relu", pool=1, dropout=0.0,
                 dropout_after_pool=False, norm=KERAS_NORM):
        super().__init__()
        self.conv = nn.Conv1d(cin, filters, kernel, padding="same" if same else 0, bias=not bn)
        self.norm = BatchNorm(filters, **norm) if bn else None
        self.pool = nn.MaxPool1d(pool) if pool > 1 else None
        self.dropout = nn.Dropout(dropout)
        self.dropout_after_pool = dropout_after_pool
        self.act = act

    def forward(self, x):
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        x = torch.exp(x) if self.act == "exponential" else torch.relu(x)
        pool = self.pool if self.pool is not None else (lambda v: v)
        return pool(self.dropout(x)) if not self.dropout_after_pool else self.dropout(pool(x))


class DenseBlock(nn.Module):
    def __init__(self, cin, units, bn=True, dropout=0.0, norm=KERAS_NORM):
        super().__init__()
        self.linear = nn.Linear(cin, units, bias=not bn)
        self.norm = BatchNorm(units, **norm) if bn else None
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = self.linear(x)
        if self.norm is not None:
            x = self.norm(x)
        return self.dropout(torch.relu(x))


class ConvNet(nn.Module):
    def __init__(self, blocks, flat, dense, classes, global_max=False, reduce_dropout=0.0):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.reduce_dropout = nn.Dropout(reduce_dropout)
        self.dense = nn.ModuleList(dense)
        last = dense[-1].linear.out_features if dense else flat
        self.output = nn.Linear(last, classes)
        self.global_max = global_max

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        x = x.amax(dim=2) if self.global_max else x.flatten(1)
        x = self.reduce_dropout(x)
        for d in self.dense:
            x = d(x)
        return self.output(x)

    def kernels(self):
        """The weights gkd's --kernel-l2 penalises: convolutions and hidden dense layers."""
        return [b.conv.weight for b in self.blocks] + [d.linear.weight for d in self.dense]


def _d(p, dropout):
    return p if dropout else 0.0


def koo_cnn_deep(classes, act="relu", length=200, norm=KERAS_NORM, dropout=True):
    # 200 -> conv same 200 -> pool4 50 -> valid k7 44 -> pool4 11 -> valid k3 9 -> pool3 3
    l = ((length // 4 - 6) // 4 - 2) // 3
    c = dict(norm=norm)
    return ConvNet(
        [ConvBlock(4, 32, 19, act=act, dropout=_d(0.1, dropout), **c),
         ConvBlock(32, 48, 7, pool=4, dropout=_d(0.2, dropout), **c),
         ConvBlock(48, 96, 7, same=False, pool=4, dropout=_d(0.3, dropout), **c),
         ConvBlock(96, 128, 3, same=False, pool=3, dropout=_d(0.4, dropout), **c)],
        128 * l, [DenseBlock(128 * l, 512, dropout=_d(0.5, dropout), **c)], classes)


def koo_cnn_shallow(classes, act="relu", length=200, norm=KERAS_NORM, dropout=True):
    l = length // 50 // 2
    c = dict(norm=norm)
    return ConvNet([ConvBlock(4, 32, 19, act=act, pool=50, dropout=_d(0.1, dropout), **c),
                    ConvBlock(32, 124, 5, pool=2, dropout=_d(0.1, dropout), **c)],
                   124 * l, [DenseBlock(124 * l, 512, dropout=_d(0.5, dropout), **c)], classes)


def koo_cnn_local(classes, act="relu", length=200, norm=KERAS_NORM, dropout=True):
    l = length // 50 // 2
    c = dict(norm=norm)
    return ConvNet([ConvBlock(4, 24, 19, act=act, pool=50, dropout=_d(0.1, dropout), **c),
                    ConvBlock(24, 48, 3, pool=2, dropout=_d(0.2, dropout), **c)],
                   48 * l, [DenseBlock(48 * l, 96, dropout=_d(0.5, dropout), **c)], classes)


def koo_cnn_dist(classes, act="relu", length=200, norm=KERAS_NORM, dropout=True):
    # 200 -> pool4 50 -> valid k7 44 -> pool4 11 -> valid k3 9 -> pool3 3
    l = ((length // 4 - 6) // 4 - 2) // 3
    c = dict(norm=norm)
    return ConvNet(
        [ConvBlock(4, 24, 19, act=act, dropout=_d(0.1, dropout), **c),
         ConvBlock(24, 32, 7, pool=4, dropout=_d(0.2, dropout), **c),
         ConvBlock(32, 48, 7, same=False, pool=4, dropout=_d(0.3, dropout), **c),
         ConvBlock(48, 64, 3, same=False, pool=3, dropout=_d(0.4, dropout), **c)],
        64 * l, [DenseBlock(64 * l, 96, dropout=_d(0.5, dropout), **c)], classes)


def demo_cnn(classes, act="relu", length=200, dropout=True, **_):
    return ConvNet([ConvBlock(4, 128, 9, bn=False, act=act, pool=2), ConvBlock(128, 128, 5, bn=False, pool=2),
                    ConvBlock(128, 128, 3, bn=False)], 128, [], classes, global_max=True,
                   reduce_dropout=_d(0.5, dropout))


class RecurrentNet(nn.Module):
    def __init__(self, blocks, cin, classes, hidden=32):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.lstm = nn.LSTM(cin, hidden, batch_first=True, bidirectional=True)
        self.output = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        states, _ = self.lstm(x.transpose(1, 2))
        return self.output(states.mean(dim=1))

    def kernels(self):
        return [b.conv.weight for b in self.blocks]


def demo_rnn(classes, **_):
    return RecurrentNet([], 4, classes)


def demo_cnn_rnn(classes, **_):
    return RecurrentNet([ConvBlock(4, 128, 9, bn=False)], 128, classes)


def deepchrome(classes, marks=5, bins=100, dropout=True, **_):
    l = (bins - 9) // 5
    return ConvNet([ConvBlock(marks, 50, 10, same=False, bn=False, pool=5, dropout=_d(0.5, dropout),
                              dropout_after_pool=True)], 50 * l,
                   [DenseBlock(50 * l, 625, bn=False), DenseBlock(625, 125, bn=False)], classes)


class AttentionPool(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.context = nn.Parameter(torch.empty(dim, 1).uniform_(-0.1, 0.1))

    def forward(self, states):
        alpha = torch.softmax((states @ self.context).squeeze(2), dim=1)
        return (states * alpha.unsqueeze(2)).sum(dim=1), alpha


class AttentiveEncoder(nn.Module):
    def __init__(self, cin, hidden):
        super().__init__()
        self.lstm = nn.LSTM(cin, hidden, batch_first=True, bidirectional=True)
        self.attention = AttentionPool(2 * hidden)

    def forward(self, x):
        states, _ = self.lstm(x)
        return self.attention(states)


class AttentiveChrome(nn.Module):
    def __init__(self, classes, marks=5, **_):
        super().__init__()
        self.bin_encoders = nn.ModuleList([AttentiveEncoder(1, 32) for _ in range(marks)])
        self.mark_encoder = AttentiveEncoder(64, 16)
        self.output = nn.Linear(32, classes)

    def kernels(self):
        return []

    def forward(self, x):
        summaries, alphas = zip(*[enc(x[:, m, :].unsqueeze(2)) for m, enc in enumerate(self.bin_encoders)])
        pooled, beta = self.mark_encoder(torch.stack(summaries, dim=1))
        return self.output(pooled)


ARCHS = {
    "koo-cnn-deep": koo_cnn_deep,
    "koo-cnn-shallow": koo_cnn_shallow,
    "koo-cnn-local": koo_cnn_local,
    "koo-cnn-dist": koo_cnn_dist,
    "demo-cnn": demo_cnn,
    "demo-rnn": demo_rnn,
    "demo-cnn-rnn": demo_cnn_rnn,
    "deepchrome": deepchrome,
    "attentivechrome": AttentiveChrome,
}
