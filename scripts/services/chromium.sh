#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the UI tests (Playwright drives it through
# executable_path; `playwright install` is never used). Prints the browser path.
#   scripts/services/chromium.sh install
set -euo pipefail

CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"

install_chromium() {
  if [ -x "$CHROMIUM_BIN" ]; then
    echo "$CHROMIUM_BIN"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium.sh: $CHROMIUM_BIN is missing and apt-get is not available; install Chromium and set CHROMIUM_BIN=/path/to/chromium." >&2
    exit 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "chromium.sh: installing Debian chromium (apt-get, non-interactive)..." >&2
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2; then
    $sudo apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
  fi
  if [ ! -x "$CHROMIUM_BIN" ]; then
    echo "chromium.sh: apt-get finished but $CHROMIUM_BIN is still missing." >&2
    exit 1
  fi
  echo "$CHROMIUM_BIN"
}

case "${1:-install}" in
  install) install_chromium ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
