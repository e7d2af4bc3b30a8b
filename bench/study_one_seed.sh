#!/usr/bin/env bash
# The whole one-seed task-1 study as one command, timed: the Snakemake workflow with
# workflows/snakemake/config/task1-one-seed.yaml (30,000 task-1 sequences; a koo-cnn-deep teacher,
# at most 100 epochs with patience 20; scratch and distilled koo-cnn-shallow students; saliency,
# fast-ISM and DeepSHAP maps of the first 500 test rows carrying CEBPB; motif recovery, predictive
# scores and the dashboard), 2 cores. Prints the wall time, each model's epochs and test macro
# AUROC / AUPR, and the motif-recovery table. Uses the workspace build's binaries.
#   OUT  results directory (default: a temporary one, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked --workspace --bins -q
BIN="$CARGO_TARGET_DIR/release"
VENV="${GKD_SNAKE_VENV:-$HOME/.cache/gkd/snake-venv}"
[ -x "$VENV/bin/snakemake" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet "snakemake[reports]==9.27.1"; }
OUT="${OUT:-}"; [ -n "$OUT" ] || { OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT; }
OUT="$(realpath -m "$OUT")"
start=$(date +%s.%N)
PATH="$BIN:$PATH" "$VENV/bin/snakemake" --directory workflows/snakemake -s workflows/snakemake/workflow/Snakefile \
  --configfile workflows/snakemake/config/task1-one-seed.yaml --config outdir="$OUT" --cores 2 --quiet >&2
end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'wall time: {s:.0f} s ({s/60:.1f} min)')" "$start" "$end"
seed="$OUT/sequence/seed1"
for m in teacher scratch distilled; do
  epochs=$(($(wc -l < "$seed/models/$m/history.tsv") - 1))
  echo "$m: $epochs epochs run"
done
column -t "$seed/scores/predictive.tsv" | grep -E "^model|macro"
column -t "$seed/scores/recovery.tsv"
