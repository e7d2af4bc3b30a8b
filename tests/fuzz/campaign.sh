#!/usr/bin/env bash
# One sitting of a fuzzing campaign: each TARGET:SECONDS pair in turn, one libFuzzer process at a
# time, growing corpus/TARGET in place (the inputs it adds are named by their hashes and stay local);
# appends one line per target to campaign.tsv (date, target, seconds it ran, executions, corpus
# files, crash/timeout/oom files in artifacts/TARGET). libFuzzer stops at the first finding.
#   usage: tests/fuzz/campaign.sh bigwig:900 bam:600 ...
set -euo pipefail
cd "$(dirname "$0")"
[ -f campaign.tsv ] || printf 'date\ttarget\tseconds\texecutions\tcorpus\tfindings\n' > campaign.tsv
for pair in "$@"; do
  target="${pair%%:*}"; seconds="${pair##*:}"
  mkdir -p "artifacts/$target"
  log="artifacts/$target/run-$(date +%Y%m%dT%H%M%S).log"
  started=$SECONDS
  cargo +nightly fuzz run --fuzz-dir . -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 >"$log" 2>&1 || true
  executions="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
  findings="$(find "artifacts/$target" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%d)" "$target" "$((SECONDS - started))" "${executions:-?}" \
    "$(ls "corpus/$target" | wc -l)" "$findings" >> campaign.tsv
  tail -1 campaign.tsv
done
