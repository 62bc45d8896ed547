#!/usr/bin/env bash
# The soak: hostile and huge traffic against payment-server and order-server on loopback —
# collector refused or silent under load, 3.5 MB annotated fields with and without an
# attribute value limit (and with tracing off, for comparison), streams cancelled by the
# client — then a table of calls, failures, server memory and spans received. Loopback only;
# not part of scripts/test.sh.
#
# Nine phases of SOAK_SECONDS each (default 40: about six and a half minutes after the
# build); SOAK_SECONDS=10 for a quick look. Builds the servers and the soak (release) first.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p tonic-traced-examples \
    --bin payment-server --bin order-server --example soak

# The soak kills each server when its phase ends; if the soak itself is interrupted, the
# servers whose process ids are still in the work folder are ended here.
work=$(mktemp -d)
soak=
cleanup() {
    if [ -n "$soak" ]; then
        kill "$soak" 2>/dev/null || true
        wait "$soak" 2>/dev/null || true
    fi
    for pid_file in "$work"/*.pid; do
        if [ -e "$pid_file" ]; then
            kill "$(cat "$pid_file")" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cargo run --quiet --release -p tonic-traced-examples --example soak -- "$work" &
soak=$!
status=0
wait "$soak" || status=$?
soak=
exit "$status"
