#!/usr/bin/env bash
# Love (issue 5): wrk posting love batches (bench/love_wrk.lua: distinct viewers' tokens, new
# batch ids, 5 taps each) to one livehouse node with a live broadcast, on the embedded backend
# and on a private redis-server, BENCH_CONNECTIONS connections for BENCH_DURATION s: requests/s,
# latency p50/p90/p99/max, non-200 answers, server CPU, and on Redis the commands it ran per
# request (INFO commandstats: client commands, and those the scripts ran). In the same run, the
# anchor: nginx answering the same POSTs with a fixed 200 (`return 200`), the HTTP ceiling of
# this machine for this request with this client.
#
# The node: [server] threads = BENCH_SERVER_THREADS (2), [love] limits that trim nothing
# (taps_per_second and burst_taps far above the load: the bench is of counting, not of the
# anti-cheat), a known [auth] token_secret so the script mints BENCH_VIEWERS HS256 tokens itself
# (node's crypto) instead of asking the guest endpoint (rate limited per address). ffmpeg
# publishes bench/sample (make_sample.sh) so the broadcast is live.
#
# Usage: bench/love_bench.sh      (~2 min)
# Environment: BENCH_CONNECTIONS=1000, BENCH_DURATION=20, BENCH_WRK_THREADS=2,
# BENCH_SERVER_THREADS=2, BENCH_VIEWERS=10000, BENCH_BACKENDS="embedded redis", LIVEHOUSE_BIN,
# BENCH_KEEP=1, BENCH_LOVE_EXTRA (more [love] lines, e.g. "flush_interval_ms = 5"). Prints RESULT lines and a markdown table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

connections=${BENCH_CONNECTIONS:-1000}
duration=${BENCH_DURATION:-20}
wrk_threads=${BENCH_WRK_THREADS:-2}
server_threads=${BENCH_SERVER_THREADS:-2}
viewers=${BENCH_VIEWERS:-10000}
backends=${BENCH_BACKENDS:-embedded redis}
secret="love-bench-secret-0123456789abcdef0123456789abcdef"

for cmd in wrk nginx redis-server redis-cli node ffmpeg curl; do
    command -v "$cmd" >/dev/null || bench_die "$cmd not found (scripts/install-deps.sh --bench)"
