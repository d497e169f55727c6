# Sourced by every script: one place for the paths and tool locations the project relies on.
# shellcheck shell=bash

KEYSTONE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KEYSTONE_ROOT

# Build artefacts live outside the clone so that a fresh clone (CI's) reuses what an earlier build
# compiled; a cold machine simply builds from scratch. Set CARGO_TARGET_DIR to override.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/keystone-dashboard/target}"
# Incremental caches are per source path: with one target folder shared by many clones they grew
# by gigabytes per clone until the disk filled. Whole-crate rebuilds cost seconds more.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# cargo-installed tools, then npm's binaryen (`wasm-opt`): Debian's binaryen 108 builds a WASM
# that fails to hydrate, so ours must come first on PATH.
export PATH="$KEYSTONE_ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# Versions the toolchain is pinned to (see ../shared/toolchain.md for why these).
CARGO_LEPTOS_VERSION="0.3.10"
CARGO_FUZZ_VERSION="0.13.2"
LEPTOSFMT_VERSION="0.1.33"
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$KEYSTONE_ROOT/Cargo.lock")"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
fail() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }
