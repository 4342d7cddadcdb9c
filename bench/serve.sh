#!/usr/bin/env bash
# HLS serving throughput: with one live stream publishing, wrk hammers the live playlist, then
# one segment, of one server.
#
# Usage: bench/serve.sh <livehouse|nginx-rtmp>
#   BENCH_WRK_THREADS (2), BENCH_WRK_CONNECTIONS (1000), BENCH_WRK_DURATION (20s)
#
# Method: start the server, publish the sample (`ffmpeg -re -stream_loop -1 -c copy`), wait for
# 3 segments in the live playlist, then `wrk -t2 -c1000 -d20s --latency <playlist url>` and the
# same on the newest segment's URL (a ~650 KB MPEG-TS file that stays available for longer than
# the run on both servers: livehouse keeps it 26 s, nginx-rtmp's hls_cleanup about 24 s).
# wrk, the publisher and the server share the machine's cores. Non-2xx responses and socket
# errors are reported: a run with errors is not a clean result.
#
# Prints two lines: RESULT bench=serve server=... target=playlist|segment rps=... p50_ms=...
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || bench_die "usage: bench/serve.sh <livehouse|nginx-rtmp>"
server=$1
threads=${BENCH_WRK_THREADS:-2}
connections=${BENCH_WRK_CONNECTIONS:-1000}
wrk_duration=${BENCH_WRK_DURATION:-20s}
command -v wrk >/dev/null || bench_die "wrk not installed (scripts/install-deps.sh --bench)"

bench_require_sample
bench_raise_nofile
trap bench_cleanup EXIT

bench_server_start "$server"
line=$(bench_stream_new bench0)
read -r publish_url playlist_url <<<"$line"
bench_publish "$publish_url" "$srv_dir/ffmpeg.log"
bench_wait_playlist "$playlist_url" 3 60 ||
    bench_die "playlist $playlist_url did not reach 3 segments in 60 s ($(head -c 500 "$srv_dir/ffmpeg.log"))"

# wrk's latency figures in milliseconds, whatever unit wrk printed (us, ms, s).
parse_wrk() {
    awk 'function ms(v) {
             if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
             if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v + 0 }
         $1 == "50%" {p50 = ms($2)} $1 == "90%" {p90 = ms($2)} $1 == "99%" {p99 = ms($2)}
         /^Requests\/sec:/ {rps = $2}
         /^Transfer\/sec:/ {xfer = $2}
         /Non-2xx or 3xx responses:/ {non2xx = $NF}
         /Socket errors:/ {gsub(",", ""); errs = $4 + $6 + $8 + $10}
         / requests in / {reqs = $1}
         END {printf "requests=%d rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f transfer_per_s=%s non2xx=%d socket_errors=%d",
                     reqs, rps, p50, p90, p99, xfer, non2xx, errs}'
}

run_wrk() {
    local target=$1 url=$2 out c0 c1 t0 t1 bytes
    bytes=$(curl -s --fail --max-time 5 "$url" | wc -c)
    ((bytes > 0)) || bench_die "$url does not answer 200 before the run"
    bench_log "wrk -t$threads -c$connections -d$wrk_duration --latency $url ($bytes bytes)"
    c0=$(bench_server_cpu_ticks)
    t0=$(bench_now)
    out=$(wrk -t"$threads" -c"$connections" -d"$wrk_duration" --latency "$url" 2>&1) ||
        bench_die "wrk failed: $out"
    c1=$(bench_server_cpu_ticks)
    t1=$(bench_now)
    echo "$out" >"$srv_dir/wrk-$target.txt"
    echo "$out" >&2
    printf 'RESULT bench=serve server=%s target=%s body_bytes=%d connections=%d %s server_cpu_pct=%s load1=%s\n' \
        "$server" "$target" "$bytes" "$connections" "$(parse_wrk <<<"$out")" \
        "$(awk -v c0="$c0" -v c1="$c1" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" \
            'BEGIN {printf "%.0f", 100 * (c1 - c0) / hz / (t1 - t0)}')" "$(bench_load1)"
}

run_wrk playlist "$playlist_url"

# The newest segment: it stays downloadable longest on both servers.
segment_uri=$(curl -s --fail --max-time 5 "$playlist_url" | grep -v '^#' | grep -v '^[[:space:]]*$' | tail -n 1)
[[ -n $segment_uri ]] || bench_die "no segment URI in $playlist_url"
case $segment_uri in
http://* | https://*) segment_url=$segment_uri ;;
/*) segment_url="http://127.0.0.1:$srv_http_port$segment_uri" ;;
*) segment_url="${playlist_url%/*}/$segment_uri" ;;
esac
run_wrk segment "$segment_url"