done
[[ -x $LIVEHOUSE_BIN ]] || bench_die "$LIVEHOUSE_BIN not built (cmake --build build --target livehouse)"
bench_require_sample
bench_raise_nofile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mkdir -p "$BENCH_DIR"
work=$(mktemp -d "$BENCH_DIR/love.XXXXXX")
redis_pid="" nginx_pid=""
cleanup() {
    bench_cleanup
    [[ -n $redis_pid ]] && { kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; }
    [[ -n $nginx_pid ]] && { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
    [[ -z ${BENCH_KEEP:-} ]] && rm -rf -- "$work"
    return 0
}
trap cleanup EXIT

# HS256 tokens ({"sub","name","exp"}, as services/auth mints them), as a Lua list.
SECRET=$secret N=$viewers node -e '
const crypto = require("crypto");
const b64u = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const head = b64u({alg: "HS256", typ: "JWT"});
const exp = Math.floor(Date.now() / 1000) + 86400;
const out = ["return {"];
for (let i = 0; i < Number(process.env.N); i++) {
  const input = `${head}.${b64u({sub: `bench-${i}`, name: `viewer ${i}`, exp})}`;
  const sig = crypto.createHmac("sha256", process.env.SECRET).update(input).digest("base64url");
  out.push(`"${input}.${sig}",`);
}
out.push("}");
require("fs").writeFileSync(process.argv[1], out.join("\n"));
' "$work/tokens.lua"

redis_calls() { # client commands and all commands (scripts' included) so far; the love script
    # runs LPOS LPUSH LTRIM EXPIRE ZINCRBY HINCRBY INCRBY (state/redis/redis_love_counts.cpp)
    redis-cli -p "$redis_port" INFO commandstats | tr -d '\r' | awk -F'[=,:]' '
        /^cmdstat_/ { all += $3; if ($1 != "cmdstat_lpos" && $1 != "cmdstat_lpush" &&
                      $1 != "cmdstat_ltrim" && $1 != "cmdstat_expire" &&
                      $1 != "cmdstat_zincrby" && $1 != "cmdstat_incrby" &&
                      $1 != "cmdstat_hincrby") client += $3 }
        END { printf "%d %d\n", client, all }'
}

run_wrk() { # url -> the LOVE_WRK line
    LOVE_TOKENS=$work/tokens.lua LOVE_POS=${love_pos:-1} wrk -t "$wrk_threads" -c "$connections" \
        -d "${duration}s" --timeout 5s -s "$here/love_wrk.lua" "$1" 2>&1 | tee "$work/wrk.log" |
        grep '^LOVE_WRK ' || bench_die "wrk printed no result: $(tail -5 "$work/wrk.log")"
}

value() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
applies() { # love_applies_total of the node: state-backend writes so far
    curl -s "http://127.0.0.1:$srv_http_port/metrics" | awk '$1 == "love_applies_total" { print $2 }'
}
rows=()

# --- the anchor: nginx returning a fixed 200 to the same POSTs ---------------------------------
nginx_port=$(bench_free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $server_threads;
$([[ $(id -u) -eq 0 ]] && echo "user root;")
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    server {
        listen 127.0.0.1:$nginx_port reuseport backlog=4096;
        keepalive_requests 1000000;
        location / {
            default_type application/json;
            return 200 '{"accepted":5,"duplicate":false,"total":0}';
        }
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx/out.log" 2>&1 &
nginx_pid=$!
for ((i = 0; i < 50; i++)); do bench_port_open "$nginx_port" && break; sleep 0.1; done
bench_log "anchor: nginx return 200 on $nginx_port"
line=$(run_wrk "http://127.0.0.1:$nginx_port/api/v1/broadcasts/x/love")
echo "RESULT server=nginx-return-200 $line load1=$(bench_load1)"
rows+=("| nginx \`return 200\` (anchor) | $(value requests "$line") in $(value duration_s "$line") s: **$(awk -v r="$(value requests "$line")" -v d="$(value duration_s "$line")" 'BEGIN{printf "%.0f", r/d}')** | $(value p50_ms "$line") / $(value p90_ms "$line") / **$(value p99_ms "$line")** / $(value max_ms "$line") | $(value non200 "$line") / $(value errors "$line") | | | | $(bench_load1) |")
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""

for backend in $backends; do
    srv_dir=$(mktemp -d "$BENCH_DIR/run-love.XXXXXX")
    srv_token="bench-$RANDOM$RANDOM$RANDOM"
    redis_line=""
    if [[ $backend == redis ]]; then
        redis_port=$(bench_free_port)
        redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save '' \
            --appendonly no >"$work/redis.log" 2>&1 &
        redis_pid=$!
        for ((i = 0; i < 50; i++)); do bench_port_open "$redis_port" && break; sleep 0.1; done
        redis_line="redis = \"127.0.0.1:$redis_port\""
    fi
    cat >"$srv_dir/livehouse.toml" <<CONF
[server]
threads = $server_threads

[log]
level = "warn"

[auth]
token_secret = "$secret"

[state]
$redis_line

[love]
taps_per_second = 1000
burst_taps = 100000
${BENCH_LOVE_EXTRA:-}
CONF
    bench_livehouse_spawn
    body=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $srv_token" \
        -H 'Content-Type: application/json' -d '{"title":"love bench"}' \
        "http://127.0.0.1:$srv_http_port/api/v1/broadcasts")
    id=$(bench_json_get 'j.id' <<<"$body")
    key=$(bench_json_get 'j.stream_key' <<<"$body")
    bench_publish "rtmp://127.0.0.1:$srv_rtmp_port/live/$key" "$srv_dir/ffmpeg.log"
    for ((i = 0; i < 100; i++)); do
        st=$(curl -s "http://127.0.0.1:$srv_http_port/api/v1/broadcasts/$id/status")
        [[ $(bench_json_get 'j.status' <<<"$st") == live ]] && break
        sleep 0.2
    done
    love_pos=$(bench_json_get 'Math.max(1, j.position)' <<<"$st")
    bench_log "$backend: livehouse pid $srv_pid, broadcast $id live at $love_pos s"
    calls0=""
    [[ $backend == redis ]] && calls0=$(redis_calls)
    applies0=$(applies)
    cpu0=$(bench_server_cpu_ticks)
    line=$(run_wrk "http://127.0.0.1:$srv_http_port/api/v1/broadcasts/$id/love")
    cpu1=$(bench_server_cpu_ticks)
    applies1=$(applies)
    per_apply=$(awk -v a=$((applies1 - applies0)) -v r="$(value requests "$line")" \
        -v d="$(value duration_s "$line")" 'BEGIN { printf "%.0f/s, %.1f batches each", a / d, r / a }')
    total=$(curl -s "http://127.0.0.1:$srv_http_port/api/v1/broadcasts/$id/love")
    per_req=""
    if [[ $backend == redis ]]; then
        read -r c1 a1 <<<"$(redis_calls)"
        read -r c0 a0 <<<"$calls0"
        per_req=$(awk -v c=$((c1 - c0)) -v a=$((a1 - a0)) -v r="$(value requests "$line")" \
            'BEGIN { printf "%.4f client / %.2f with the scripts'\'' own", c / r, a / r }')
    fi
    cpu_s=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
    echo "RESULT server=livehouse backend=$backend $line server_cpu_s=$cpu_s total=$(bench_json_get 'j.total' <<<"$total") redis_per_request=\"$per_req\" applies=\"$per_apply\" load1=$(bench_load1)"
    rps=$(awk -v r="$(value requests "$line")" -v d="$(value duration_s "$line")" 'BEGIN{printf "%.0f", r/d}')
    rows+=("| livehouse, $backend | $(value requests "$line") in $(value duration_s "$line") s: **$rps** | $(value p50_ms "$line") / $(value p90_ms "$line") / **$(value p99_ms "$line")** / $(value max_ms "$line") | $(value non200 "$line") / $(value errors "$line") | $cpu_s s | $per_apply | ${per_req:-—} | $(bench_load1) |")
    bench_stop_publishers
    bench_server_stop
    [[ -z ${BENCH_KEEP:-} ]] && rm -rf -- "$srv_dir"
    srv_dir=""
    if [[ -n $redis_pid ]]; then
        kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""
    fi
done

echo
echo "machine: $(bench_machine), kernel $(uname -r)"
echo "wrk -t$wrk_threads -c$connections -d${duration}s, $viewers viewers' tokens, 5 taps per batch; livehouse [server] threads = $server_threads"
echo
echo "| server | requests/s | latency ms p50 / p90 / p99 / max | non-200 / socket errors | server CPU | state-backend applies | Redis commands per request | load avg |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
