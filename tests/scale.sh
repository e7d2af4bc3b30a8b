#!/usr/bin/env bash
# Opt-in scale check: N 1-kb windows (default 1,000,000) go through gkd-onehot
# (uint8) → gkd-predict → gkd-attribute (saliency) with every command's virtual memory capped by
# `ulimit -v` at CAP_GB GiB (default 4, a quarter of the 16 GB that x alone takes in float32), then
# the first SMALL rows (default 10,000) go through the same commands on their own, and the two
# runs must agree on those rows: the same predictions and the same maps.
#
#   bash tests/scale.sh                      # ~20 minutes on 2 cores, ~30 GB of disk under WORK
#   N=200000 CAP_GB=3 bash tests/scale.sh    # a quicker look
#
# Needs python3 with numpy (the tests' venv: tests/python/requirements.txt) and the release tools
# (GKD_BIN_DIR, default: the release build).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000000}
SMALL=${SMALL:-10000}
CAP_GB=${CAP_GB:-4}
WORK=${WORK:-/tmp/gkd-scale-test}
PYTHON=${PYTHON:-python3}
export GKD_BIN_DIR=${GKD_BIN_DIR:-${CARGO_TARGET_DIR:-$here/target}/release}
export WORK KEEP=1

echo "== $N windows with virtual memory capped at $CAP_GB GiB"
CAP_GB=$CAP_GB bash "$here/bench/scale.sh" "$N"

echo "== the first $SMALL windows on their own (no cap)"
cd "$WORK"
head -n "$SMALL" "w$N.bed" > small.bed
"$GKD_BIN_DIR/gkd-onehot" -q --fasta genome.fa --bed small.bed --dtype uint8 -o small.npz
"$GKD_BIN_DIR/gkd-predict" -q --model model --data small.npz --batch-size 256 -o small.p.tsv
"$GKD_BIN_DIR/gkd-attribute" -q --model model --data small.npz --method saliency --target 0 \
    --batch-size 256 -o small.s.npz

"$PYTHON" - "$N" "$SMALL" <<'EOF'
import sys, zipfile
import numpy as np
from numpy.lib import format as npy

n, small = int(sys.argv[1]), int(sys.argv[2])

def first_rows(path, member, rows):
    """The first `rows` rows of a stored .npz member, read without loading the whole array."""
    with zipfile.ZipFile(path) as z, z.open(member + ".npy") as f:
        version = npy.read_magic(f)
        read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        assert not fortran
        per_row = int(np.prod(shape[1:]))
        data = np.frombuffer(f.read(rows * per_row * dtype.itemsize), dtype=dtype)
        return shape, data.reshape((rows,) + tuple(shape[1:])).astype(np.float32)

def table(path, rows):
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        return header, [f.readline().rstrip("\n").split("\t") for _ in range(rows)]

# The dataset: x stored as uint8, the same one-hot in both runs.
shape, big_x = first_rows(f"w{n}.npz", "x", small)
assert shape == (n, 4, 1000), shape
_, small_x = first_rows("small.npz", "x", small)
assert np.array_equal(big_x, small_x) and set(np.unique(big_x)) <= {0.0, 1.0}

# Predictions: same ids, logits equal to float32 rounding.
(h1, big), (h2, mine) = table(f"p{n}.tsv", small), table("small.p.tsv", small)
assert h1 == h2
assert [r[0] for r in big] == [r[0] for r in mine]
logit = h1.index([c for c in h1 if c.startswith("logit")][0])
a = np.array([float(r[logit]) for r in big]); b = np.array([float(r[logit]) for r in mine])
print(f"predictions: max |difference| of {small} logits = {np.abs(a - b).max():.3g}")
assert np.allclose(a, b, rtol=1e-5, atol=1e-5)

# Saliency maps of the same rows.
shape, big_attr = first_rows(f"s{n}.npz", "attr", small)
assert shape == (n, 4, 1000), shape
_, small_attr = first_rows("small.s.npz", "attr", small)
diff = np.abs(big_attr - small_attr).max()
print(f"saliency: max |difference| over {small} maps = {diff:.3g} (largest |value| {np.abs(small_attr).max():.3g})")
assert np.allclose(big_attr, small_attr, rtol=1e-4, atol=1e-6)
print("scale check passed")
EOF
