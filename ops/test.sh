#!/usr/bin/env bash
# Runs every Loupe test: installs what is missing, checks the topic schemas and examples,
# starts the local Kafka-compatible broker, runs the Swift test suites against both log
# backends, and stops the broker again. Usage: ops/test.sh [swift test options, e.g. --filter X]
set -euo pipefail
cd "$(dirname "$0")/.."

ops/bootstrap.sh --test
venv="${LOUPE_VENV:-$PWD/.venv}"

echo "== build (warnings are errors)" >&2
build_log=$(mktemp)
if ! swift build --build-tests 2>&1 | tee "$build_log"; then
    exit 1
fi
if grep -E "^$PWD/(Sources|Tests)/.*: warning:" "$build_log"; then
    echo "test: the build has warnings (above); Loupe builds without warnings" >&2
    exit 1
fi

echo "== release build of loupe and loupe-bench (the process tests run them)" >&2
for product in loupe loupe-bench; do
    if ! swift build -c release --product "$product" >"$build_log" 2>&1; then
        cat "$build_log" >&2
        exit 1
    fi
    tail -1 "$build_log"
done
rm -f "$build_log"
LOUPE_BIN="$PWD/.build/release/loupe"
export LOUPE_BIN

echo "== module layers: every import runs one way (docs/architecture.md)" >&2
"$venv/bin/python" ops/check-imports.py --self-test

echo "== topic schemas and examples" >&2
"$venv/bin/python" ops/check-schemas.py

echo "== broker" >&2
ops/broker.sh start
# The tests' stores, logs and files go under one directory of this run, removed at the end.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/loupe-tests.XXXXXX")
trap 'ops/broker.sh stop; rm -rf "$scratch"' EXIT
LOUPE_TEST_BROKERS=$(ops/broker.sh address)
export LOUPE_TEST_BROKERS

echo "== swift test (Kafka at $LOUPE_TEST_BROKERS)" >&2
TMPDIR="$scratch" swift test --skip-build "$@"
