#!/usr/bin/env bash
# gkd-histone against deepTools computeMatrix reference-point and a pyBigWig stats loop
# (BENCHMARKS.md). 5 marks × 6,261 regions, ±5 kb, 100-bp bins, one thread each.
#   BENCH_VENV: a venv with deeptools, pyBigWig and numpy (pip install deeptools pyBigWig numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
PY="${BENCH_VENV:-$HOME/.cache/gkd/bench-venv}/bin"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
# Regions: every exon and CDS of the real dm3 FlyBase annotation (chr2L 0–5 Mb), strand kept.
zcat test-data/annotation/pybedtools_dm3-chr2L-5M.gff.gz \
  | awk -F'\t' 'BEGIN{OFS="\t"} $3=="exon"||$3=="CDS" {n++; print $1,$4-1,$5,$3"_"n,0,$7}' > "$W/regions.bed"
BW=test-data/bigwig/metaseq_x_dm3_chr2L_rnaseq.bigwig
MARKS=(); S=()
for m in H3K27me3 H3K36me3 H3K4me1 H3K4me3 H3K9me3; do ln -s "$PWD/$BW" "$W/$m.bw"; MARKS+=(--mark "$m=$W/$m.bw"); S+=("$W/$m.bw"); done
echo "regions: $(wc -l < "$W/regions.bed"), marks: 5 (the real dm3 RNA-seq bigWig under five names)"

t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
best() { local b=999999 x; for _ in 1 2 3; do x=$(t "$@"); b=$(echo "if ($x < $b) $x else $b" | bc); done; echo "$b"; }

G=$(best "$BIN/gkd-histone" -t 1 -q --genes "$W/regions.bed" "${MARKS[@]}" --missing zero -o "$W/g.npz")
C=$(best "$PY/computeMatrix" reference-point -S "${S[@]}" -R "$W/regions.bed" --referencePoint TSS \
      -a 5000 -b 5000 -bs 100 -p 1 --missingDataAsZero -o "$W/cm.gz")
cat > "$W/loop.py" <<'PY'
import sys, numpy as np, pyBigWig
bed, out, *bws = sys.argv[1:]
rows = [l.split("\t") for l in open(bed)]
res = np.zeros((len(rows), len(bws), 100), np.float32)
for j, path in enumerate(bws):
    bw = pyBigWig.open(path); size = bw.chroms()
    for i, f in enumerate(rows):
        s, e, strand = int(f[1]), int(f[2]), f[5].strip()
        a = (e if strand == "-" else s) - 5000
        v = np.full(10000, np.nan)
        lo, hi = max(a, 0), min(a + 10000, size[f[0]])
        if hi > lo:
            v[lo - a:hi - a] = bw.values(f[0], lo, hi)
        m = np.nan_to_num(v).reshape(100, 100).mean(axis=1)  # missing data as zero
        res[i, j] = m[::-1] if strand == "-" else m
np.save(out, np.nan_to_num(res))
PY
P=$(best "$PY/python" "$W/loop.py" "$W/regions.bed" "$W/loop.npy" "${S[@]}")
# All three must agree before their times mean anything.
"$PY/python" - "$W" <<'PY'
import sys, gzip, numpy as np
w = sys.argv[1]
g = np.load(f"{w}/g.npz")["x"]
lines = gzip.open(f"{w}/cm.gz", "rt").read().splitlines()[1:]
cm = np.array([[float(v) for v in l.split("\t")[6:]] for l in lines]).reshape(len(lines), 5, 100)
loop = np.load(f"{w}/loop.npy")
for name, other in [("computeMatrix", cm), ("pyBigWig loop", loop)]:
    diff = np.abs(g - other)
    print(f"max |gkd - {name}| = {diff.max():.3g} over {g.size} bins; bins differing by > 1e-3: {(diff > 1e-3).sum()}")
PY
printf '| tool (1 thread) | seconds (best of 3) | gkd speed-up |\n|---|---|---|\n'
printf '| gkd-histone | %.3f | 1.0x |\n' "$G"
printf '| deepTools computeMatrix reference-point | %.3f | %.1fx |\n' "$C" "$(echo "$C / $G" | bc -l)"
printf '| pyBigWig values loop (numpy bins) | %.3f | %.1fx |\n' "$P" "$(echo "$P / $G" | bc -l)"
