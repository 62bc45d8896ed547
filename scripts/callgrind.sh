#!/usr/bin/env bash
# Instructions per call of the end-to-end comparison's servers, counted by callgrind
# (BENCHMARKS.md, "Instructions per call"): CPU times move by ~1 µs between runs, instruction
# counts do not. Per measurement: `e2e server --mode MODE` under callgrind, the load generator
# (4 concurrent calls, `traceparent` sent) for 3 s of warm-up, the counters zeroed, 6 s of
# load, the counters dumped; every thread's instructions (the span exporter's too) divided by
# the calls (or, for streams, messages) of those 6 s. The client side (`client:CALLER`): the load
# generator with each client mode under callgrind, calling a plain server, run for 3 s and for
# 9 s; the difference of the two runs' instructions over the difference of their calls leaves
# out start-up and shutdown.
#
#   scripts/callgrind.sh              # unary sampled and unsampled, streams, client; ~8 minutes
#   scripts/callgrind.sh unary:unsampled stream:sampled     # only these
#   scripts/callgrind.sh client:sampled client:unsampled    # the client side only
#   CG_MODES="plain traced" scripts/callgrind.sh            # only these server modes
#   CG_MESSAGES=1000 scripts/callgrind.sh stream:sampled    # longer streams: the per-call
#                                                           #   work spread thinner per message
#   E2E_BIN=path/to/e2e scripts/callgrind.sh                # an e2e built before (say, at
#                                                           #   another commit)
#
# Builds `e2e` in release with line tables into $CG_TARGET_DIR (default: target/callgrind
# under the target dir). One line per measurement on stdout:
#   MODE CALLER WORKLOAD calls=N messages=N Ir=N Ir/call=N Ir/msg=N
# and the dumps in $CG_DIR (default: a new temporary directory), for
# `callgrind_annotate --inclusive=yes DUMP`.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "callgrind: needs $tool (valgrind)" >&2; exit 1; }
done

exe="${E2E_BIN:-}"
if [ -z "$exe" ]; then
    target="${CG_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/callgrind}"
    CARGO_TARGET_DIR="$target" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
        cargo build --release -p tonic-traced-benches --bin e2e
    exe="$target/release/e2e"
fi
dir="${CG_DIR:-$(mktemp -d -t callgrind.XXXXXX)}"
mkdir -p "$dir"
messages="${CG_MESSAGES:-100}"

# Modes per workload: message events and totals matter only on streams.
unary_modes="${CG_MODES:-plain hand traced traced+metrics}"
stream_modes="${CG_MODES:-plain hand traced traced+events hand+totals traced+totals}"
# `plain+traceparent`: plain tonic whose caller writes the `traceparent` itself, the least any
# propagation can cost.
client_modes="${CG_MODES:-plain plain+traceparent hand traced traced+metrics}"

load() { # PORT WORKLOAD CALLER SECS
    "$exe" load --port "$1" --workload "$2" --caller "$3" --send-traceparent \
        --warmup 0 --secs "$4" --concurrency 4 --messages "$messages"
}

measure() { # MODE WORKLOAD CALLER
    local mode=$1 workload=$2 caller=$3
    local out="$dir/$mode.$workload.$caller"
    coproc SERVER {
        exec valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
            "$exe" server --mode "$mode" 2>"$out.log"
    }
    local pid=$SERVER_PID ready port
    read -r ready <&"${SERVER[0]}"
    port="${ready#ready port=}"
    load "$port" "$workload" "$caller" 3 >/dev/null
    callgrind_control -z "$pid" >/dev/null 2>&1
    local result
    result=$(load "$port" "$workload" "$caller" 6)
    callgrind_control -d "$pid" >/dev/null 2>&1
    # Closing its stdin ends the server.
    exec {SERVER[1]}>&-
    wait "$pid" || true
    local calls ir per_message
    calls=$(sed -n 's/.* total=\([0-9]*\).*/\1/p' <<<"$result")
    ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out.cg.1")
    per_message=$([ "$workload" = stream ] && echo "$messages" || echo 1)
    echo "$mode $caller $workload calls=$calls messages=$((calls * per_message)) Ir=$ir" \
        "Ir/call=$((ir / calls)) Ir/msg=$((ir / (calls * per_message)))"
}

client_load() { # PORT MODE CALLER SECS OUT: prints "CALLS INSTRUCTIONS"
    local result client=$2 header=()
    [ "$2" = plain+traceparent ] && client=plain header=(--send-traceparent)
    result=$(valgrind --tool=callgrind --callgrind-out-file="$5.cg" \
        "$exe" load --port "$1" --workload unary --caller "$3" --client "$client" \
        "${header[@]}" --warmup 0 --secs "$4" --concurrency 4 2>"$5.log")
    echo "$(sed -n 's/.* total=\([0-9]*\).*/\1/p' <<<"$result")" \
        "$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$5.cg")"
}

measure_client() { # MODE CALLER
    local mode=$1 caller=$2
    local out="$dir/client-$mode.unary.$caller"
    coproc SERVER { exec "$exe" server --mode plain 2>"$out.server.log"; }
    local pid=$SERVER_PID ready port
    read -r ready <&"${SERVER[0]}"
    port="${ready#ready port=}"
    local short long
    read -r -a short <<<"$(client_load "$port" "$mode" "$caller" 3 "$out.3s")"
    read -r -a long <<<"$(client_load "$port" "$mode" "$caller" 9 "$out.9s")"
    exec {SERVER[1]}>&-
    wait "$pid" || true
    local calls=$((long[0] - short[0])) ir=$((long[1] - short[1]))
    echo "client-$mode $caller unary calls=$calls messages=$calls Ir=$ir" \
        "Ir/call=$((ir / calls)) Ir/msg=$((ir / calls))"
}

runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(unary:sampled unary:unsampled stream:sampled client:sampled client:unsampled)
for run in "${runs[@]}"; do
    workload="${run%%:*}"
    caller="${run#*:}"
    case "$workload" in
        client) for mode in $client_modes; do measure_client "$mode" "$caller"; done ;;
        stream) for mode in $stream_modes; do measure "$mode" "$workload" "$caller"; done ;;
        *) for mode in $unary_modes; do measure "$mode" "$workload" "$caller"; done ;;
    esac
done
echo "callgrind: dumps in $dir" >&2
