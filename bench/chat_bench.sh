#!/usr/bin/env bash
# Chat fan-out (issue 4): one room of N anonymous WebSocket readers on livehouse, a few senders
# posting BENCH_RATE messages/s for BENCH_DURATION s, measured by bench/chat_load.cpp
# (livehouse_chat_load): deliveries/s, delivery latency p50/p90/p99/max, the server's RSS per
# idle connection, server and client CPU per million deliveries, skipped notices (must be 0).
#
# Each row gets a fresh server (so that the idle-memory figure is not memory freed by a previous
# row and reused) in a private temp dir on free loopback ports: [server] threads = 2, and [chat]
# limits that thin or refuse nothing (user_messages_per_minute and user_burst far above the
# rate, deliver_per_second above it): the bench is of fan-out, not of pacing.
#
# Descriptors: the server holds one per reader, so a row needs RLIMIT_NOFILE above N in the
# server process. The script raises the soft limit to the hard one; a row above what the hard
# limit allows (N + BENCH_FD_RESERVE) is run once at the largest N that fits and marked so, and
# the rows above it are listed as not run. The client spreads its readers over as many processes
# as its own limit needs. No sysctl is changed: the script prints the ones that matter
# (ip_local_port_range: the client binds 127.0.0.1..127.0.0.8 so ports do not run out;
# somaxconn: the ramp is paced; fs.nr_open).
#
# Builds nothing: expects build/src/server/livehouse and build/bench/livehouse_chat_load
# (cmake --build build --target livehouse livehouse_chat_load).
#
# Usage: bench/chat_bench.sh        (~1 min per row with the defaults)
# Environment: BENCH_CONNECTIONS="20000 50000", BENCH_RATE=100, BENCH_DURATION=20,
# BENCH_SENDERS=4, BENCH_RAMP=5000, BENCH_SOURCE_IPS=8, BENCH_CLIENT_THREADS=1,
# BENCH_SERVER_THREADS=2, BENCH_FD_RESERVE=100, BENCH_FLUSH_MS=100 ([chat] flush_interval_ms), LIVEHOUSE_BIN, LIVEHOUSE_CHAT_LOAD,
# BENCH_KEEP=1 (keep the server dirs). Prints RESULT lines (stderr: progress) and a markdown
# table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

connections_list=${BENCH_CONNECTIONS:-20000 50000}
rate=${BENCH_RATE:-100}
duration=${BENCH_DURATION:-20}
senders=${BENCH_SENDERS:-4}
ramp=${BENCH_RAMP:-5000}
source_ips=${BENCH_SOURCE_IPS:-8}
client_threads=${BENCH_CLIENT_THREADS:-1}
server_threads=${BENCH_SERVER_THREADS:-2}
fd_reserve=${BENCH_FD_RESERVE:-100}
flush_ms=${BENCH_FLUSH_MS:-100}
tool=${LIVEHOUSE_CHAT_LOAD:-$root/build/bench/livehouse_chat_load}

[[ -x $LIVEHOUSE_BIN ]] || bench_die "$LIVEHOUSE_BIN not built (cmake --build build --target livehouse)"
[[ -x $tool ]] || bench_die "$tool not built (cmake --build build --target livehouse_chat_load)"
command -v curl >/dev/null || bench_die "curl not found"

trap bench_cleanup EXIT
bench_raise_nofile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
fd_cap=$((nofile - fd_reserve))

bench_log "RLIMIT_NOFILE $nofile (hard $(ulimit -Hn)): at most $fd_cap readers per server process"
for s in net.ipv4.ip_local_port_range net.core.somaxconn fs.nr_open; do
    bench_log "$(sysctl "$s" 2>/dev/null || echo "$s: unreadable")"
done

