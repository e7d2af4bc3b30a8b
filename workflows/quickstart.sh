#!/usr/bin/env bash
# Build the tools and run the main job on the bundled data: the Koo & Eddy synthetic benchmark
# (task 1 and 3), a real sequence set (PUM2 eCLIP sites), real dm3 BED windows, and histone-mark
# matrices from real dm3 bigWig/BAM files and DeepChrome's toy CSV; then the seed study at small
# scale (teacher -> scratch and distilled students -> maps -> scores -> dashboard) through the
# Snakemake workflow; all under results/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked --workspace --bins
BIN="$CARGO_TARGET_DIR/release"
OUT="${1:-results/quickstart}"

"$BIN/gkd-synth" task1 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --seed 1 -o "$OUT/task1/task1.{split}.npz"
"$BIN/gkd-synth" task3 --motifs test-data/motifs/koo_eddy_12tf_jaspar2016.jaspar \
  --decoys test-data/motifs/core_vertebrates_nonredundant_jaspar2016.meme \
  --seed 1 -o "$OUT/task3/task3.{split}.npz"
"$BIN/gkd-onehot" --table test-data/seqdata/concise_PUM2_valid.csv.gz --seq-column seq \
  --label-columns binding_site --split train=0.7,valid=0.1,test=0.2 --seed 1 \
  -o "$OUT/pum2/pum2.{split}.npz"
"$BIN/gkd-onehot" --fasta test-data/fasta/dm3_chr2L_1-10050.fa \
  --bed test-data/annotation/dm3_chr2L_1-10050_features.bed --length 200 --label-columns 5 \
  -o "$OUT/dm3/features.npz"
# Labels: expression (mean RNA-seq signal over each gene body) above the median, as DeepChrome.
"$BIN/gkd-histone" --genes test-data/annotation/pybedtools_dm3-chr2L-5M.gff.gz \
  --mark rnaseq=test-data/bigwig/metaseq_x_dm3_chr2L_rnaseq.bigwig \
  --mark chip=test-data/bam/deeptools_paired_chr2L.bam \
  --expression-bigwig test-data/bigwig/metaseq_x_dm3_chr2L_rnaseq.bigwig \
  -o "$OUT/histone/dm3.npz" --deepchrome-csv "$OUT/histone/dm3.csv"
"$BIN/gkd-histone" --from-deepchrome test-data/deepchrome_toy/train.csv -o "$OUT/histone/toy.train.npz"
# The seed study at small scale through the bundled Snakemake workflow (config/quickstart.yaml):
# teacher koo-cnn-deep -> soft targets -> scratch and distilled koo-cnn-shallow students -> saliency
# and fast-ISM maps of the first 100 test rows carrying CEBPB -> motif recovery and predictive
# scores -> one HTML dashboard; and the histone study on DeepChrome's toy CSVs.
VENV="${GKD_SNAKE_VENV:-$HOME/.cache/gkd/snake-venv}"
[ -x "$VENV/bin/snakemake" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet "snakemake[reports]==9.27.1"; }
S="$(realpath -m "$OUT")/snakemake"
PATH="$BIN:$PATH" "$VENV/bin/snakemake" --directory workflows/snakemake -s workflows/snakemake/workflow/Snakefile \
  --configfile workflows/snakemake/config/quickstart.yaml --config outdir="$S" --cores 2 --quiet
column -t "$S/sequence/seed1/scores/recovery.tsv" >&2
column -t "$S/sequence/seed1/scores/predictive.tsv" | grep -E "^model|macro" >&2
echo "Dashboards: $S/sequence/seed1/report.html and $S/histone/seed1/report.html" >&2
echo "Results written under $OUT:" >&2
ls -R "$OUT" >&2
