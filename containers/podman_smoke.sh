#!/usr/bin/env bash
# Opt-in (not in CI: ~10 minutes): build a CPU image of the gkd tools with podman from a local
# base made by debootstrap (no registry needed), and run a tool inside it on bundled data.
# Settings that work on machines without a Docker engine (docs/architecture.md §4): runtime runc, cgroupfs,
# file events logger, no network namespace, nofile 1024 and nproc 4096 (runc may only lower them).
#   needs root and Debian's podman, runc, debootstrap (installed here when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
command -v podman >/dev/null || { apt-get update -qq && apt-get install -y -qq podman runc debootstrap >/dev/null; }
mkdir -p /etc/containers
cat > /etc/containers/containers.conf <<'CONF'
[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cargo build --release --locked --workspace --bins
if ! podman image exists localhost/debian:bookworm-slim; then
  root="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$root" >/dev/null
  tar -C "$root" -c . | podman import - localhost/debian:bookworm-slim
  rm -rf "$root"
fi
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
