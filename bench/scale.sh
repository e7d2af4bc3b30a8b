#!/usr/bin/env bash
# Peak memory (RSS) and time against the number of windows N for gkd-onehot, gkd-predict and
# gkd-attribute (saliency), on N 1-kb windows tiled over a generated 10-Mb genome.
#
#   bash bench/scale.sh [N ...]            # default: 10000 100000 1000000
#
# Tools come from GKD_BIN_DIR (default: the release build); files go under WORK (default
# /tmp/gkd-scale; the 1M run needs about 40 GB of disk: x in uint8 is 4 GB, the attribution
# NPZ 16 GB of maps + 4 GB of inputs). Prints one table row per tool and N (markdown), and the
# float32 size of x for comparison. With CAP_GB set, every command runs under `ulimit -v`
# (virtual memory, in GiB) — see tests/scale.sh for the capped check.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${GKD_BIN_DIR:-${CARGO_TARGET_DIR:-$here/target}/release}
WORK=${WORK:-/tmp/gkd-scale}
BATCH=${BATCH:-256}
THREADS=${THREADS:-2}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
mkdir -p "$WORK"
cd "$WORK"

# A 10-Mb genome of uniform random bases (seeded), one chromosome, 60 columns, indexed.
if [ ! -s genome.fa.fai ]; then
    python3 - <<'EOF'
import random
random.seed(14)
with open("genome.fa", "w") as f:
    f.write(">chrS\n")
    for _ in range(10_000_000 // 60 + 1):
        f.write("".join(random.choices("ACGT", k=60)) + "\n")
EOF
    python3 - <<'EOF'
# samtools faidx layout: name, length, offset of the first base, bases per line, bytes per line.
size = sum(len(l) - 1 for l in open("genome.fa") if not l.startswith(">"))
open("genome.fa.fai", "w").write(f"chrS\t{size}\t6\t60\t61\n")
EOF
fi

# A model reading 1-kb windows: koo-cnn-local trained one epoch on 2,000 labelled windows.
if [ ! -s model/model.safetensors ]; then
    awk 'BEGIN{OFS="\t"; srand(3); for(i=0;i<2000;i++){s=i*4000; print "chrS",s,s+1000,"w"i,0,"+",(rand()<0.5)?1:0}}' > train.bed
    "$BIN/gkd-onehot" -q --fasta genome.fa --bed train.bed --label-columns 7 --dtype uint8 \
        --split train=0.8,valid=0.2 -o train.{split}.npz
    "$BIN/gkd-train" -q --arch koo-cnn-local --train train.train.npz --valid train.valid.npz \
        --epochs 1 --seed 1 -o model
fi

measure() { # label N command... → "| label | N | seconds | peak RSS MiB |"
    local label=$1 n=$2
    shift 2
    local out
    out=$( { /usr/bin/time -f "TIME %e %M" bash -c "${CAP_GB:+ulimit -v $((CAP_GB * 1024 * 1024));} exec \"\$@\"" _ "$@" >/dev/null; } 2>&1 ) || {
        echo "$label N=$n failed:" >&2
        echo "$out" >&2
        return 1
    }
    local t rss
    read -r t rss < <(echo "$out" | awk '/^TIME/{print $2, $3}')
    awk -v l="$label" -v n="$n" -v t="$t" -v r="$rss" 'BEGIN{printf "| %s | %s | %.1f | %.0f |\n", l, n, t, r / 1024}'
}

echo "| tool | N | seconds | peak RSS (MiB) |"
echo "|---|---|---|---|"
for n in "${sizes[@]}"; do
    stride=$(( (10000000 - 1000) / n ))
    awk -v n="$n" -v s="$stride" 'BEGIN{OFS="\t"; for(i=0;i<n;i++) print "chrS",i*s,i*s+1000,"r"i,0,"+"}' > "w$n.bed"
    measure gkd-onehot "$n" "$BIN/gkd-onehot" -q -t "$THREADS" --fasta genome.fa --bed "w$n.bed" --dtype uint8 -o "w$n.npz"
    measure gkd-predict "$n" "$BIN/gkd-predict" -q -t "$THREADS" --model model --data "w$n.npz" \
        --batch-size "$BATCH" -o "p$n.tsv"
    measure "gkd-attribute saliency" "$n" "$BIN/gkd-attribute" -q -t "$THREADS" --model model --data "w$n.npz" \
        --method saliency --target 0 --batch-size "$BATCH" -o "s$n.npz"
    echo "<!-- N=$n: x in float32 would be $((n * 4 * 1000 * 4 / 1048576)) MiB; in uint8 $((n * 4 * 1000 / 1048576)) MiB -->"
    [ -n "${KEEP:-}" ] || rm -f "s$n.npz" "s$n.rows.tsv" "s$n.json"
done
