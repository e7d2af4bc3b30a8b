#!/usr/bin/env bash
# gkd-variant against a batched PyTorch loop over the same windows and against tangermeme's
# substitution_effect (bench/variants_torch.py), for koo-cnn-deep and koo-cnn-shallow (200-bp
# windows, 12 classes, trained one epoch), on random SNVs of the bundled GRCh37 chr20 piece
# (test-data/fasta/vt_b37_chr20_1-1760000.fa.gz, REF from the FASTA). gkd-variant is timed as users
# run it (whole command: VCF parsing, REF checks, indexed bgzip FASTA reads, writing the TSV, the
# annotated VCF and the sidecar for all 12 classes); PyTorch for its loop and tangermeme for its call
# (see the script). Then peak memory of gkd-variant (koo-cnn-shallow, --class CEBPB so that the
# outputs stay small) on 10,000 to 1,000,000 variants. Peak memory is /usr/bin/time's maximum
# resident set. Prints two Markdown tables.
#   TORCH_VENV  venv with torch and tangermeme (default: ~/.cache/gkd/venv); THREADS (2)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
THREADS="${THREADS:-2}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked --workspace --all-targets >&2
BIN="$CARGO_TARGET_DIR/release"
FASTA=test-data/fasta/vt_b37_chr20_1-1760000.fa.gz
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
"$BIN/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 3000 --seed 1 -o "$W/t.{split}.npz" 2>/dev/null
for arch in koo-cnn-deep koo-cnn-shallow; do
  "$BIN/gkd-train" --arch "$arch" --train "$W/t.train.npz" --valid "$W/t.valid.npz" --epochs 1 --seed 1 -o "$W/$arch" -q -t "$THREADS"
done
# Random SNVs (seeded) at A/C/G/T positions at least 200 bases from both ends, sorted.
"$PY" - "$FASTA" "$W" <<'PY'
import gzip, sys
import numpy as np
seq = "".join(l.strip() for l in gzip.open(sys.argv[1], "rt") if not l.startswith(">")).upper()
codes = np.frombuffer(seq.encode(), dtype=np.uint8)
ok = np.flatnonzero(np.isin(codes, list(b"ACGT")))
ok = ok[(ok >= 200) & (ok < len(codes) - 200)]
rng = np.random.default_rng(30)
for n in (10_000, 100_000, 1_000_000):
    pos = np.sort(rng.choice(ok, size=n, replace=True))
    with open(f"{sys.argv[2]}/snv{n}.vcf", "w") as f:
        f.write("##fileformat=VCFv4.2\n##contig=<ID=20,length=1760000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        shift = rng.integers(1, 4, size=n)
        for p, s in zip(pos, shift):
            ref = seq[p]
            alt = "ACGT"[("ACGT".index(ref) + s) % 4]
            f.write(f"20\t{p + 1}\t.\t{ref}\t{alt}\t.\t.\t.\n")
PY
measure() { # prints "seconds peak-MiB"
  /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%s %d", $1, $2 / 1024}'
}
ratio() { python3 -c "print(f'{$1/$2:.1f}x')"; }
rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }
echo "| model | variants | gkd-variant s (peak MiB) | variants/s | PyTorch loop s | tangermeme s | vs PyTorch | vs tangermeme |"
echo "|---|---|---|---|---|---|---|---|"
for arch in koo-cnn-deep koo-cnn-shallow; do
  for n in 10000 100000; do
    read -r gkd gkd_mb <<<"$(measure "$BIN/gkd-variant" --model "$W/$arch" --vcf "$W/snv$n.vcf" --fasta "$FASTA" -q -t "$THREADS" -o "$W/e")"
    read -r torch _ <<<"$("$PY" bench/variants_torch.py torch "$arch" "$W/$arch" "$FASTA" "$W/snv$n.vcf" 12 "$THREADS")"
    read -r tm _ <<<"$("$PY" bench/variants_torch.py tangermeme "$arch" "$W/$arch" "$FASTA" "$W/snv$n.vcf" 12 "$THREADS")"
    echo "| $arch | $n | $gkd ($gkd_mb) | $(rate "$n" "$gkd") | $torch | $tm | $(ratio "$torch" "$gkd") | $(ratio "$tm" "$gkd") |"
  done
done
echo
echo "| variants | gkd-variant s | peak MiB |"
echo "|---|---|---|"
for n in 10000 100000 1000000; do
  read -r gkd gkd_mb <<<"$(measure "$BIN/gkd-variant" --model "$W/koo-cnn-shallow" --vcf "$W/snv$n.vcf" --fasta "$FASTA" --class CEBPB -q -t "$THREADS" -o "$W/m")"
  echo "| $n | $gkd | $gkd_mb |"
done
