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

# Test groups that cannot run here (a system program missing) are listed at the end; with
# GKD_REQUIRE_ALL set (as .ci/run does) a missing program fails the run instead.
export GKD_SKIPS="$(mktemp)"; trap 'rm -f "$GKD_SKIPS"' EXIT

echo "== system packages the tests use (Chromium for the dashboard test) =="
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
      || echo "apt-get could not install chromium; the dashboard test will be skipped" >&2
  else
    echo "chromium is not installed and this shell cannot install it (needs root and apt-get); the dashboard test will be skipped" >&2
  fi
fi

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

if [ -s "$GKD_SKIPS" ]; then
  echo "== $(wc -l <"$GKD_SKIPS") test group(s) SKIPPED ==" >&2
  sed 's/^/SKIP: /' "$GKD_SKIPS" >&2
else
  echo "== every test group ran =="
fi
