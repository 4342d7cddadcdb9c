#!/usr/bin/env bash
# Issue 7's audience goal — 100,000 simulated HLS viewers in under 4 GB — run for real on one
# machine. A machine's per-process open-file limit (20,000 here) caps any one process, so the
# viewers run on BENCH_WORKERS `livehouse stress --worker` processes driven by one coordinator
# (the histograms merged exactly), and watch through BENCH_EDGES livehouse edges in front of
# one origin (the scenario's connect_to: viewer i to edge i mod n, every request naming the
# origin as its Host), each edge holding its share of the connections. The connections come
# from BENCH_LOCAL_IPS (the scenario's local_ips; 127.0.0.0/8 is all loopback): from one source
# address, Linux's connect() walks every port already used to the same server, and at 100,000
# viewers that walk was 90 % of the generators' CPU (tools/stress/endpoints.hpp).
#
# The broadcast: ffmpeg, 160x120 testsrc at 10 fps and BENCH_BITRATE (default 16k), cut into
# BENCH_SEGMENT_MS segments (default 6000, Apple's recommended 6 s) so that 2 shared cores can
# also serve 100,000 players: each loads a playlist and a segment per segment duration.
#
# Measured: the sum of the workers' VmRSS, sampled every 0.5 s (its peak ÷ viewers is the memory
# per viewer), the coordinator's peak RSS, and the viewers' started / stalls / segments.
#
# Usage: bench/audience_bench.sh   (~2.5 min with the defaults)
# Environment: BENCH_VIEWERS=100000, BENCH_WORKERS=6, BENCH_EDGES=6, BENCH_RAMP=50,
# BENCH_WATCH=30 (seconds after the last join), BENCH_SEGMENT_MS=6000, BENCH_BITRATE=16k,
# BENCH_LOCAL_IPS=127.0.0.2-127.0.0.33 (empty: every connection from 127.0.0.1),
# LIVEHOUSE_BIN, BENCH_KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BENCH_SEGMENT_MS=${BENCH_SEGMENT_MS:-6000}
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

viewers=${BENCH_VIEWERS:-100000}
workers=${BENCH_WORKERS:-6}
edges=${BENCH_EDGES:-6}
ramp=${BENCH_RAMP:-50}
watch=${BENCH_WATCH:-30}
bitrate=${BENCH_BITRATE:-16k}
local_ips=${BENCH_LOCAL_IPS:-127.0.0.2-127.0.0.33}

for cmd in ffmpeg curl; do
    command -v "$cmd" >/dev/null || bench_die "$cmd not found (scripts/install-deps.sh --bench)"
done
bench_raise_nofile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
per_process=$(((viewers + workers - 1) / workers))
((per_process + 64 < $(ulimit -n))) ||
    bench_die "$per_process viewers per worker do not fit in $(ulimit -n) open files: raise BENCH_WORKERS"
((viewers / edges + 64 < $(ulimit -n))) ||
    bench_die "$((viewers / edges)) connections per edge do not fit in $(ulimit -n) open files: raise BENCH_EDGES"
mkdir -p "$BENCH_DIR"
work=$(mktemp -d "$BENCH_DIR/audience.XXXXXX")
side_pids=()
cleanup() {
    bench_kill_wait "${side_pids[@]}"
    bench_cleanup
    [[ -z ${BENCH_KEEP:-} ]] && rm -rf -- "$work"
    return 0
}
trap cleanup EXIT

# --- the origin and its broadcast --------------------------------------------------------------
bench_server_start livehouse
read -r publish_url playlist_url < <(bench_stream_new audience-bench)
id=$(basename "$(dirname "$playlist_url")")
gop=$((BENCH_SEGMENT_MS * 10 / 1000))
bench_publish_testsrc "$publish_url" "$work/ffmpeg.log" 160x120 10 "$gop" "$bitrate"
bench_wait_playlist "$playlist_url" 3 $((BENCH_SEGMENT_MS * 5 / 1000 + 10)) ||
    bench_die "the playlist never listed 3 segments"

# --- the edges -----------------------------------------------------------------------------------
edge_addresses=()
for ((e = 0; e < edges; e++)); do
    port=$(bench_free_port)
    cat >"$work/edge-$e.toml" <<EOF
[server]
role = "edge"
threads = 1
[edge]
upstream = "http://127.0.0.1:$srv_http_port"
[log]
level = "warn"
EOF
    "$LIVEHOUSE_BIN" serve --config "$work/edge-$e.toml" --bind 127.0.0.1 --http-port "$port" \
        --data-dir "$work/edge-$e-data" >"$work/edge-$e.log" 2>&1 &
    side_pids+=($!)
    edge_addresses+=("127.0.0.1:$port")
done
for a in "${edge_addresses[@]}"; do
    for ((i = 0; i < 100; i++)); do
        bench_port_open "${a##*:}" && break
        sleep 0.1
    done
    bench_port_open "${a##*:}" || bench_die "edge $a did not open its port: $(cat "$work"/edge-*.log)"
done

# --- the workers ---------------------------------------------------------------------------------
worker_pids=()
worker_addresses=()
for ((w = 0; w < workers; w++)); do
    "$LIVEHOUSE_BIN" stress --worker --listen 127.0.0.1:0 >"$work/worker-$w.log" 2>&1 &
    worker_pids+=($!)
    side_pids+=($!)
