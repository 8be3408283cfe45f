#!/usr/bin/env bash
# Builds and runs the leanops images without a Docker engine: Debian's podman, buildah, runc,
# debootstrap and podman-compose. No container registry is needed.
#
#   scripts/services/containers.sh install    # apt-get install the container tools, if missing
#   scripts/services/containers.sh base       # localhost/leanops-base: debootstrap'd bookworm (cached)
#   scripts/services/containers.sh build      # localhost/leanops: the Dockerfile over that base
#   scripts/services/containers.sh postgres   # localhost/leanops-postgres: Debian's postgresql on it
#
# BASE_IMAGE=python:3.11-slim-bookworm builds over the official image instead (where a registry
# is reachable). DEBIAN_MIRROR defaults to the mirror apt uses. The machine's CA bundle (pip's
# `cert`, else Debian's) is mounted read-only into the build for HTTPS to the package registries.
set -euo pipefail
source "$(dirname "$0")/common.sh"

BASE_TAG="${LEANOPS_BASE_TAG:-localhost/leanops-base}"
IMAGE_TAG="${LEANOPS_IMAGE_TAG:-localhost/leanops}"
POSTGRES_TAG="${LEANOPS_POSTGRES_TAG:-localhost/leanops-postgres}"
TOOLS=(podman buildah runc debootstrap podman-compose)

install() {
  local missing=()
  local tool
  for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "containers.sh: installing ${missing[*]} (apt-get, non-interactive)..." >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y podman buildah runc debootstrap podman-compose >&2
}

image_exists() { podman image exists "$1"; }

# The first deb822 or one-line Debian source apt is configured with.
apt_mirror() {
  local uri
  uri="$(grep -hsE '^URIs: .*/debian/?$' /etc/apt/sources.list.d/*.sources | head -1 | awk '{print $2}')"
  [ -n "$uri" ] || uri="$(grep -hsE '^deb .*/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | head -1 | awk '{print $2}')"
  echo "${uri:-http://deb.debian.org/debian}"
}

ca_bundle() {
  local cert
  cert="$("${VENV_BIN}/pip" config get global.cert 2>/dev/null || pip3 config get global.cert 2>/dev/null || true)"
  [ -n "$cert" ] && [ -f "$cert" ] || cert=/etc/ssl/certs/ca-certificates.crt
  [ -f "$cert" ] || die "no CA bundle found (pip config cert, /etc/ssl/certs/ca-certificates.crt)"
  echo "$cert"
}

base() {
  install
  if image_exists "$BASE_TAG"; then
    echo "containers.sh: $BASE_TAG exists" >&2
    return 0
  fi
  local root
  root="$(mktemp -d /var/tmp/leanops-base.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$root'" EXIT
  echo "containers.sh: debootstrap bookworm from $(apt_mirror) into $root..." >&2
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,python-is-python3 \
    bookworm "$root" "$(apt_mirror)" >"$root.log" 2>&1 ||
    { tail -20 "$root.log" >&2; die "debootstrap failed (log: $root.log)"; }
  # Downloaded packages, package lists, manuals and translations: nothing a container reads.
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"* \
    "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/usr/share/locale/"* "$root/usr/share/info/"*
  tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_TAG" >&2
  rm -f "$root.log"
}

# buildah bud over a Dockerfile, with the CA bundle; extra arguments go to buildah.
bud() {
  local cert
  cert="$(ca_bundle)"
  buildah bud --isolation chroot --layers \
    -v "$cert:/etc/leanops-ca.crt:ro" \
    --build-arg SSL_CERT_FILE=/etc/leanops-ca.crt \
    --build-arg UV_SYSTEM_CERTS=1 \
    --build-arg PIP_CERT=/etc/leanops-ca.crt \
    "$@" >&2
}

build() {
  local from="${BASE_IMAGE:-}"
  if [ -z "$from" ]; then
    base
    from="$BASE_TAG"
  fi
  bud --build-arg "BASE_IMAGE=$from" -t "$IMAGE_TAG" -f "$REPO_ROOT/Dockerfile" "$REPO_ROOT"
  echo "$IMAGE_TAG"
}

postgres() {
  base
  bud --build-arg "BASE_IMAGE=$BASE_TAG" -t "$POSTGRES_TAG" \
    -f "$REPO_ROOT/deploy/postgres/Containerfile" "$REPO_ROOT/deploy/postgres"
  echo "$POSTGRES_TAG"
}

case "${1:-}" in
  install) install ;;
  base) base ;;
  build) build ;;
  postgres) postgres ;;
  *)
    echo "usage: $0 install|base|build|postgres" >&2
    exit 2
    ;;
esac
