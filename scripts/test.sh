#!/usr/bin/env bash
# Runs every test of the workspace. README's test command; .ci/run calls it too.
# Installs what the tests need first (nothing beyond Rust so far: protos compile without protoc).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-targets
cargo test --workspace --doc
