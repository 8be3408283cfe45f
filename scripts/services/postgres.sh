#!/usr/bin/env bash
# A private PostgreSQL for the Dagster instance, Optuna and MLflow, on 127.0.0.1 only.
#
#   scripts/services/postgres.sh install  # Debian postgresql, if missing (start does it too)
#   scripts/services/postgres.sh start    # installs Debian postgresql if missing, starts, prints env
#   scripts/services/postgres.sh env      # prints the connection variables of the running server
#   scripts/services/postgres.sh stop
#
# The cluster lives in $LEANOPS_HOME/services/postgres (PG_DATA_DIR to move it), owned by the
# postgres user when run as root. Port: PG_PORT, else the one used last time, else a free one.
# Databases: leanops (Dagster runs, event log, schedules), optuna (study storage), mlflow.
# `eval "$(scripts/services/postgres.sh start)"` exports DAGSTER_PG_*, LEANOPS_OPTUNA_STORAGE
# and LEANOPS_MLFLOW_BACKEND_URI.
set -euo pipefail
source "$(dirname "$0")/common.sh"

STATE="${PG_DATA_DIR:-$SERVICES_DIR/postgres}"
DATA="$STATE/data"
SOCKETS="$STATE/sockets"
LOG="$STATE/postgres.log"
PG_USER="${DAGSTER_PG_USER:-leanops}"
PG_PASSWORD="${DAGSTER_PG_PASSWORD:-leanops}"
PG_DB="${DAGSTER_PG_DB:-leanops}"
DATABASES=("$PG_DB" optuna mlflow)

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_installed() {
  if pg_bindir >/dev/null; then
    return 0
  fi
  echo "postgres.sh: installing Debian postgresql (apt-get, non-interactive)..." >&2
  # Only the binaries: no default cluster started on 5432 by the package.
  if [ ! -f /etc/postgresql-common/createcluster.conf ] && [ "$(id -u)" -eq 0 ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  apt_install postgresql
  pg_bindir >/dev/null || die "apt-get finished but no /usr/lib/postgresql/*/bin/initdb was found"
}

# Runs a PostgreSQL program as the cluster owner (postgres refuses to run as root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port() { cat "$STATE/port"; }

print_env() {
  local p
  p="$(port)"
  cat <<ENV
DAGSTER_PG_HOST=127.0.0.1
DAGSTER_PG_PORT=$p
DAGSTER_PG_USER=$PG_USER
DAGSTER_PG_PASSWORD=$PG_PASSWORD
DAGSTER_PG_DB=$PG_DB
LEANOPS_OPTUNA_STORAGE=postgresql+psycopg2://$PG_USER:$PG_PASSWORD@127.0.0.1:$p/optuna
LEANOPS_MLFLOW_BACKEND_URI=postgresql+psycopg2://$PG_USER:$PG_PASSWORD@127.0.0.1:$p/mlflow
ENV
}

running() {
  [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

psql_admin() {
  as_owner "$BIN/psql" -h "$SOCKETS" -p "$(port)" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

start() {
  ensure_installed
  BIN="$(pg_bindir)"
  mkdir -p "$STATE"
  remembered_port "$STATE/port" "${PG_PORT:-}" >/dev/null
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$STATE"
    runuser -u postgres -- test -w "$STATE" ||
      die "the postgres user cannot write $STATE (a parent folder is private?); set PG_DATA_DIR to a folder it can reach"
  fi
  if running; then
    print_env
    return 0
  fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as_owner mkdir -p "$DATA" "$SOCKETS"
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 ||
      { tail -20 "$STATE/initdb.log" >&2; die "initdb failed in $DATA"; }
  fi
  as_owner mkdir -p "$SOCKETS"
  touch "$LOG"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$LOG"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $(port) -k $SOCKETS -c max_connections=200 -c fsync=off" \
    start >&2 || { tail -20 "$LOG" >&2; die "PostgreSQL did not start on 127.0.0.1:$(port)"; }
  if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
    psql_admin -c "CREATE ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
  fi
  local db
  for db in "${DATABASES[@]}"; do
    if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
      psql_admin -c "CREATE DATABASE \"$db\" OWNER \"$PG_USER\""
    fi
  done
  echo "postgres.sh: PostgreSQL on 127.0.0.1:$(port), data in $DATA" >&2
  print_env
}

stop() {
  BIN="$(pg_bindir)" || die "PostgreSQL is not installed"
  if [ -f "$DATA/postmaster.pid" ] && running; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  else
    echo "postgres.sh: not running" >&2
  fi
}

case "${1:-}" in
  install) ensure_installed ;;
  start) start ;;
  stop) stop ;;
  env)
    BIN="$(pg_bindir)" || die "PostgreSQL is not installed"
    running || die "not running; start it with $0 start"
    print_env
    ;;
  *)
    echo "usage: $0 install|start|stop|env" >&2
    exit 2
    ;;
esac
