#!/usr/bin/env bash
# Keeps the declared MSRV (`rust-version` in Cargo.toml's [workspace.package]) true with the one
# toolchain the machine has:
#   1. the dependency tree of the published crates (tonic-traced with all features,
#      tonic-traced-macros, tonic-traced-build; normal and build dependencies, every target
#      platform) resolved by Cargo.lock asks for no newer Rust than declared: every crate's own
#      `rust-version` is at most the declared one;
#   2. what a user on the declared version gets: a copy of the workspace with its lockfile
#      resolved afresh by cargo's MSRV-aware resolver
#      (CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback) passes the same check, and the three
#      crates build against it (`cargo clippy`, i.e. `cargo check`, plus clippy's
#      incompatible_msrv lint: no standard library item newer than the declared version).
# Prints what it checked; exits non-zero naming the crate that needs a newer Rust.
# Needs the crates.io index (step 2 resolves afresh). Takes about a minute with a warm target
# directory; a cold one builds the dependencies once (check mode).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
start=$SECONDS

declared=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ -z "$declared" ]; then
    echo "msrv: no rust-version in [workspace.package] of Cargo.toml" >&2
    exit 1
fi
echo "msrv: declared rust-version $declared"

# The highest `rust-version` over the normal+build dependency tree of the published crates, in
# the workspace at $1 with its Cargo.lock; fails naming every crate that asks for more than
# declared.
check_tree() {
    (cd "$1" && python3 - "$declared" "$2" <<'PY'
import json, subprocess, sys

declared, label = sys.argv[1], sys.argv[2]
published = [("tonic-traced", ["--all-features"]), ("tonic-traced-macros", []),
             ("tonic-traced-build", [])]

def ver(v):  # "1.85" and "1.85.0" are the same version
    return (tuple(int(x) for x in v.split(".")) + (0, 0))[:3]

def cargo(*args):
    return subprocess.run(["cargo", *args], check=True, capture_output=True, text=True).stdout

meta = json.loads(cargo("metadata", "--format-version", "1", "--locked"))
members = {p["name"]: p for p in meta["packages"] if p["id"] in meta["workspace_members"]}
rust_version = {(p["name"], p["version"]): p.get("rust_version") for p in meta["packages"]}

problems = []
for name, _ in published:
    own = members[name].get("rust_version")
    if own is None or ver(own) != ver(declared):
        problems.append(f"{name} declares rust-version {own}, not the workspace's {declared}")

tree = set()
for name, flags in published:
    out = cargo("tree", "--locked", "-p", name, *flags, "-e", "normal,build",
                "--target", "all", "--prefix", "none", "--format", "{p}")
    for line in out.splitlines():
        dep, version = line.split()[:2]
        if dep not in members:
            tree.add((dep, version.lstrip("v")))

declaring = sorted(((ver(rust_version[d]), rust_version[d], *d) for d in tree
                    if rust_version[d]), reverse=True)
top = declaring[0]
setters = [f"{n} {v}" for key, _, n, v in declaring if key == top[0]]
print(f"msrv: {label}: {len(tree)} crates in the tree, {len(declaring)} declare a "
      f"rust-version; highest {top[1]}: {', '.join(setters)}")
for key, rv, n, v in declaring:
    if key > ver(declared):
        problems.append(f"{n} {v} needs Rust {rv}")
if problems:
    for p in problems:
        print(f"msrv: error: {label}: {p}; declared rust-version is {declared}", file=sys.stderr)
    print("msrv: raise rust-version in Cargo.toml, or keep the dependency at a version that "
          "supports the declared one", file=sys.stderr)
    sys.exit(1)
PY
    )
}

check_tree "$root" "Cargo.lock"

# A copy of the workspace (the files a clone has, plus new ones not ignored), at a fixed place
# in the target directory so that its builds are reused from one run to the next.
work="$CARGO_TARGET_DIR/msrv/workspace"
rm -rf "$work"
mkdir -p "$work"
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | xargs -0 cp -p --parents -t "$work"
rm -f "$work/Cargo.lock"
(cd "$work" && CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo generate-lockfile 2>&1 \
    | sed -n 's/^ *Locking/msrv: MSRV-aware resolution: locking/p')
check_tree "$work" "MSRV-aware lockfile"

echo "msrv: building tonic-traced (all features), tonic-traced-macros, tonic-traced-build" \
    "against the MSRV-aware lockfile (clippy's incompatible_msrv lint denied)"
(cd "$work" && cargo clippy --locked --quiet -p tonic-traced --all-features \
    -p tonic-traced-macros -p tonic-traced-build -- -A clippy::all -D clippy::incompatible_msrv)

echo "msrv: rust-version $declared holds ($((SECONDS - start)) s)"
