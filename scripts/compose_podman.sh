#!/usr/bin/env bash
# Prove docker-compose.yml for real with podman: what the schema check (tests/deploy) cannot.
#
#   scripts/compose_podman.sh          build, start, check, clean up
#   scripts/compose_podman.sh --keep   leave the stack running afterwards (clean up: --down)
#   scripts/compose_podman.sh --down   stop and remove the stack, its network and volumes
#
# What it does, in order:
#   1. Makes sure the Dockerfile's base image exists locally. Where no image registry is
#      reachable, it builds a stand-in once with debootstrap (Debian bookworm + python3) and tags
#      it with the Dockerfile's FROM name; the image stays in podman's storage as the cache.
#   2. Runs the real docker-compose.yml with podman-compose (from PyPI, installed into a venv
#      under the cache folder): builds the Dockerfile, starts `mockgram` and `awesomeservice`
#      on a podman network where service names resolve, with the published ports.
#   3. Waits for both health checks, checks http://localhost:8000 and http://localhost:8001 answer
#      from the host (as a browser would), and runs `python -m awesomeservice doctor` inside the
#      awesomeservice container: it fetches Mockgram's metadata over the back channel
#      (http://mockgram:8001, by service name) and compares the issuer with the public URL.
#   4. Tears everything down (unless --keep).
#
# The stand-in carries Debian's Python 3.11 under the official image's name; it stays in podman's
# storage as the cache. `podman rmi docker.io/library/python:3.12-slim` drops it once a registry
# is reachable. Ports: AWESOMESERVICE_PORT / MOCKGRAM_PORT, as for docker compose.
#
# Needs: podman, runc, debootstrap (apt-get install podman runc debootstrap), python3, root or
# rootless podman. Slow (minutes): not part of the test suite or CI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${COMPOSE_PODMAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/awesomeservice-compose}"
PROJECT="${COMPOSE_PROJECT_NAME:-awesomeservice-proof}"
AWESOME_PORT="${AWESOMESERVICE_PORT:-8000}"
MOCKGRAM_PORT="${MOCKGRAM_PORT:-8001}"
BASE_IMAGE="$(sed -n 's/^FROM[[:space:]]\+\([^[:space:]]\+\).*/\1/p' "$ROOT/Dockerfile" | head -1)"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

say() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

# Podman's defaults that these machines need (see the README): runc, not crun (hybrid cgroups),
# and ulimits under the hard limits. podman-compose runs podman, which reads this file.
mkdir -p "$CACHE"
cat > "$CACHE/containers.conf" <<CONF
[engine]
runtime = "runc"
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
CONF
export CONTAINERS_CONF="$CACHE/containers.conf"
# Podman builds OCI images by default, which drop the Dockerfile's HEALTHCHECK; Docker's keep it.
export BUILDAH_FORMAT=docker

qualified() {  # python:3.12-slim -> docker.io/library/python:3.12-slim
  case "$1" in
    */*/*) echo "$1" ;;
    */*) echo "docker.io/$1" ;;
    *) echo "docker.io/library/$1" ;;
  esac
}

ensure_base_image() {
  local name
  name="$(qualified "$BASE_IMAGE")"
  if podman image exists "$name"; then
    say "base image $name: present (cached)"
    return
  fi
  if podman pull "$name" >/dev/null 2>&1; then
    say "base image $name: pulled"
    return
  fi
  say "base image $name: no registry reachable; building a Debian stand-in (once, ~2 minutes)"
  command -v debootstrap >/dev/null || fail "debootstrap missing: apt-get install debootstrap"
  local rootfs="$CACHE/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$rootfs" >"$CACHE/debootstrap.log" 2>&1 || fail "debootstrap: see $CACHE/debootstrap.log"
  # The official image has `python` on PATH and trusts the usual CAs; trust the host's bundle
  # too, so pip reaches the package index wherever the host does.
  ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
  cp "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'LABEL org.opencontainers.image.description="stand-in built by scripts/compose_podman.sh: Debian bookworm python3, not the official image"' \
    --change 'CMD ["python3"]' - "$name" >/dev/null
  rm -rf "$rootfs"
  say "base image $name: stand-in built (Debian's Python $(podman run --rm "$name" python --version 2>&1 | cut -d' ' -f2))"
}


