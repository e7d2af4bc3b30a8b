"""Training samples/s of a gkd architecture written in PyTorch (tests/python/torch_models.py) on
random one-hot DNA, the same workload as tools/lib/gkd-nn/examples/train_throughput.rs.
Usage: python train_throughput_torch.py ARCH [BATCH] [STEPS] [WARMUP] [THREADS]
TORCH_DEVICE=cuda runs it on the GPU (synchronised before the clock is read)."""
import os
import pathlib
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "python"))
from torch_models import ARCHS  # noqa: E402

arch = sys.argv[1] if len(sys.argv) > 1 else "koo-cnn-deep"
batch, steps, warmup, threads = (int(v) for v in (sys.argv[2:6] + ["100", "50", "5", "2"][len(sys.argv[2:6]):]))
torch.set_num_threads(threads)
torch.manual_seed(1)
device = torch.device(os.environ.get("TORCH_DEVICE", "cpu"))
net = ARCHS[arch](12).to(device)
net.train()
opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-5)
x = torch.nn.functional.one_hot(torch.randint(0, 4, (batch, 200)), 4).float().transpose(1, 2).contiguous().to(device)
y = torch.randint(0, 2, (batch, 12)).float().to(device)
loss_fn = torch.nn.BCEWithLogitsLoss()
for step in range(warmup + steps):
    if step == warmup:
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
    opt.zero_grad()
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()
    loss.item()
if device.type == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - start
print(f"{arch} {batch} {steps * batch / seconds:.1f} params={sum(p.numel() for p in net.parameters())}")
