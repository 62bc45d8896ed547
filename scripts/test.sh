#!/usr/bin/env bash
# Runs every test of the workspace: README's test command, and what .ci/run calls.
# First installs what the tests need beyond Rust: the Python peer of the interop tests, the
# validators of deploy/ and the Prometheus server (protos themselves compile without protoc).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the real Prometheus server that examples/tests/{prometheus,dropped_spans}.rs
# scrape the examples with, and its promtool, which docs-check/tests/prometheus_rules.rs checks
# the docs' rules and queries with; curl and jq, which
# tests/tests/{jaeger_queries,collector_tiers}.rs query Jaeger and the collectors with
# (docs/finding-calls.md's commands use both).
packages=()
command -v prometheus >/dev/null || packages+=(prometheus)
command -v curl >/dev/null || packages+=(curl)
command -v jq >/dev/null || packages+=(jq)
if [ "${#packages[@]}" -gt 0 ]; then
    as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        as_root=(sudo)
    fi
    # The package's postinst would start its service; a container has no init to run it with,
    # so while installing, a policy-rc.d (unless one is already there) denies service starts.
    policy=/usr/sbin/policy-rc.d
    made_policy=false
    if [ ! -e "$policy" ]; then
        made_policy=true
        trap '"${as_root[@]}" rm -f "$policy"' EXIT
        printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
        "${as_root[@]}" chmod +x "$policy"
    fi
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    if "$made_policy"; then
        "${as_root[@]}" rm -f "$policy"
        trap - EXIT
    fi
fi

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    -r tests/python/requirements.txt
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    -r tests/python/deploy-requirements.txt

# Go, for the otelgrpc peer of tests/tests/go_interop.rs and the OpenTelemetry Collector and
# Jaeger of tests/tests/{jaeger_queries,collector_tiers}.rs (built from tests/go, tests/collector
# and tests/jaeger with `go build`, cached in Go's default caches): nothing to install when it
# is on the machine; where PATH lacks it, the tarball's /usr/local/go/bin.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
    export PATH="$PATH:/usr/local/go/bin"
fi

# Java 17 and Maven, for the grpc-java peer of tests/tests/java_interop.rs (which builds it with
# `mvn -q package`, its dependencies cached in ~/.m2): on the machine already, nothing to install.

# docs-check/ is part of the workspace: its tests check the docs' TOML and proto blocks and run
# the commands they show; its doctests (`--doc`) are every Rust block of README.md and docs/.
cargo test --workspace --all-targets
cargo test --workspace --doc
# The core alone, as a team with its own OpenTelemetry pipeline builds it: built on its own,
# so that no other package's features are unified into it.
cargo test -p tonic-traced --no-default-features --all-targets
cargo test -p tonic-traced-lean-example
