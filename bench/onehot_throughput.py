#!/usr/bin/env python3
"""gkd-onehot throughput against numpy one-hot encoding of the same FASTA (BENCHMARKS.md).

Builds a FASTA of fixed-length windows cut (seeded) from the real sequences in test-data/,
then times, on one core:
  kernel  : the encoder alone, in memory (Rust example `onehot_kernel` vs numpy functions)
  end2end : FASTA file -> .npz file (gkd-onehot -t 1 vs Python read + numpy encode + np.savez)
Usage: python bench/onehot_throughput.py [--records N] [--length L] [--target-dir DIR]
Needs numpy (the tests' venv has it).
"""
import argparse
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ["fasta/dm3_chr2L_1-10050.fa", "fasta/pyfaidx_chr17.hg19.part.fa", "fasta/deeptools_phiX174.fasta", "fasta/pysam_ex1.fa"]


def read_fasta(path):
    names, seqs, cur = [], [], []
    with open(path) as fh:
        for line in fh:
            if line.startswith(">"):
                if cur:
                    seqs.append("".join(cur))
                names.append(line[1:].split()[0])
                cur = []
            elif not line.startswith("#"):
                cur.append(line.strip())
    if cur:
        seqs.append("".join(cur))
    return names, seqs


# --- the numpy ways of one-hot encoding ----------------------------------------------------
LUT = np.full(256, 4, dtype=np.int8)
for i, b in enumerate(b"ACGT"):
    LUT[b] = i
    LUT[b + 32] = i
EYE = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), np.float32)])


def numpy_lookup(seqs):
    """Byte lookup table + identity indexing (the fastest common numpy idiom); (N, 4, L)."""
    idx = LUT[np.frombuffer("".join(seqs).encode(), dtype=np.uint8)].reshape(len(seqs), -1)
    return np.ascontiguousarray(EYE[idx].transpose(0, 2, 1))


ALPHABET = np.frombuffer(b"ACGT", dtype=np.uint8)


def numpy_compare(seqs):
    """Broadcast comparison against A, C, G, T (tangermeme/selene style); (N, 4, L)."""
    arr = np.frombuffer("".join(seqs).upper().encode(), dtype=np.uint8).reshape(len(seqs), -1)
    return (arr[:, None, :] == ALPHABET[None, :, None]).astype(np.float32)


def numpy_per_sequence(seqs):
    """One sequence at a time, then stacked: how tangermeme's one_hot_encode is used in a loop."""
    out = []
    for seq in seqs:
        idx = LUT[np.frombuffer(seq.encode(), dtype=np.uint8)]
        known = np.nonzero(idx < 4)[0]
        oh = np.zeros((4, len(seq)), dtype=np.float32)
        oh[idx[known], known] = 1.0
        out.append(oh)
    return np.stack(out)


def best_of(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    a = ap.parse_args()
    bindir = pathlib.Path(a.target_dir) / "release"
    pool = "".join(s for src in SOURCES for s in read_fasta(ROOT / "test-data" / src)[1])
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        fa = tmp / "bench.fa"
        with open(fa, "w") as fh:
            for i in range(a.records):
                s = rng.randrange(0, len(pool) - a.length)
                seq = pool[s:s + a.length]
                fh.write(f">r{i}\n")
                for j in range(0, a.length, 60):
                    fh.write(seq[j:j + 60] + "\n")
        mb = a.records * a.length / 1e6
        _, seqs = read_fasta(fa)
        rows = []
        # kernels
        out = subprocess.run([bindir / "examples" / "onehot_kernel", fa, "1", str(a.repeats + 2)], capture_output=True, text=True, check=True)
        rust_kernel, rust_warm = map(float, out.stdout.split()[1:3])
        rows.append(("kernel", "gkd, 1 thread, fresh tensor (as the tool runs)", rust_kernel))
        rows.append(("kernel", "gkd, 1 thread, reused tensor (encoder alone)", rust_warm))
        ref = numpy_lookup(seqs)
        assert np.array_equal(ref, numpy_compare(seqs))
        rows.append(("kernel", "numpy lookup table", best_of(lambda: numpy_lookup(seqs), a.repeats)))
        rows.append(("kernel", "numpy broadcast compare", best_of(lambda: numpy_compare(seqs), a.repeats)))
        assert np.array_equal(ref, numpy_per_sequence(seqs))
        rows.append(("kernel", "numpy per sequence + stack (tangermeme-style loop)", best_of(lambda: numpy_per_sequence(seqs), a.repeats)))
        # end to end
        def gkd():
            subprocess.run([bindir / "gkd-onehot", "-t", "1", "-q", "--fasta", fa, "-o", tmp / "gkd.npz"], check=True)

        def numpy_e2e():
            _, s = read_fasta(fa)
            np.savez(tmp / "np.npz", x=numpy_lookup(s))

        rows.append(("end-to-end", "gkd-onehot -t 1 (FASTA → .npz + rows + manifest)", best_of(gkd, a.repeats)))
        rows.append(("end-to-end", "Python read + numpy lookup + np.savez", best_of(numpy_e2e, a.repeats)))
        with np.load(tmp / "gkd.npz") as d:
            assert np.array_equal(d["x"], ref), "gkd-onehot output differs from numpy"
    print(f"FASTA: {a.records} records x {a.length} bp = {mb:.0f} MB of sequence; numpy {np.__version__}; best of {a.repeats}")
    print(f"| stage | implementation | seconds | MB/s | gkd speed-up |")
    print(f"|---|---|---|---|---|")
    base = {"kernel": rust_kernel, "end-to-end": next(r[2] for r in rows if r[1].startswith("gkd-onehot"))}
    for stage, name, s in rows:
        print(f"| {stage} | {name} | {s:.3f} | {mb / s:,.0f} | {s / base[stage]:.1f}x |")


if __name__ == "__main__":
    sys.exit(main())
