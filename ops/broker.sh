#!/usr/bin/env bash
# The local Kafka-compatible test broker (PyPI noida-db), see /work/shared/broker-notes.md.
#
#   ops/broker.sh start     start a broker on a free port with a fresh data dir (no-op if running)
#   ops/broker.sh wait      block until the running broker answers metadata requests
#   ops/broker.sh address   print host:port of the running broker
#   ops/broker.sh stop      SIGTERM the broker and wait for it to exit (no-op if not running)
#   ops/broker.sh restart   stop it, then start it again on the same port with the same data dir
#                           (what it stored survives: see broker-notes.md)
#
# Typical use:  ops/broker.sh start && export LOUPE_TEST_BROKERS=$(ops/broker.sh address)
#
# State lives in .broker/ at the repository root (gitignored), or in $LOUPE_BROKER_STATE, which
# lets a test or `loupe bench chaos` run a private broker that it may stop and restart. The broker is installed into the
# virtual environment ${LOUPE_VENV:-<repo>/.venv} on first use.
set -euo pipefail

readonly NOIDA_VERSION="0.2.3"
readonly READY_TIMEOUT=60
readonly STOP_TIMEOUT=60

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LOUPE_VENV:-$root/.venv}"
state="${LOUPE_BROKER_STATE:-$root/.broker}"
pid_file="$state/broker.pid"
port_file="$state/port"
log_file="$state/broker.log"

die() {
    echo "broker.sh: $*" >&2
    exit 1
}

running_pid() {
    [[ -f "$pid_file" ]] || return 1
    local pid
    pid="$(cat "$pid_file")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    # Guards against a stale PID file whose PID now belongs to another process.
    grep -q noida-db "/proc/$pid/cmdline" 2>/dev/null || return 1
    echo "$pid"
}

address() {
    [[ -f "$port_file" ]] || die "no broker has been started (run: ops/broker.sh start)"
    echo "127.0.0.1:$(cat "$port_file")"
}

ensure_installed() {
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "broker.sh: creating virtual environment $venv" >&2
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -m pip show noida-db 2>/dev/null | grep -qx "Version: $NOIDA_VERSION"; then
        echo "broker.sh: installing noida-db==$NOIDA_VERSION into $venv" >&2
        "$venv/bin/python" -m pip install --quiet "noida-db==$NOIDA_VERSION"
    fi
}

# The package's console script runs the binary with subprocess.call, and SIGTERM to that Python
# wrapper would orphan the broker. Run the binary itself so the PID file holds the broker's PID.
broker_binary() {
    local binary
    binary="$("$venv/bin/python" -c \
        'from importlib.resources import files; print(files("noida_db").joinpath("noida-db"))')"
    [[ -f "$binary" ]] || die "noida-db binary not found at $binary"
    chmod +x "$binary"
    echo "$binary"
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

log_tail() {
    if [[ -f "$log_file" ]]; then
        echo "--- last lines of $log_file ---" >&2
        tail -n 30 "$log_file" >&2
    fi
}

# The TCP port opens before stored data is loaded, so readiness is a real metadata request.
wait_ready() {
    local addr pid deadline
    addr="$(address)"
    deadline=$((SECONDS + READY_TIMEOUT))
    until kcat -b "$addr" -L -m 1 >/dev/null 2>&1; do
        pid="$(running_pid)" || { log_tail; die "broker at $addr exited before it became ready"; }
        if ((SECONDS >= deadline)); then
            log_tail
            die "broker at $addr (pid $pid) not ready after ${READY_TIMEOUT}s"
        fi
        sleep 0.2
    done
}

start() {
    if running_pid >/dev/null; then
        wait_ready
        address
        return
    fi
    mkdir -p "$state"
    rm -rf "$state/data"
    mkdir -p "$state/data"
    free_port >"$port_file"
    : >"$log_file"
    launch
}

# Runs the broker on the port in $port_file with the data in $state/data.
launch() {
    command -v kcat >/dev/null || die "kcat is needed to check readiness (apt-get install kcat)"
    ensure_installed
    local binary port data pid
    binary="$(broker_binary)"
    data="$state/data"
    port="$(cat "$port_file")"
    # The broker keeps none of its launcher's descriptors beyond stdin, stdout and stderr: a
    # caller that waits for this script to end (or for a pipe it handed it to close) must not
    # wait for the broker too.
    (
        for fd in /proc/"$BASHPID"/fd/*; do
            fd="${fd##*/}"
            if ((fd > 2)); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
        done
        # Nor its signal state: a launcher that runs this script from a thread with SIGTERM
        # blocked or ignored (a test runner can) would hand that on, and `stop` could not stop it.
        exec "$venv/bin/python" -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_SETMASK, [])
for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(number, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$binary" start --only kafka --kafka-port "$port" --data-dir "$data" \
            >>"$log_file" 2>&1 </dev/null
    ) &
    pid=$!
    echo "$pid" >"$pid_file"
    wait_ready
    address
}

restart() {
    [[ -f "$port_file" && -d "$state/data" ]] || die "no broker has been started (run: ops/broker.sh start)"
    stop
    launch
}

stop() {
    local pid deadline
    if ! pid="$(running_pid)"; then
        rm -f "$pid_file"
        return
    fi
    kill -TERM "$pid"
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            die "broker (pid $pid) still running ${STOP_TIMEOUT}s after SIGTERM"
        fi
        sleep 0.2
    done
    rm -f "$pid_file"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) restart ;;
    wait)
        running_pid >/dev/null || die "no broker is running (run: ops/broker.sh start)"
        wait_ready
        ;;
    address)
        running_pid >/dev/null || die "no broker is running (run: ops/broker.sh start)"
        address
        ;;
    *)
        echo "usage: ops/broker.sh start|stop|restart|wait|address" >&2
        exit 2
        ;;
esac
