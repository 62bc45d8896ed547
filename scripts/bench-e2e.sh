#!/usr/bin/env bash
# The end-to-end load comparison (BENCHMARKS.md, "End-to-end load"): real tonic servers over
# loopback TCP pinned to core 0, one per mode (plain tonic, hand-written OpenTelemetry,
# tonic-tracing-opentelemetry, tonic-traced with and without RPC metrics and, on streams, with
# message events or message totals instead of message spans, and the hand-written floor of
# totals), a closed-loop load generator pinned to core 1,
# modes interleaved round after round; then the client side, and a sweep of paced sampled
# streams for the batch span processor's default queue.
#
#   scripts/bench-e2e.sh                 # ~9 minutes on 2 cores, prints a Markdown report
#   scripts/bench-e2e.sh --rounds 5      # more rounds (any `e2e run` option; see
#                                        #   benches/src/bin/e2e/main.rs)
#   E2E_SWEEP= scripts/bench-e2e.sh      # without the queue sweep
#   E2E_SWEEP= scripts/bench-e2e.sh --streams-only --modes traced,traced+totals --messages 1000
#                                        # long streams only, plain and these server modes
#   OTEL_BSP_MAX_QUEUE_SIZE=65536 scripts/bench-e2e.sh   # every batch span processor's queue
#
# The report goes to stdout and to $E2E_OUT (default: bench-e2e.md in the target dir);
# progress, one line per measurement, to stderr and to $E2E_OUT with .log for .md.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v taskset >/dev/null; then
    echo "bench-e2e: needs taskset (util-linux) to pin the server and the load generator" >&2
    exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "bench-e2e: needs at least 2 cores (server on core 0, load generator on core 1)" >&2
    exit 1
fi

cargo build --release -p tonic-traced-benches --bin e2e
target="${CARGO_TARGET_DIR:-target}"
out="${E2E_OUT:-$target/bench-e2e.md}"
log="${out%.md}.log"
sweep="${E2E_SWEEP-500,1000,2000,3000,4000}"

{
    echo "At \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- . || echo ' (with local changes)'), $(date -u +%Y-%m-%d), \`scripts/bench-e2e.sh $*\`:"
    echo
    "$target/release/e2e" run ${sweep:+--sweep "$sweep"} "$@" 2> >(tee "$log" >&2)
} | tee "$out"
echo "bench-e2e: report written to $out, measurements to $log" >&2
