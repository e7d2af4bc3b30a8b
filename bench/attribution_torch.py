"""PyTorch CPU side of bench/attribution.sh: tangermeme's saturation_mutagenesis (fast=False and
its own fastISM, fast=True) and Captum's IntegratedGradients (n_steps=50, trapezoid) on the
same architecture and weights as gkd. Prints `name seconds`."""
import sys
import time
import warnings

import numpy as np
import torch
from captum.attr import IntegratedGradients
from safetensors.torch import load_file

sys.path.insert(0, "tests/python")
from torch_models import ARCHS  # noqa: E402
from tangermeme.saturation_mutagenesis import saturation_mutagenesis  # noqa: E402

model_dir, data, n_ism, n_ig, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
x = np.load(data)["x"]
classes = np.load(data)["y"].shape[1]
net = ARCHS["koo-cnn-deep"](classes)
net.load_state_dict(load_file(f"{model_dir}/model.safetensors"), strict=True)
net.eval()
warnings.simplefilter("ignore")

for fast in (False, True):
    X = torch.from_numpy(x[:n_ism])
    t = time.perf_counter()
    saturation_mutagenesis(net, X, batch_size=256, target=0, hypothetical=True, device="cpu", fast=fast)
    print(f"tangermeme-ism-{'fast' if fast else 'naive'} {time.perf_counter() - t:.2f}", flush=True)

X = torch.from_numpy(x[:n_ig])
ig = IntegratedGradients(lambda inp: net(inp)[:, 0])
t = time.perf_counter()
for start in range(0, n_ig, 5):  # 5 rows x 51 path points = 255 inputs per pass, as gkd's batch 256
    ig.attribute(X[start:start + 5], baselines=torch.zeros_like(X[start:start + 5]), n_steps=51,
                 method="riemann_trapezoid", internal_batch_size=255)
print(f"captum-ig {time.perf_counter() - t:.2f}", flush=True)
