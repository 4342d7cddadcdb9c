#!/usr/bin/env bash
# Installs what livehouse needs to build and test on Debian 12 (bookworm), and nothing that is
# already there: each package is checked with dpkg-query first, `apt-get update` runs once and
# only when something is missing, and then the root package.json's npm dependencies (hls.js for
# the watch page, playwright-core for the browser tests) are installed with `npm ci` when
# node_modules is missing or older than package-lock.json.
#
# Usage: scripts/install-deps.sh [--bench]
#   --bench  also install the side-by-side benchmark tools (nginx + libnginx-mod-rtmp, wrk).
#
# Runs apt-get through sudo when not root. Safe to run repeatedly (a no-op when all is present).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench=0
for arg in "$@"; do
    case "$arg" in
    --bench) bench=1 ;;
    -h | --help)
        sed -n '2,12p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "install-deps: unknown argument: $arg (try --help)" >&2
        exit 2
        ;;
    esac
done

log() { echo "install-deps: $*" >&2; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    log "this script installs Debian packages (dpkg/apt not found)."
    log "install by hand: CMake >= 3.25, Ninja, g++ 12, clang 14 (+ compiler-rt), Boost 1.74,"
    log "OpenSSL 3, fmt 9, spdlog 1.10, nlohmann-json 3.11, CLI11 2.1, toml++ 3.3, SQLite 3,"
    log "GoogleTest/GMock 1.12, ffmpeg, chromium, node >= 18 + npm."
    exit 1
fi

# The compiler-rt package (libFuzzer and the sanitizer runtimes) is only a Recommends of clang
# and its name carries clang's major version, so ask apt which clang-N `clang` points at.
clang_major=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
clang_major=${clang_major:-14}

packages=(
    cmake ninja-build g++ clang "libclang-rt-${clang_major}-dev" clang-format pkg-config
    libboost1.74-dev libssl-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
    libtomlplusplus-dev libsqlite3-dev libgtest-dev libgmock-dev libjemalloc-dev
    libhiredis-dev libpq-dev libpqxx-dev redis-server redis-tools postgresql
    ffmpeg chromium
)
if [[ $bench -eq 1 ]]; then
    packages+=(nginx libnginx-mod-rtmp wrk curl procps)
fi
# node + npm run the integration and browser tests. Only when `node` is missing: a node
# installed outside apt (e.g. NodeSource's, which bundles npm) conflicts with Debian's npm.
if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            log "missing packages (${missing[*]}) and not root, and sudo is not installed."
            exit 1
        fi
        sudo=(sudo)
    fi
    log "installing: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
    log "all ${#packages[@]} Debian packages present"
fi

# npm dependencies of the watch page and the browser tests (package.json at the repo root).
if [[ -f "$repo_root/package.json" ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        log "npm not found (node is installed without it): install npm, then run npm ci."
        exit 1
    fi
    if [[ ! -f "$repo_root/package-lock.json" ]]; then
        log "package-lock.json missing: skipping npm ci (run npm install to create it)"
    elif [[ ! -d "$repo_root/node_modules" ]] ||
        [[ ! -f "$repo_root/node_modules/.package-lock.json" ]] ||
        [[ "$repo_root/package-lock.json" -nt "$repo_root/node_modules/.package-lock.json" ]]; then
        log "npm ci (node_modules missing or older than package-lock.json)"
        (cd "$repo_root" && npm ci --no-audit --no-fund)
    else
        log "node_modules up to date"
    fi
fi
