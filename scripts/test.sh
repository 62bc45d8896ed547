#!/usr/bin/env bash
# Runs every test of the workspace: README's test command, and what .ci/run calls.
# First installs what the tests need beyond Rust: the Python peer of the interop tests and
# the validators of deploy/ (protos themselves compile without protoc).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    -r tests/python/requirements.txt
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    -r tests/python/deploy-requirements.txt

cargo test --workspace --all-targets
cargo test --workspace --doc