ensure_podman_compose() {
  if [[ ! -x "$CACHE/venv/bin/podman-compose" ]]; then
    say "installing podman-compose from PyPI into $CACHE/venv"
    python3 -m venv "$CACHE/venv"
    "$CACHE/venv/bin/pip" install -q podman-compose
  fi
  say "$("$CACHE/venv/bin/podman-compose" version 2>/dev/null | tr '\n' ' ')"
}

compose() {
  "$CACHE/venv/bin/podman-compose" -p "$PROJECT" -f "$ROOT/docker-compose.yml" "$@"
}

container_of() {  # the container podman-compose started for service $1
  podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1" | head -1
}

down() {
  say "cleaning up: containers, network and volumes of project $PROJECT"
  compose down -v >/dev/null 2>&1 || true
}

wait_healthy() {  # run the service's own health check until it passes (podman has no timer here)
  local service="$1" container status
  container="$(container_of "$service")"
  [[ -n "$container" ]] || fail "no container for service $service"
  for _ in $(seq 1 60); do
    if podman healthcheck run "$container" >/dev/null 2>&1; then
      status="$(podman inspect --format '{{.State.Health.Status}}' "$container" 2>/dev/null || true)"
      say "$service is healthy (podman says: ${status:-?})"
      return
    fi
    sleep 2
  done
  podman logs --tail 30 "$container" >&2 || true
  fail "$service did not become healthy in 120 s"
}

fetch() {  # GET a URL from the host, as a browser would; print the status line
  python3 - "$1" <<'PY'
import sys, urllib.request
url = sys.argv[1]
with urllib.request.urlopen(url, timeout=10) as response:  # raises on 4xx/5xx
    body = response.read()
print(f"    {url} -> HTTP {response.status}, {len(body)} bytes")
PY
}

case "${1:-}" in
  --down) down; exit 0 ;;
  --base-only) ensure_base_image; exit 0 ;;
esac

command -v podman >/dev/null || fail "podman missing: apt-get install podman runc debootstrap"
ensure_base_image
ensure_podman_compose
[[ "${1:-}" == "--keep" ]] || trap down EXIT

say "building the Dockerfile (podman-compose build)"
export AWESOMESERVICE_PORT="$AWESOME_PORT" MOCKGRAM_PORT="$MOCKGRAM_PORT"
compose build mockgram

# podman 4.3 cannot wait for "healthy", so podman-compose ignores depends_on's condition, and
# without systemd no timer runs the health checks: this script does both, in compose's order.
say "starting mockgram, then awesomeservice once mockgram is healthy (depends_on)"
compose up -d mockgram
wait_healthy mockgram
compose up -d awesomeservice
wait_healthy awesomeservice
say "awesomeservice's own check at start (its log):"
podman logs "$(container_of awesomeservice)" 2>&1 | grep -i "doctor" || echo "    (no warnings)"

say "the browser's view, from the host"
fetch "http://localhost:$AWESOME_PORT/"
fetch "http://localhost:$AWESOME_PORT/healthz"
fetch "http://localhost:$MOCKGRAM_PORT/healthz"
fetch "http://localhost:$MOCKGRAM_PORT/.well-known/openid-configuration"

say "the back channel, from inside awesomeservice: python -m awesomeservice doctor"
podman exec "$(container_of awesomeservice)" python -m awesomeservice doctor \
  || fail "the issuer doctor found problems (output above)"

say "all good: the Dockerfile builds, both services are healthy, the published ports answer,"
say "and awesomeservice reaches http://mockgram:8001 by service name"
if [[ "${1:-}" == "--keep" ]]; then
  say "left running (--keep): http://localhost:$AWESOME_PORT ; stop with $0 --down"
fi
