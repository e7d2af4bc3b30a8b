#!/usr/bin/env bash
# gkd-scan's shared layers against computing every window on its own with the same engine
# (gkd-scan --per-window) and against a PyTorch sliding-window loop (bench/scan_torch.py), for
# koo-cnn-deep and koo-cnn-shallow (200-bp windows, 12 classes, trained one epoch): over the bundled
# dm3 chr2L FASTA (10,050 bp) at strides 1, 10 and 100, and over a 10-Mb random chromosome at strides
# 10 and 100. gkd is timed as users run it (whole command, writing 12 bigWigs); PyTorch for its loop.
# Peak memory is /usr/bin/time's maximum resident set. Prints a Markdown table.
#   TORCH_VENV  venv with torch (default: ~/.cache/gkd/venv); THREADS (2)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
THREADS="${THREADS:-2}"
PY="${TORCH_VENV:-$HOME/.cache/gkd/venv}/bin/python"
cargo build --release --locked --workspace --all-targets >&2
BIN="$CARGO_TARGET_DIR/release"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
"$BIN/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar --n 3000 --seed 1 -o "$W/t.{split}.npz" 2>/dev/null
for arch in koo-cnn-deep koo-cnn-shallow; do
  "$BIN/gkd-train" --arch "$arch" --train "$W/t.train.npz" --valid "$W/t.valid.npz" --epochs 1 --seed 1 -o "$W/$arch" -q -t "$THREADS"
done
python3 - "$W/chrS.fa" <<'PY'
import random, sys
random.seed(16)
with open(sys.argv[1], "w") as f:
    f.write(">chrS\n")
    for _ in range(10_000_000 // 60):
        f.write("".join(random.choices("ACGT", k=60)) + "\n")
PY
measure() { # prints "seconds peak-MiB"
  /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%s %d", $1, $2 / 1024}'
}
echo "| model | sequence | stride | windows | gkd-scan s (peak MiB) | per-window engine s (peak MiB) | PyTorch loop s | vs per-window | vs PyTorch |"
echo "|---|---|---|---|---|---|---|---|---|"
for arch in koo-cnn-deep koo-cnn-shallow; do
  for case in "test-data/fasta/dm3_chr2L_1-10050.fa chr2L 1" "test-data/fasta/dm3_chr2L_1-10050.fa chr2L 10" \
              "test-data/fasta/dm3_chr2L_1-10050.fa chr2L 100" "$W/chrS.fa 10Mb 100" "$W/chrS.fa 10Mb 10"; do
    read -r fasta name stride <<<"$case"
    run() { measure "$BIN/gkd-scan" --model "$W/$arch" --fasta "$fasta" --stride "$stride" -q -t "$THREADS" "$@"; }
    read -r shared shared_mb <<<"$(run -o "$W/s")"
    read -r single single_mb <<<"$(run --per-window -o "$W/p")"
    read -r torch windows <<<"$("$PY" bench/scan_torch.py "$arch" "$W/$arch" "$fasta" "$stride" 12 "$THREADS")"
    ratio() { python3 -c "print(f'{$1/$2:.1f}x')"; }
    echo "| $arch | $name | $stride | $windows | $shared ($shared_mb) | $single ($single_mb) | $torch | $(ratio "$single" "$shared") | $(ratio "$torch" "$shared") |"
  done
done
