# Shared by the service scripts: the state folder, free ports, waiting, stopping by pid.
# Sourced, not executed.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LEANOPS_HOME="${LEANOPS_HOME:-$REPO_ROOT/.leanops}"
SERVICES_DIR="${LEANOPS_SERVICES_DIR:-$LEANOPS_HOME/services}"
VENV_BIN="${LEANOPS_VENV_BIN:-$REPO_ROOT/.venv/bin}"
PYTHON_BIN="${LEANOPS_PYTHON:-$VENV_BIN/python}"

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# A TCP port nobody listens on right now on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The port remembered in FILE, else $2 if set, else a free one; remembered for the next start.
remembered_port() {
  local file="$1" wanted="${2:-}"
  if [ -n "$wanted" ]; then
    echo "$wanted" >"$file"
  elif [ ! -s "$file" ]; then
    free_port >"$file"
  fi
  cat "$file"
}

pid_alive() {
  local pidfile="$1"
  [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Runs a command in its own session (process group) in the background; records its pid.
start_detached() {
  local pidfile="$1" logfile="$2"
  shift 2
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# Stops the process group started by start_detached: TERM, then KILL after a grace period.
stop_detached() {
  local pidfile="$1" name="$2"
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    echo "$name: not running" >&2
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  fi
  rm -f "$pidfile"
  echo "$name: stopped" >&2
}

# Waits until COMMAND succeeds, up to SECONDS; on time-out shows the log tail and fails.
wait_for() {
  local seconds="$1" logfile="$2" what="$3"
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$(basename "$0"): $what did not come up within ${seconds}s; last log lines of $logfile:" >&2
      tail -n 40 "$logfile" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# apt-get install, non-interactive, with sudo when not root.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not available; install $* by hand"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; then
    $sudo apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
  fi
}
