#!/usr/bin/env bash
# Creates .venv from requirements.lock. Stops at once if Python or Java is missing or too old.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "leanops: Python 3.11+ is required but '$PYTHON' was not found. Install Python 3.11 or newer (or set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "leanops: Python 3.11+ is required, found $("$PYTHON" --version 2>&1). Install Python 3.11 or newer (or set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if ! command -v java >/dev/null 2>&1; then
  echo "leanops: Java 17+ is required by Spark 4 but 'java' was not found. Install a JDK 17 (e.g. 'apt-get install openjdk-17-jre-headless')." >&2
  exit 1
fi
java_major=$(java -version 2>&1 | sed -nE 's/.*version "([0-9]+)(\.[0-9]+)*.*/\1/p' | head -1)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
  echo "leanops: Java 17+ is required by Spark 4, found: $(java -version 2>&1 | head -1). Install a JDK 17 or newer." >&2
  exit 1
fi

stamp=.venv/.leanops-lock.sha256
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "leanops: creating .venv from requirements.lock (first run takes a few minutes)..."
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
.venv/bin/uv pip sync --quiet --python .venv/bin/python requirements.lock
.venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
# Byte-compile once: every launched run imports mlflow, sklearn and friends again.
# (A few vendored test files in site-packages are not valid Python 3.11; they are skipped.)
.venv/bin/python -m compileall -q -j 0 .venv/lib >/dev/null 2>&1 || true
echo "$want" > "$stamp"
echo "leanops: environment ready in .venv"
