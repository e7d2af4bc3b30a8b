"""Largest |difference| between the `logits` of two gkd-predict NPZ files, standard library only
(the GPU checks run where the test venv may not be): prints it and exits 1 above a tolerance.

    python3 tests/support/logits_diff.py A.npz B.npz TOLERANCE LABEL
"""
import struct
import sys
import zipfile


def logits(path):
    with zipfile.ZipFile(path) as z:
        raw = z.read("logits.npy")
    header_len = struct.unpack("<H", raw[8:10])[0]
    data = raw[10 + header_len:]
    return struct.unpack(f"<{len(data) // 4}f", data)


a, b, tolerance, label = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
x, y = logits(a), logits(b)
diff = max((abs(p - q) for p, q in zip(x, y)), default=0.0)
print(f"{label}: max |diff| = {diff:.2e} over {len(x)} logits")
if len(x) != len(y) or not diff <= tolerance:
    sys.exit(f"{label}: logits differ by {diff} (tolerance {tolerance}) or in number ({len(x)} vs {len(y)})")
