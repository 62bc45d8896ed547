#!/usr/bin/env bash
# The three published crates against the last release tag (`v*`), with cargo-semver-checks
# (installed from crates.io when missing): a change that breaks users' code must come with a
# version that says so. Nothing to compare before the first release or at the tag itself.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)
if [ -z "$tag" ]; then
    echo "semver-check: no release tag (v*) in this clone: nothing to compare against"
    exit 0
fi
if [ "$(git rev-parse "$tag^{commit}")" = "$(git rev-parse HEAD)" ]; then
    echo "semver-check: HEAD is $tag itself: nothing to compare"
    exit 0
fi
if ! cargo semver-checks --version >/dev/null 2>&1; then
    cargo install --locked --quiet cargo-semver-checks
fi
cargo semver-checks check-release --baseline-rev "$tag" \
    -p tonic-traced -p tonic-traced-macros -p tonic-traced-build
