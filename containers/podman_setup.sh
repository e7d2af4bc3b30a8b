# Sourced by the podman scripts: podman, runc and debootstrap (installed when missing), settings
# that work on machines without a Docker engine (docs/architecture.md §4: runtime runc, cgroupfs,
# file events logger, no network namespace, nofile 1024 and nproc 4096, which runc may only lower),
# and a local Debian base image made by debootstrap (no registry needed).
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
if ! podman image exists localhost/debian:bookworm-slim; then
  root="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$root" >/dev/null
  tar -C "$root" -c . | podman import - localhost/debian:bookworm-slim
  rm -rf "$root"
fi
