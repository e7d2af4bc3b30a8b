"""PyTorch side of bench/scan.sh: a sliding-window loop over one FASTA sequence with the same
koo-cnn model and weights as gkd (tests/python/torch_models.py): windows of the model's length every
STRIDE bases, one-hot (N = 0), batches of 256, `eval()` + `inference_mode`. Prints `seconds windows`.

    python bench/scan_torch.py ARCH MODEL_DIR FASTA STRIDE CLASSES THREADS
"""
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, "tests/python")
from torch_models import ARCHS  # noqa: E402

arch, model_dir, fasta, stride, classes, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
net = ARCHS[arch](classes)
net.load_state_dict(load_file(f"{model_dir}/model.safetensors"), strict=True)
net.eval()
seq = "".join(line.strip() for line in open(fasta) if not line.startswith(">")).upper().encode()
codes = np.frombuffer(seq, dtype=np.uint8)
onehot = np.zeros((4, len(codes)), dtype=np.float32)
for c, base in enumerate(b"ACGT"):
    onehot[c, codes == base] = 1.0
length = 200
start = time.perf_counter()
x = torch.from_numpy(onehot)
starts = range(0, len(codes) - length + 1, stride)
with torch.inference_mode():
    batch = []
    for s in starts:
        batch.append(x[:, s:s + length])
        if len(batch) == 256:
            net(torch.stack(batch))
            batch = []
    if batch:
        net(torch.stack(batch))
print(f"{time.perf_counter() - start:.2f} {len(starts)}")
