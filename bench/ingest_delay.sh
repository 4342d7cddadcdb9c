#!/usr/bin/env bash
# Ingest-to-playlist delay of one server: one publish of the sample, the time from the keyframe
# that closes each segment leaving the publisher to the segment appearing in the live playlist.
# The measurement itself is bench/ingest_delay.mjs (method in its header).
#
# Usage: bench/ingest_delay.sh <livehouse|nginx-rtmp>
#   BENCH_DELAY_SECONDS  publish length (default 40 -> about 19 segments measured)
#   BENCH_POLL_MS        playlist poll interval (default 10; the delay's resolution)
#
# Prints one line: RESULT bench=delay server=... delay_mean_ms=... (per-segment figures on stderr),
# with server_delay_* from the server's hls_playlist_delay_seconds histogram when it has one.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || bench_die "usage: bench/ingest_delay.sh <livehouse|nginx-rtmp>"
server=$1

bench_require_sample
trap bench_cleanup EXIT

bench_server_start "$server"
line=$(bench_stream_new delay0)
read -r publish_url playlist_url <<<"$line"
node "$bench_root/ingest_delay.mjs" --server "$server" --rtmp "$publish_url" \
    --playlist "$playlist_url" --sample "$SAMPLE" --seconds "${BENCH_DELAY_SECONDS:-40}" \
    --poll-ms "${BENCH_POLL_MS:-10}"