# chat_server_start: a livehouse like bench_server_start's, with the chat bench's config.
chat_server_start() {
    mkdir -p "$BENCH_DIR"
    srv_dir=$(mktemp -d "$BENCH_DIR/run-chat.XXXXXX")
    srv_token="bench-$RANDOM$RANDOM$RANDOM"
    cat >"$srv_dir/livehouse.toml" <<EOF
[server]
threads = $server_threads

[log]
level = "warn"

[auth]
token_secret = "chat-bench-$RANDOM$RANDOM-0123456789abcdef0123456789abcdef"

[chat]
# Nothing thinned or refused: $rate messages/s from $senders users.
user_messages_per_minute = 6000000
user_burst = 1000000
deliver_per_second = 1000000
flush_interval_ms = $flush_ms
EOF
    bench_livehouse_spawn
    bench_log "livehouse up: pid $srv_pid, http 127.0.0.1:$srv_http_port, dir $srv_dir"
}

chat_broadcast_new() {
    local body
    body=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $srv_token" \
        -H 'Content-Type: application/json' -d '{"title":"chat bench"}' \
        "http://127.0.0.1:$srv_http_port/api/v1/broadcasts") ||
        bench_die "creating a broadcast failed: $body"
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$body"
}

# value <key> <RESULT line>
value() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

rows=()
capped=""
for requested in $connections_list; do
    n=$requested
    note=""
    if ((n > fd_cap)); then
        if [[ -n $capped ]]; then
            rows+=("| $requested | not run: RLIMIT_NOFILE $nofile (a $capped row was run at $fd_cap) | | | | | | | | | | | |")
            continue
        fi
        capped=$requested
        n=$fd_cap
        note=" (asked $requested; RLIMIT_NOFILE $nofile)"
    fi
    chat_server_start
    id=$(chat_broadcast_new)
    bench_log "row: $n readers$note, broadcast $id"
    set +e
    line=$("$tool" --port "$srv_http_port" --broadcast "$id" --connections "$n" \
        --ramp-per-second "$ramp" --source-ips "$source_ips" --threads "$client_threads" \
        --server-pid "$srv_pid" --rate "$rate" --duration "$duration" --senders "$senders" |
        grep '^RESULT ')
    rc=${PIPESTATUS[0]}
    set -e
    load=$(bench_load1)
    bench_server_stop
    [[ -z ${BENCH_KEEP:-} ]] && rm -rf -- "$srv_dir"
    srv_dir=""
    [[ -n $line ]] || bench_die "livehouse_chat_load printed no RESULT (exit $rc)"
    echo "$line load1=$load requested=$requested"
    clean="yes"
    ((rc == 0)) || clean="no (exit $rc)"
    rss_kb=$(awk -v b="$(value rss_per_conn_b "$line")" 'BEGIN { printf "%.2f", b / 1024 }')
    pss_kb=$(awk -v b="$(value pss_per_conn_b "$line")" 'BEGIN { printf "%.2f", b / 1024 }')
    rows+=("| $n$note | $(value opened "$line") / $(value failed "$line") | $(value deliveries_per_s "$line") | $(value p50_ms "$line") / $(value p90_ms "$line") / **$(value p99_ms "$line")** / $(value max_ms "$line") | $(value deliveries "$line") of $(value expected "$line") | **$rss_kb** / $pss_kb | $(value server_cpu_s_per_m "$line") | $(value client_cpu_s_per_m "$line") | $(value server_cpu_s "$line") s in $(value window_s "$line") s | $(value skipped_notices "$line") | $(value error_messages "$line") / $(value protocol_errors "$line") / $(value sender_errors "$line") | $clean | $load |")
done

echo
echo "machine: $(bench_machine), kernel $(uname -r)"
echo "livehouse [server] threads = $server_threads, [chat] flush_interval_ms = $flush_ms; $rate messages/s from $senders senders for ${duration} s; ramp $ramp/s over $source_ips source addresses; client threads $client_threads per process"
echo
echo "| readers | opened / failed | deliveries/s | latency ms p50 / p90 / p99 / max | delivered | server KiB per idle connection RSS / PSS | server CPU s per M deliveries | client CPU s per M | server CPU | skipped notices | errors: server msgs / protocol / sender | clean | load avg |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