done
for ((w = 0; w < workers; w++)); do
    for ((i = 0; i < 100; i++)); do
        line=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/worker-$w.log" || true)
        [[ -n $line ]] && break
        sleep 0.1
    done
    [[ -n $line ]] || bench_die "worker $w did not listen: $(cat "$work/worker-$w.log")"
    worker_addresses+=("${line#listening on }")
done

# --- the audience ----------------------------------------------------------------------------------
cat >"$work/audience.toml" <<EOF
name = "audience, memory"
[vars]
broadcast = "$id"
viewers = $viewers
ramp = "${ramp}s"
[[phases]]
executor = "hls-viewers"
viewers = "\${viewers}"
ramp = "\${ramp}"
duration = "\${duration}"
playlist = "/hls/\${broadcast}/index.m3u8"
[thresholds]
hls_stalls = ["count == 0"]
hls_viewers_started = ["count == \${viewers}"]
EOF
bench_log "$viewers viewers on $workers workers through $edges edges: ramp ${ramp} s, watch ${watch} s"
"$LIVEHOUSE_BIN" stress "$work/audience.toml" --no-server-metrics --threads 1 \
    --workers "$(IFS=,; echo "${worker_addresses[*]}")" --json "$work/audience.json" \
    --set "target=http://127.0.0.1:$srv_http_port" \
    --set "connect_to=$(IFS=,; echo "${edge_addresses[*]}")" --set "local_ips=$local_ips" \
    --set "duration=$((ramp + watch))s" >"$work/audience.log" 2>&1 &
coordinator_pid=$!
peak_kib=0
peak_coordinator_kib=0
peak_edges_kib=0
while kill -0 "$coordinator_pid" 2>/dev/null; do
    # The three groups sampled together, every 0.5 s: each its own peak.
    rss=$(bench_rss_kib "${worker_pids[@]}")
    ((rss > peak_kib)) && peak_kib=$rss
    rss=$(bench_rss_kib "$coordinator_pid")
    ((rss > peak_coordinator_kib)) && peak_coordinator_kib=$rss
    rss=$(bench_rss_kib "${side_pids[@]:0:edges}")
    ((rss > peak_edges_kib)) && peak_edges_kib=$rss
    sleep 0.5
done
code=0
wait "$coordinator_pid" || code=$?
[[ -s $work/audience.json ]] || bench_die "no report (exit $code): $(tail -20 "$work/audience.log")"
# shellcheck disable=SC2016 # a JavaScript template literal, not shell
read -r v_joined v_started v_stalls v_segments v_startup_p99 < <(bench_json_get \
    '`${j.viewers.joined} ${j.viewers.started} ${j.viewers.stalls} ${j.viewers.segments} ${(j.viewers.startup.p99_us / 1000).toFixed(0)}ms`' \
    <"$work/audience.json")
# shellcheck disable=SC2016 # a JavaScript template literal, not shell
read -r pl_p99 seg_p99 failed < <(bench_json_get \
    '`${(j.steps.playlist.latency.p99_us / 1000).toFixed(0)}ms ${(j.steps.segment.latency.p99_us / 1000).toFixed(0)}ms ${Object.values(j.steps).reduce((n, x) => n + x.failed, 0)}`' \
    <"$work/audience.json")
per_viewer=$(awk -v k="$peak_kib" -v n="$viewers" 'BEGIN { printf "%.1f", k / n }')
# Where the 2 cores went (the workers and edges are still up; the origin with its publisher).
cpu_s() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz }'; }
workers_cpu=$(cpu_s "$(bench_cpu_ticks_of "${worker_pids[@]}")")
edges_cpu=$(cpu_s "$(bench_cpu_ticks_of "${side_pids[@]:0:edges}")")
origin_cpu=$(cpu_s "$(bench_server_cpu_ticks)")
grep -E '^(PASSED|FAILED)' "$work/audience.log" || true
echo "RESULT generator=livehouse-stress AUDIENCE viewers=$viewers workers=$workers edges=$edges joined=$v_joined started=$v_started stalls=$v_stalls segments=$v_segments startup_p99=$v_startup_p99 playlist_p99=$pl_p99 segment_p99=$seg_p99 failed=$failed workers_peak_rss_kib=$peak_kib kib_per_viewer=$per_viewer coordinator_peak_rss_kib=$peak_coordinator_kib edges_peak_rss_kib=$peak_edges_kib cpu_s_workers=$workers_cpu cpu_s_edges=$edges_cpu cpu_s_origin=$origin_cpu exit=$code load1=$(bench_load1)"
echo
echo "hls-viewers: $viewers viewers ($workers workers, $edges edges) for $((ramp + watch)) s: $v_started started, $v_stalls stalls, $v_segments segments, start-up p99 $v_startup_p99; workers' peak RSS $((peak_kib / 1024)) MiB = $per_viewer KiB per viewer (coordinator $((peak_coordinator_kib / 1024)) MiB; the edges $((peak_edges_kib / 1024)) MiB); CPU: workers $workers_cpu s, edges $edges_cpu s, origin $origin_cpu s"
