"""PyTorch and tangermeme side of bench/variants.sh: the SNVs of a VCF scored with the same
koo-cnn model and weights as gkd (tests/python/torch_models.py), reference window = the model's
length with REF's base at length // 2 (gkd-variant's and tangermeme's convention), alternative =
the same window with ALT there; batches of 256, `eval()` + `inference_mode`; alt − ref logits of
every class kept in memory.

- `torch`: the whole loop from the parsed VCF records and the FASTA string in memory: windows cut
  and one-hot encoded per batch, reference and alternative through the model.
- `tangermeme`: tangermeme.variant_effect.substitution_effect on reference windows already
  one-hot encoded (its input; building them is not timed).

Prints `seconds variants` for the mode.

    python bench/variants_torch.py MODE ARCH MODEL_DIR FASTA VCF CLASSES THREADS
"""
import gzip
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, "tests/python")
from torch_models import ARCHS  # noqa: E402

mode, arch, model_dir, fasta, vcf, classes, threads = sys.argv[1:8]
torch.set_num_threads(int(threads))
net = ARCHS[arch](int(classes))
net.load_state_dict(load_file(f"{model_dir}/model.safetensors"), strict=True)
net.eval()
opener = gzip.open if fasta.endswith(".gz") else open
seq = "".join(line.strip() for line in opener(fasta, "rt") if not line.startswith(">")).upper().encode()
codes = np.frombuffer(seq, dtype=np.uint8)
records = [(int(c[1]), c[4].encode()) for c in (l.split("\t") for l in open(vcf) if not l.startswith("#"))]
L, centre = 200, 100
lookup = np.full(256, 4, dtype=np.int64)
for i, b in enumerate(b"ACGT"):
    lookup[b] = i
eye = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])


def onehot(windows):
    """(n, L) base codes -> (n, 4, L) one-hot, N = 0."""
    return torch.from_numpy(eye[lookup[windows]].transpose(0, 2, 1).copy())


offsets = np.arange(L)
if mode == "torch":
    start = time.perf_counter()
    out = []
    with torch.inference_mode():
        for b in range(0, len(records), 256):
            batch = records[b:b + 256]
            idx = np.array([p - 1 - centre for p, _ in batch])[:, None] + offsets
            ref = codes[np.clip(idx, 0, len(codes) - 1)].copy()
            ref[(idx < 0) | (idx >= len(codes))] = ord("N")
            alt = ref.copy()
            alt[:, centre] = [a[0] for _, a in batch]
            out.append((net(onehot(alt)) - net(onehot(ref))).numpy())
    elapsed = time.perf_counter() - start
else:
    from tangermeme.variant_effect import substitution_effect

    idx = np.array([p - 1 - centre for p, _ in records])[:, None] + offsets
    X = onehot(codes[idx])
    subs = np.array([[i, centre, "ACGT".index(chr(a[0]))] for i, (_, a) in enumerate(records)])
    start = time.perf_counter()
    result = substitution_effect(net, X, subs, batch_size=256, device="cpu", verbose=False)
    diff = (result.y_after - result.y_before).numpy()
    elapsed = time.perf_counter() - start
print(f"{elapsed:.2f} {len(records)}")
