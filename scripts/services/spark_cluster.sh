#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1: one master and one worker, from the PySpark
# distribution installed in .venv (its wheel has bin/spark-class but no sbin/start-master.sh).
#
#   scripts/services/spark_cluster.sh start   # prints SPARK_MASTER_URL=spark://127.0.0.1:PORT
#   scripts/services/spark_cluster.sh stop
#
# Ports: SPARK_MASTER_PORT / SPARK_MASTER_WEBUI_PORT / SPARK_WORKER_WEBUI_PORT, else the ones
# used last time, else free ones. Worker size: SPARK_WORKER_CORES (1), SPARK_WORKER_MEMORY (1g).
# Executors run the .venv Python (PYSPARK_PYTHON), so they import the same pyarrow and pandas.
set -euo pipefail
source "$(dirname "$0")/common.sh"

STATE="$SERVICES_DIR/spark"
mkdir -p "$STATE/work"

spark_home() {
  "$PYTHON_BIN" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'
}

master_alive() {
  # The master's JSON status lists at least one ALIVE worker.
  "$PYTHON_BIN" - "$1" <<'PY'
import json, sys, urllib.request
state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/json/", timeout=3))
sys.exit(0 if state.get("status") == "ALIVE" and any(w.get("state") == "ALIVE" for w in state.get("workers", [])) else 1)
PY
}

print_env() {
  echo "SPARK_MASTER_URL=spark://127.0.0.1:$(cat "$STATE/master.port")"
  echo "LEANOPS_SPARK_MASTER=spark://127.0.0.1:$(cat "$STATE/master.port")"
  echo "SPARK_MASTER_WEBUI_URL=http://127.0.0.1:$(cat "$STATE/master-webui.port")"
}

start() {
  command -v java >/dev/null 2>&1 || die "java is not installed; Spark 4 needs Java 17+"
  local home port webui worker_webui
  home="$(spark_home)" || die "pyspark is not importable by $PYTHON_BIN; run 'make setup' first"
  [ -x "$home/bin/spark-class" ] || die "$home/bin/spark-class is missing"
  port="$(remembered_port "$STATE/master.port" "${SPARK_MASTER_PORT:-}")"
  webui="$(remembered_port "$STATE/master-webui.port" "${SPARK_MASTER_WEBUI_PORT:-}")"
  worker_webui="$(remembered_port "$STATE/worker-webui.port" "${SPARK_WORKER_WEBUI_PORT:-}")"
  if pid_alive "$STATE/master.pid" && pid_alive "$STATE/worker.pid" && master_alive "$webui"; then
    print_env
    return 0
  fi
  export SPARK_HOME="$home" SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$PYTHON_BIN"
  export SPARK_LOG_DIR="$STATE" SPARK_WORKER_DIR="$STATE/work"
  # No REST submission server (it would take the fixed port 6066); apps connect over RPC.
  export SPARK_MASTER_OPTS="${SPARK_MASTER_OPTS:-} -Dspark.master.rest.enabled=false"
  if ! pid_alive "$STATE/master.pid"; then
    start_detached "$STATE/master.pid" "$STATE/master.log" "$home/bin/spark-class" \
      org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port "$webui"
  fi
  if ! pid_alive "$STATE/worker.pid"; then
    start_detached "$STATE/worker.pid" "$STATE/worker.log" "$home/bin/spark-class" \
      org.apache.spark.deploy.worker.Worker "spark://127.0.0.1:$port" --host 127.0.0.1 \
      --cores "${SPARK_WORKER_CORES:-1}" --memory "${SPARK_WORKER_MEMORY:-1g}" \
      --webui-port "$worker_webui" --work-dir "$STATE/work"
  fi
  wait_for "${SPARK_START_TIMEOUT:-180}" "$STATE/worker.log" \
    "the Spark master on 127.0.0.1:$port with one alive worker" master_alive "$webui"
  echo "spark_cluster.sh: master spark://127.0.0.1:$port (UI http://127.0.0.1:$webui), one worker" >&2
  print_env
}

stop() {
  stop_detached "$STATE/worker.pid" "spark_cluster.sh worker"
  stop_detached "$STATE/master.pid" "spark_cluster.sh master"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env)
    pid_alive "$STATE/master.pid" || die "not running; start it with $0 start"
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
