"""PyTorch CPU side of bench/engine.sh, on the same architectures and weights as gkd
(tests/python/torch_models.py): inference (`eval()`, `inference_mode`), input gradients (autograd),
tangermeme's saturation_mutagenesis (fast=False and its own fastISM, fast=True) and Captum's
IntegratedGradients (n_steps=50, trapezoid). Batches of 256 inputs everywhere, as gkd.
Prints `name seconds`.

    python bench/engine_torch.py DEEP_MODEL SHALLOW_MODEL DATA N_PREDICT N_SALIENCY N_ISM N_IG THREADS
"""
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

deep_dir, shallow_dir, data = sys.argv[1:4]
n_predict, n_saliency, n_ism, n_ig, threads = (int(a) for a in sys.argv[4:9])
torch.set_num_threads(threads)
x = np.load(data)["x"]
classes = np.load(data)["y"].shape[1]
BATCH = 256


def load(arch, model_dir):
    net = ARCHS[arch](classes)
    net.load_state_dict(load_file(f"{model_dir}/model.safetensors"), strict=True)
    return net.eval()


deep, shallow = load("koo-cnn-deep", deep_dir), load("koo-cnn-shallow", shallow_dir)
warnings.simplefilter("ignore")


def timed(name, run):
    start = time.perf_counter()
    run()
    print(f"{name} {time.perf_counter() - start:.2f}", flush=True)


def predict(net):
    X = torch.from_numpy(x[:n_predict])
    with torch.inference_mode():
        for s in range(0, len(X), BATCH):
            net(X[s:s + BATCH])


def saliency():
    X = torch.from_numpy(x[:n_saliency])
    for s in range(0, len(X), BATCH):
        xb = X[s:s + BATCH].clone().requires_grad_(True)
        deep(xb)[:, 0].sum().backward()


timed("torch-predict-deep", lambda: predict(deep))
timed("torch-predict-shallow", lambda: predict(shallow))
timed("torch-saliency", saliency)
for fast in (False, True):
    X = torch.from_numpy(x[:n_ism])
    timed(f"tangermeme-ism-{'fast' if fast else 'naive'}", lambda: saturation_mutagenesis(
        deep, X, batch_size=BATCH, target=0, hypothetical=True, device="cpu", fast=fast))
X = torch.from_numpy(x[:n_ig])
ig = IntegratedGradients(lambda inp: deep(inp)[:, 0])


def integrated_gradients():
    for start in range(0, n_ig, 5):  # 5 rows x 51 path points = 255 inputs per pass, as gkd's batch 256
        ig.attribute(X[start:start + 5], baselines=torch.zeros_like(X[start:start + 5]), n_steps=51,
                     method="riemann_trapezoid", internal_batch_size=255)


timed("captum-ig", integrated_gradients)
