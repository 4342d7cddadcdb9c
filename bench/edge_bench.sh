#!/usr/bin/env bash
# Edge tier (issue 6): a livehouse origin with one live broadcast (ffmpeg publishing
# bench/sample), and in front of it, side by side in the same run:
#   - livehouse --role edge (BENCH_SERVER_THREADS event loops)
#   - the anchor: nginx with proxy_cache (the same number of workers), proxy_cache_lock on
#     (nginx's request coalescing) and proxy_cache_use_stale updating + background update
#     (its stale-while-revalidate), honouring the origin's Cache-Control.
# Three measurements per cache:
#   1. flash crowd: BENCH_CROWD (1000) clients ask for a segment neither cache has, all at once
#      (bench/edge_crowd.mjs): requests that reached the origin, time to the last full body;
#   2. hot segment: wrk -c BENCH_CONNECTIONS for BENCH_DURATION s on one cached segment:
#      requests/s, latency p50/p99, transfer rate;
#   3. hot playlist: the same on the live playlist (max-age=1): requests/s, p99, and the
#      requests that reached the origin per second.
# Origin requests come from the origin's own http_requests_total{route="origin.hls"}.
#
# Usage: bench/edge_bench.sh   (~2 min; wrk shares the 2 cores with the cache under test)
# Environment: BENCH_CONNECTIONS=1000, BENCH_DURATION=10, BENCH_WRK_THREADS=2,
# BENCH_SERVER_THREADS=2, BENCH_CROWD=1000, BENCH_CACHES="livehouse-edge nginx-proxy-cache" (the
# order they run in), LIVEHOUSE_BIN, BENCH_KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

connections=${BENCH_CONNECTIONS:-1000}
duration=${BENCH_DURATION:-10}
wrk_threads=${BENCH_WRK_THREADS:-2}
server_threads=${BENCH_SERVER_THREADS:-2}
crowd=${BENCH_CROWD:-1000}

for cmd in wrk nginx node ffmpeg curl; do
    command -v "$cmd" >/dev/null || bench_die "$cmd not found (scripts/install-deps.sh --bench)"
done
bench_require_sample
bench_raise_nofile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mkdir -p "$BENCH_DIR"
work=$(mktemp -d "$BENCH_DIR/edge.XXXXXX")
edge_pid="" nginx_pid=""
cleanup() {
    # shellcheck disable=SC2086 # unset ones are empty words, dropped
    bench_kill_wait $edge_pid $nginx_pid
    bench_cleanup
    [[ -z ${BENCH_KEEP:-} ]] && rm -rf -- "$work"
    return 0
}
trap cleanup EXIT

