#!/usr/bin/env bash
# The load tester (issue 7) against its anchor, in the same run, against the same livehouse
# node's status endpoint (GET /api/v1/broadcasts/{id}/status):
#   1. generator efficiency: wrk (-t1 -c BENCH_CONNECTIONS) and `livehouse stress` (constant-vus,
#      one event loop, the same connections) for BENCH_DURATION s each: requests/s, latency,
#      and requests per CPU-second of the generator itself (what "load per core" means when
#      the server is the limit on a shared machine);
#   2. memory per simulated HLS viewer: `livehouse stress` with BENCH_VIEWERS hls-viewers of a
#      live broadcast (ffmpeg, 320x240 testsrc at 100 kb/s, 2 s segments): the generator's peak
#      RSS divided by the viewers, and whether they stalled.
#
# Usage: bench/stress_bench.sh   (~2 min)
# Environment: BENCH_CONNECTIONS=100, BENCH_DURATION=10, BENCH_VIEWERS=10000,
# BENCH_VIEWER_SECONDS=30, LIVEHOUSE_BIN, BENCH_KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

connections=${BENCH_CONNECTIONS:-100}
duration=${BENCH_DURATION:-10}
viewers=${BENCH_VIEWERS:-10000}
viewer_seconds=${BENCH_VIEWER_SECONDS:-30}

for cmd in wrk ffmpeg curl; do
    command -v "$cmd" >/dev/null || bench_die "$cmd not found (scripts/install-deps.sh --bench)"
done
bench_raise_nofile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$BENCH_DIR"
work=$(mktemp -d "$BENCH_DIR/stress.XXXXXX")
cleanup() {
    bench_cleanup
    [[ -z ${BENCH_KEEP:-} ]] && rm -rf -- "$work"
    return 0
}
trap cleanup EXIT

bench_server_start livehouse
read -r publish_url playlist_url < <(bench_stream_new stress-bench)
id=$(basename "$(dirname "$playlist_url")")
bench_publish_testsrc "$publish_url" "$work/ffmpeg.log" 320x240 25 50 100k
bench_wait_playlist "$playlist_url" 3 40 || bench_die "the playlist never listed 3 segments"
status_url="http://127.0.0.1:$srv_http_port/api/v1/broadcasts/$id/status"

cpu_of() { # utime+stime seconds of a finished child, from /usr/bin/time's output file
    awk '/^user / { u = $2 } /^sys / { s = $2 } END { printf "%.2f", u + s }' "$1"
}

# --- 1. wrk ------------------------------------------------------------------------------------
TIMEFORMAT=$'real %R\nuser %U\nsys %S'
{ time wrk -t1 -c "$connections" -d "${duration}s" --latency "$status_url" >"$work/wrk.log" 2>&1; } 2>"$work/wrk.time"
wrk_rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$work/wrk.log")
wrk_p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.log")
wrk_requests=$(awk '/requests in/ { print $1 }' "$work/wrk.log")
wrk_cpu=$(cpu_of "$work/wrk.time")
echo "RESULT generator=wrk requests=$wrk_requests rps=$wrk_rps p99=$wrk_p99 cpu_s=$wrk_cpu load1=$(bench_load1)"

# --- 1. livehouse stress, the same closed model -------------------------------------------------
cat >"$work/status.toml" <<EOF
name = "status, closed model"
[vars]
broadcast = "$id"
vus = $connections
[[phases]]
executor = "constant-vus"
vus = "\${vus}"
duration = "\${duration}"
flow = "status"
[[flows.status]]
name = "status"
path = "/api/v1/broadcasts/\${broadcast}/status"
EOF
{ time "$LIVEHOUSE_BIN" stress "$work/status.toml" --quiet --no-server-metrics --threads 1 \
    --json "$work/status.json" --set "target=http://127.0.0.1:$srv_http_port" \
    --set "duration=${duration}s" >"$work/stress.log" 2>&1; } 2>"$work/stress.time"
# shellcheck disable=SC2016 # a JavaScript template literal, not shell
read -r st_requests st_rps st_p99 < <(bench_json_get \
    '`${j.steps.status.requests} ${j.steps.status.rps.toFixed(0)} ${(j.steps.status.latency.p99_us / 1000).toFixed(2)}ms`' \
    <"$work/status.json")
st_cpu=$(cpu_of "$work/stress.time")
echo "RESULT generator=livehouse-stress requests=$st_requests rps=$st_rps p99=$st_p99 cpu_s=$st_cpu load1=$(bench_load1)"

# --- 2. memory per HLS viewer ---------------------------------------------------------------------
cat >"$work/viewers.toml" <<EOF
name = "viewers, memory"
[vars]
broadcast = "$id"
viewers = $viewers
[[phases]]
executor = "hls-viewers"
viewers = "\${viewers}"
ramp = "10s"
duration = "\${duration}"
playlist = "/hls/\${broadcast}/index.m3u8"
EOF
"$LIVEHOUSE_BIN" stress "$work/viewers.toml" --quiet --no-server-metrics --threads 1 \
    --json "$work/viewers.json" --set "target=http://127.0.0.1:$srv_http_port" \
    --set "duration=${viewer_seconds}s" >"$work/viewers.log" 2>&1 &
stress_pid=$!
peak_kib=$(bench_peak_rss_kib "$stress_pid")
wait "$stress_pid" || true
# shellcheck disable=SC2016 # a JavaScript template literal, not shell
read -r v_started v_stalls v_segments < <(bench_json_get \
    '`${j.viewers.started} ${j.viewers.stalls} ${j.viewers.segments}`' <"$work/viewers.json")
per_viewer=$(awk -v k="$peak_kib" -v n="$viewers" 'BEGIN { printf "%.1f", k / n }')
echo "RESULT generator=livehouse-stress HLS_VIEWERS viewers=$viewers started=$v_started stalls=$v_stalls segments=$v_segments peak_rss_kib=$peak_kib kib_per_viewer=$per_viewer"

echo
echo "| generator | requests in ${duration} s | requests/s | p99 | generator CPU | requests per generator CPU-second |"
echo "|---|---|---|---|---|---|"
for row in "wrk $wrk_requests $wrk_rps $wrk_p99 $wrk_cpu" "livehouse-stress $st_requests $st_rps $st_p99 $st_cpu"; do
    read -r g r s p c <<<"$row"
    echo "| $g | $r | $s | $p | $c s | $(awk -v r="$r" -v c="$c" 'BEGIN { printf "%.0f", r / c }') |"
done
echo
echo "hls-viewers: $viewers viewers for ${viewer_seconds} s: $v_started started, $v_stalls stalls, $v_segments segments; peak RSS $((peak_kib / 1024)) MiB = $per_viewer KiB per viewer"
