#!/usr/bin/env bash
# Installs what Loupe needs on a fresh Debian machine. Idempotent: run it as often as you like.
#   ops/bootstrap.sh          the C libraries Loupe links (librdkafka, LMDB, OpenBLAS) and kcat
#   ops/bootstrap.sh --test   also a Python venv (.venv) with the local Kafka-compatible broker
#                             and the JSON Schema checker the tests use
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(librdkafka-dev liblmdb-dev libopenblas-dev pkg-config kcat)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "bootstrap: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
    echo "bootstrap: swift is not on PATH; Loupe needs Swift 6 (https://www.swift.org/install/linux/)" >&2
    exit 1
fi

if [ "${1:-}" = "--test" ]; then
    venv="${LOUPE_VENV:-$PWD/.venv}"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    want="noida-db==0.2.3 jsonschema rfc3339-validator"
    if ! "$venv/bin/python" -c "import jsonschema, rfc3339_validator" 2>/dev/null || [ ! -x "$venv/bin/noida-db" ]; then
        echo "bootstrap: installing $want into $venv" >&2
        "$venv/bin/pip" install -q --disable-pip-version-check $want
    fi
fi
