#!/usr/bin/env bash
# Chat fan-out (issue 4): one room of N anonymous WebSocket readers on livehouse, a few senders
# posting BENCH_RATE messages/s for BENCH_DURATION s, measured by bench/chat_load.cpp
# (livehouse_chat_load): deliveries/s, delivery latency p50/p90/p99/max, the server's RSS per
# idle connection, server and client CPU per million deliveries, skipped notices (must be 0).
#
# Each row gets fresh servers (so that the idle-memory figure is not memory freed by a previous
# row and reused) in a private temp dir on free loopback ports: [server] threads = 2, and [chat]
# limits that thin or refuse nothing (user_messages_per_minute and user_burst far above the
# rate, deliver_per_second above it): the bench is of fan-out, not of pacing.
#
# Descriptors: a server holds one per reader, so one process takes at most RLIMIT_NOFILE -
# BENCH_FD_RESERVE readers (the script raises the soft limit to the hard one). A row above that
# runs on as many nodes as it needs (BENCH_NODES forces a count): a private redis-server, the
# first node owning the broadcast, the others taking its room as chat-only nodes
# ([chat] accept_unknown_broadcasts), readers spread over the nodes round-robin, senders on the
# first; memory and CPU are the nodes' sums (redis-server's CPU is not in them). The client
# spreads its readers over as many processes as its own limit needs. No sysctl is changed: the
# script prints the ones that matter (ip_local_port_range: the client binds 127.0.0.1..127.0.0.8
# so ports do not run out; somaxconn: the ramp is paced; fs.nr_open).
#
# Builds nothing: expects build/src/server/livehouse and build/bench/livehouse_chat_load
# (cmake --build build --target livehouse livehouse_chat_load).
#
# Usage: bench/chat_bench.sh        (~1 min per row with the defaults)
# Environment: BENCH_CONNECTIONS="20000 50000", BENCH_RATE=100, BENCH_DURATION=20,
# BENCH_SENDERS=4, BENCH_RAMP=5000, BENCH_SOURCE_IPS=8, BENCH_CLIENT_THREADS=1,
# BENCH_SERVER_THREADS=2 (per node), BENCH_FD_RESERVE=100, BENCH_FLUSH_MS=100 ([chat]
# flush_interval_ms), BENCH_NODES (default: as the descriptor limit needs), LIVEHOUSE_BIN,
# LIVEHOUSE_CHAT_LOAD, BENCH_KEEP=1 (keep the server dirs). Prints RESULT lines (stderr: progress) and a markdown
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

trap 'chat_nodes_stop; bench_cleanup' EXIT
bench_raise_nofile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
fd_cap=$((nofile - fd_reserve))

bench_log "RLIMIT_NOFILE $nofile (hard $(ulimit -Hn)): at most $fd_cap readers per server process"
for s in net.ipv4.ip_local_port_range net.core.somaxconn fs.nr_open; do
    bench_log "$(sysctl "$s" 2>/dev/null || echo "$s: unreadable")"
done

# chat_node_start <redis address or ""> <accept unknown broadcasts: true|false>: one livehouse
# like bench_server_start's, with the chat bench's config; appends to node_pids, node_ports,
# node_dirs.
chat_node_start() {
    mkdir -p "$BENCH_DIR"
    srv_dir=$(mktemp -d "$BENCH_DIR/run-chat.XXXXXX")
    cat >"$srv_dir/livehouse.toml" <<EOF
[server]
threads = $server_threads

[log]
level = "warn"

[auth]
token_secret = "$node_secret"

[state]
redis = "$1"

[chat]
# Nothing thinned or refused: $rate messages/s from $senders users.
user_messages_per_minute = 6000000
user_burst = 1000000
deliver_per_second = 1000000
flush_interval_ms = $flush_ms
accept_unknown_broadcasts = $2
EOF
    bench_livehouse_spawn
    bench_log "livehouse up: pid $srv_pid, http 127.0.0.1:$srv_http_port, redis '$1', dir $srv_dir"
    node_pids+=("$srv_pid")
    node_ports+=("$srv_http_port")
    node_dirs+=("$srv_dir")
    srv_pid=""
    srv_dir=""
}

# chat_nodes_start <n>: n nodes; with n > 1 they share a private redis-server (the first owns
# the broadcast, the others take its room as chat-only nodes). Sets srv_token and srv_http_port
# (the first node's).
node_pids=() node_ports=() node_dirs=() redis_pid="" redis_dir=""
chat_nodes_start() {
    node_pids=() node_ports=() node_dirs=()
    srv_token="bench-$RANDOM$RANDOM$RANDOM"
    node_secret="chat-bench-$RANDOM$RANDOM-0123456789abcdef0123456789abcdef"
    local redis=""
    if (($1 > 1)); then
        command -v redis-server >/dev/null || bench_die "redis-server not found (scripts/install-deps.sh)"
        mkdir -p "$BENCH_DIR"
        redis_dir=$(mktemp -d "$BENCH_DIR/run-redis.XXXXXX")
        local redis_port
        redis_port=$(bench_free_port)
        redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --save '' \
            --appendonly no >"$redis_dir/redis.log" 2>&1 &
        redis_pid=$!
        local i
        for ((i = 0; i < 50; i++)); do
            bench_port_open "$redis_port" && break
            sleep 0.1
        done
        bench_port_open "$redis_port" || bench_die "redis-server did not start"
        redis="127.0.0.1:$redis_port"
    fi
    local k
    for ((k = 0; k < $1; k++)); do
        if ((k == 0)); then chat_node_start "$redis" false; else chat_node_start "$redis" true; fi
    done
    srv_http_port=${node_ports[0]}
}

chat_nodes_stop() {
    local p
    for p in "${node_pids[@]}"; do
        srv_pid=$p
        bench_server_stop
    done
    if [[ -n $redis_pid ]]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    if [[ -z ${BENCH_KEEP:-} ]]; then
        rm -rf -- "${node_dirs[@]}" ${redis_dir:+"$redis_dir"}
    fi
    node_pids=() node_dirs=() redis_pid="" redis_dir=""
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
for requested in $connections_list; do
    n=$requested
    # As many nodes as the descriptor limit needs (or BENCH_NODES), sharing the room via Redis.
    nodes=${BENCH_NODES:-$(((n + fd_cap - 1) / fd_cap))}
    ((n <= nodes * fd_cap)) || bench_die "$n readers need more than $nodes nodes of $fd_cap descriptors"
    note=""
    ((nodes > 1)) && note=" on $nodes nodes + Redis"
    chat_nodes_start "$nodes"
    id=$(chat_broadcast_new)
    bench_log "row: $n readers$note, broadcast $id"
    pid_args=()
    for p in "${node_pids[@]}"; do pid_args+=(--server-pid "$p"); done
    ports=$(IFS=,; echo "${node_ports[*]}")
    set +e
    line=$("$tool" --port "$srv_http_port" --reader-ports "$ports" --broadcast "$id" \
        --connections "$n" --ramp-per-second "$ramp" --source-ips "$source_ips" \
        --threads "$client_threads" "${pid_args[@]}" --rate "$rate" --duration "$duration" \
        --senders "$senders" | grep '^RESULT ')
    rc=${PIPESTATUS[0]}
    set -e
    load=$(bench_load1)
    chat_nodes_stop
    [[ -n $line ]] || bench_die "livehouse_chat_load printed no RESULT (exit $rc)"
    echo "$line load1=$load requested=$requested nodes=$nodes"
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
