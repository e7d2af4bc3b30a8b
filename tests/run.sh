#!/usr/bin/env bash
# The project's test command (README): build every tool once (one profile, one target
# directory), run the Rust unit and end-to-end tests, then the cross-checks against numpy,
# pyBigWig, pysam, PyTorch, Captum and scikit-learn in a venv kept outside the clone (PyTorch is
# ~3 GB), then the bundled Snakemake workflow end to end (tests/workflows.sh).
#   CARGO_TARGET_DIR  where cargo builds (default: ./target)
#   GKD_VENV          Python venv for the cross-checks (default: ~/.cache/gkd/venv)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR=never

echo "== build (release, all targets) =="
# --all-targets builds with the dev-dependency features the tests use, so `cargo test` below
# reuses this build instead of compiling the dependencies a second time.
cargo build --release --locked --workspace --all-targets

echo "== cargo test =="
cargo test --release --locked --workspace

echo "== numpy / PyTorch / scikit-learn cross-checks =="
VENV="${GKD_VENV:-$HOME/.cache/gkd/venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/python/requirements.txt
GKD_BIN_DIR="$CARGO_TARGET_DIR/release" "$VENV/bin/python" -m pytest -q tests/python

echo "== workflow and container static checks (Nextflow language server, hadolint, def_check) =="
bash tests/static_checks.sh

echo "== workflows: Snakemake (lint, test configuration, report, interruption), dashboards in Chromium =="
bash tests/workflows.sh
