# Shared by the project's scripts (source it): paths, logging, toolchain detection.
# Build output is cached outside the clone so fresh clones and CI reuse it.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${OPENVLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openvle}"
TOOLS="$CACHE/tools"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
# Incremental artefacts only help an editor's rebuild loop; in these scripts
# they grew to tens of gigabytes. A cache that has grown past the limit is
# dropped and rebuilt rather than left to fill the disk.
export CARGO_INCREMENTAL=0
# Checked once per run, by the first script: scripts/test calls setup and build,
# and a cache dropped between the test build and the app build would cost a
# second cold compile in the same run (one full test run alone grows it by ~35 GB).
CACHE_LIMIT_GB="${OPENVLE_CACHE_LIMIT_GB:-40}"
if [ -z "${OPENVLE_CACHE_CHECKED:-}" ] && [ -d "$CARGO_TARGET_DIR" ] \
    && [ "$(du -s --block-size=1G "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1)" -gt "$CACHE_LIMIT_GB" ]; then
    printf '==> build cache over %s GB: starting it afresh\n' "$CACHE_LIMIT_GB" >&2
    rm -rf "$CARGO_TARGET_DIR"
fi
export OPENVLE_CACHE_CHECKED=1
# The browser bundle may be built by another compiler (Debian's rustc-web);
# its own target directory keeps the two from invalidating each other.
WASM_TARGET_DIR="${OPENVLE_WASM_TARGET_DIR:-$CACHE/target-wasm}"
SITE="$ROOT/target/site"
# The wasm-bindgen CLI must match the crate exactly; the pin lives in Cargo.toml.
WASM_BINDGEN_VERSION="$(sed -nE 's/^wasm-bindgen = "=([0-9.]+)".*/\1/p' "$ROOT/Cargo.toml")"
export PATH="$TOOLS/bin:$PATH"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Root runs apt-get directly; others through sudo when it is there.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

APT_UPDATED=""
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "please install: ${missing[*]}"
    log "installing ${missing[*]}"
    if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# How to build wasm32 here: "rustup" when its wasm32 target is installed,
# otherwise "debian" (rustc-web + rust-web-src + lld, building std from source).
wasm_toolchain() {
    if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
        echo rustup
    else
        echo debian
    fi
}

# Runs cargo for the wasm32 target with whichever toolchain wasm_toolchain chose.
wasm_cargo() {
    if [ "$(wasm_toolchain)" = rustup ]; then
        CARGO_TARGET_DIR="$WASM_TARGET_DIR" cargo "$@" --target wasm32-unknown-unknown
    else
        CARGO_TARGET_DIR="$WASM_TARGET_DIR" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
            CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
            /usr/bin/cargo "$@" -Z build-std=std,panic_abort --target wasm32-unknown-unknown
    fi
}
