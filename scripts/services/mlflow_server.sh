#!/usr/bin/env bash
# A real MLflow tracking server and model registry on 127.0.0.1, with a database backend and
# proxied artifact storage (clients upload through the server; no shared folder needed).
#
#   scripts/services/mlflow_server.sh start   # prints MLFLOW_TRACKING_URI=http://127.0.0.1:PORT
#   scripts/services/mlflow_server.sh stop
#
# Backend: MLFLOW_BACKEND_STORE_URI (e.g. the postgresql+psycopg2://.../mlflow URL that
# postgres.sh prints), else a SQLite file in $LEANOPS_HOME/services/mlflow. Artifacts:
# MLFLOW_ARTIFACTS_DESTINATION, else $LEANOPS_HOME/services/mlflow/artifacts.
# Port: MLFLOW_PORT, else the one used last time, else a free one.
set -euo pipefail
source "$(dirname "$0")/common.sh"

STATE="$SERVICES_DIR/mlflow"
PIDFILE="$STATE/server.pid"
LOG="$STATE/server.log"
mkdir -p "$STATE"

print_env() {
  echo "MLFLOW_TRACKING_URI=http://127.0.0.1:$(cat "$STATE/port")"
  echo "LEANOPS_MLFLOW_TRACKING_URI=http://127.0.0.1:$(cat "$STATE/port")"
}

healthy() {
  "$PYTHON_BIN" -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=3).status == 200 else 1)" \
    "http://127.0.0.1:$(cat "$STATE/port")/health"
}

start() {
  [ -x "$VENV_BIN/mlflow" ] || die "$VENV_BIN/mlflow is missing; run 'make setup' first"
  local port backend artifacts
  port="$(remembered_port "$STATE/port" "${MLFLOW_PORT:-}")"
  if pid_alive "$PIDFILE" && healthy; then
    print_env
    return 0
  fi
  backend="${MLFLOW_BACKEND_STORE_URI:-sqlite:///$STATE/mlflow.db}"
  artifacts="${MLFLOW_ARTIFACTS_DESTINATION:-$STATE/artifacts}"
  [[ "$artifacts" == *://* ]] || mkdir -p "$artifacts"
  start_detached "$PIDFILE" "$LOG" "$VENV_BIN/mlflow" server \
    --host 127.0.0.1 --port "$port" --workers "${MLFLOW_WORKERS:-1}" \
    --backend-store-uri "$backend" \
    --serve-artifacts --artifacts-destination "$artifacts"
  wait_for "${MLFLOW_START_TIMEOUT:-180}" "$LOG" "the MLflow server on 127.0.0.1:$port" healthy
  echo "mlflow_server.sh: MLflow on http://127.0.0.1:$port (backend ${backend%%://*}, artifacts $artifacts)" >&2
  print_env
}

case "${1:-}" in
  start) start ;;
  stop) stop_detached "$PIDFILE" "mlflow_server.sh" ;;
  env)
    pid_alive "$PIDFILE" || die "not running; start it with $0 start"
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
