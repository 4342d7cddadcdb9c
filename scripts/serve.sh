#!/usr/bin/env bash
# README command 1: install what is missing, build the server (Release) into build/, and run
# `livehouse serve` in the foreground with any arguments passed through, e.g.
#
#   ./scripts/serve.sh                                  # RTMP :1935, HTTP :8080, data in ./data
#   ./scripts/serve.sh --host 192.168.1.20 --http-port 8081
#   ./scripts/serve.sh --config config/livehouse.example.toml
#
# Relative paths in the arguments are relative to the directory you run it from (the server's
# default data directory is ./data). Build output goes to stderr; Ctrl-C stops the server
# cleanly (live broadcasts are finalized into VOD playlists). LIVEHOUSE_JOBS sets the build's
# parallelism (default: the number of CPUs).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$repo_root/build"
jobs=${LIVEHOUSE_JOBS:-$(nproc)}

bash "$repo_root/scripts/install-deps.sh" >&2
echo "serve: configuring and building livehouse (Release) in $build" >&2
cmake -S "$repo_root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" --target livehouse -j "$jobs" >&2

exec "$build/src/server/livehouse" serve "$@"
