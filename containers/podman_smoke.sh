#!/usr/bin/env bash
# Opt-in (not in CI: ~10 minutes): build a CPU image of the gkd tools with podman from a local
# base made by debootstrap (no registry needed), and run a tool inside it on bundled data.
# Podman set-up for machines without a Docker engine: containers/podman_setup.sh.
#   needs root and Debian's podman, runc, debootstrap (installed here when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked --workspace --bins
source containers/podman_setup.sh
ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
cp "$CARGO_TARGET_DIR"/release/gkd-{onehot,synth,histone,train,predict,attribute,score,report} "$ctx/"
cat > "$ctx/Containerfile" <<'CF'
ARG BASE=localhost/debian:bookworm-slim
FROM ${BASE}
COPY gkd-* /usr/local/bin/
USER 1000
WORKDIR /data
CF
podman build -t localhost/gkd:smoke "$ctx"
podman run --rm -v "$PWD/test-data:/test-data:ro" localhost/gkd:smoke \
  gkd-histone --from-deepchrome /test-data/deepchrome_toy/train.csv -o /tmp/h.npz
podman run --rm localhost/gkd:smoke gkd-train --version
echo "container smoke test ok"