# --- the origin, live ------------------------------------------------------------------------
bench_server_start livehouse
origin_port=$srv_http_port
read -r publish_url playlist_url < <(bench_stream_new edge-bench)
bench_publish "$publish_url" "$work/ffmpeg.log"
playlist_path=${playlist_url#http://127.0.0.1:"$origin_port"}
hls_dir=${playlist_path%/index.m3u8}
bench_wait_playlist "$playlist_url" 3 40 || bench_die "the origin's playlist never listed 3 segments"

origin_hls() { # requests the origin answered on its HLS route so far
    curl -s "http://127.0.0.1:$origin_port/metrics" |
        awk '/^http_requests_total\{/ && /route="origin.hls"/ { s += $2 } END { print s + 0 }'
}
newest_segment() {
    curl -s "http://127.0.0.1:$origin_port$playlist_path" | grep '^seg-' | tail -1
}
wait_new_segment() { # waits until the newest segment is not $1; prints it
    local s
    for ((i = 0; i < 100; i++)); do
        s=$(newest_segment)
        [[ -n $s && $s != "$1" ]] && { echo "$s"; return; }
        sleep 0.1
    done
    bench_die "no new segment in 10 s"
}

# --- the caches ------------------------------------------------------------------------------
edge_port=$(bench_free_port)
cat >"$work/edge.toml" <<EOF
[server]
role = "edge"
threads = $server_threads
[edge]
upstream = "http://127.0.0.1:$origin_port"
[log]
level = "warn"
EOF
"$LIVEHOUSE_BIN" serve --config "$work/edge.toml" --bind 127.0.0.1 --http-port "$edge_port" \
    --data-dir "$work/edge-data" >"$work/edge.log" 2>&1 &
edge_pid=$!

nginx_port=$(bench_free_port)
mkdir -p "$work/nginx/logs" "$work/nginx/cache"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $server_threads;
$([[ $(id -u) -eq 0 ]] && echo "user root;")
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    proxy_temp_path $work/nginx/tmp;
    # In memory as far as nginx goes: a cache zone on tmpfs-like storage is the usual HLS setup.
    proxy_cache_path $work/nginx/cache levels=1:2 keys_zone=hls:16m max_size=256m inactive=10m;
    upstream origin { server 127.0.0.1:$origin_port; keepalive 64; }
    server {
        listen 127.0.0.1:$nginx_port reuseport backlog=4096;
        keepalive_requests 1000000;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache hls;
            proxy_cache_key \$uri;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_cache_valid 404 1s;
        }
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx/out.log" 2>&1 &
nginx_pid=$!
for ((i = 0; i < 100; i++)); do
    bench_port_open "$edge_port" && bench_port_open "$nginx_port" && break
    sleep 0.1
done
bench_port_open "$edge_port" || bench_die "the edge did not start: $(cat "$work/edge.log")"
bench_port_open "$nginx_port" || bench_die "nginx did not start: $(cat "$work/nginx/logs/error.log")"

run_wrk() { # url -> "rps p50_ms p99_ms transfer"
    wrk -t "$wrk_threads" -c "$connections" -d "${duration}s" --timeout 5s --latency "$1" \
        >"$work/wrk.log" 2>&1 || bench_die "wrk failed: $(tail -5 "$work/wrk.log")"
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                         if (v ~ /s$/) return v * 1000; return v }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        $1 == "Requests/sec:" { rps = $2 } $1 == "Transfer/sec:" { tr = $2 }
        /Non-2xx/ { bad = $NF }
        END { printf "%.0f %.2f %.2f %s %d\n", rps, p50, p99, tr, bad }' "$work/wrk.log"
}

rows=()
last_seg=""
for cache in ${BENCH_CACHES:-livehouse-edge nginx-proxy-cache}; do
    port=$edge_port
    [[ $cache == nginx-proxy-cache ]] && port=$nginx_port
    # 1. flash crowd on a segment this cache has never seen
    seg=$(wait_new_segment "$last_seg")
    last_seg=$seg
    before=$(origin_hls)
    crowd_line=$(node "$here/edge_crowd.mjs" "http://127.0.0.1:$port$hls_dir/$seg" "$crowd")
    after=$(origin_hls)
    crowd_origin=$((after - before))
    echo "RESULT cache=$cache CROWD $crowd_line origin_requests=$crowd_origin"
    # the same crowd again, now that the segment is stored: what coalescing itself costs
    warm_line=$(node "$here/edge_crowd.mjs" "http://127.0.0.1:$port$hls_dir/$seg" "$crowd")
    echo "RESULT cache=$cache WARM_CROWD $warm_line"
    # 2. hot segment
    hot=$(run_wrk "http://127.0.0.1:$port$hls_dir/$seg")
    echo "RESULT cache=$cache HOT_SEGMENT $hot load1=$(bench_load1)"
    # 3. hot playlist
    before=$(origin_hls)
    pl=$(run_wrk "http://127.0.0.1:$port$playlist_path")
    after=$(origin_hls)
    per_s=$(awk -v d="$((after - before))" -v t="$duration" 'BEGIN { printf "%.1f", d / t }')
    echo "RESULT cache=$cache HOT_PLAYLIST $pl origin_per_s=$per_s load1=$(bench_load1)"
    read -r h_rps h_p50 h_p99 h_tr h_bad <<<"$hot"
    read -r p_rps p_p50 p_p99 _ p_bad <<<"$pl"
    rows+=("| $cache | cold: $crowd_line, origin requests **$crowd_origin**; stored: $warm_line | **$h_rps** req/s, p50 $h_p50 / p99 **$h_p99** ms, $h_tr/s, non-2xx $h_bad | **$p_rps** req/s, p50 $p_p50 / p99 $p_p99 ms, non-2xx $p_bad, origin **$per_s** req/s |")
done

echo
echo "| cache | flash crowd ($crowd clients, one cold segment) | hot segment (wrk -c$connections, ${duration} s) | hot playlist (max-age=1) |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
