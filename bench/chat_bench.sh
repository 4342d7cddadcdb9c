#!/usr/bin/env bash
# A chat flood with `livehouse stress` (issue 7's chat_client actor) against one livehouse node:
# BENCH_CLIENTS clients in one room, BENCH_SENDERS of them sending BENCH_SEND_RATE messages/s
# each (under the room's 30/s delivery cap and the 1/s per-user limit), for BENCH_DURATION s.
# Reports: clients joined, messages acked, deliveries (== acked x clients when nothing is
# lost), delivery latency (sender's clock -> receiver's), the generator's peak RSS per client,
# the server's CPU. No anchor here: the figure says what the actor and the room do at scale.
#
# Usage: bench/chat_bench.sh   (~1 min)
# Environment: BENCH_CLIENTS=5000 BENCH_SENDERS=50 BENCH_SEND_RATE=0.5 BENCH_DURATION=30
# BENCH_RAMP=10s, LIVEHOUSE_BIN, BENCH_KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

clients=${BENCH_CLIENTS:-5000}
senders=${BENCH_SENDERS:-50}
send_rate=${BENCH_SEND_RATE:-0.5}
duration=${BENCH_DURATION:-30}
ramp=${BENCH_RAMP:-10s}
secret="chat-bench-secret-$RANDOM$RANDOM-0123456789abcdef0123456789"

bench_raise_nofile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$BENCH_DIR"
work=$(mktemp -d "$BENCH_DIR/chat.XXXXXX")
cleanup() {
    bench_cleanup
    [[ -z ${BENCH_KEEP:-} ]] && rm -rf -- "$work"
    return 0
}
trap cleanup EXIT

srv_kind=livehouse
srv_dir=$(mktemp -d "$BENCH_DIR/run-livehouse.XXXXXX")
srv_token="bench-$RANDOM$RANDOM$RANDOM"
cat >"$srv_dir/livehouse.toml" <<CONF
[log]
level = "warn"

[auth]
token_secret = "$secret"
CONF
bench_livehouse_spawn
read -r _ playlist_url < <(bench_stream_new chat-bench)
id=$(basename "$(dirname "$playlist_url")")
bench_log "livehouse pid $srv_pid, broadcast $id"

cpu0=$(bench_server_cpu_ticks)
"$LIVEHOUSE_BIN" stress "$here/../scenarios/chat_flood.toml" --quiet --threads 1 \
    --json "$work/chat.json" --set "target=http://127.0.0.1:$srv_http_port" \
    --set "broadcast=$id" --set "token_secret=$secret" --set "clients=$clients" \
    --set "senders=$senders" --set "send_rate=$send_rate" --set "ramp=$ramp" \
    --set "duration=${duration}s" >"$work/stress.log" 2>&1 &
stress_pid=$!
peak_kib=$(bench_peak_rss_kib "$stress_pid")
verdict=0
wait "$stress_pid" || verdict=$?
cpu1=$(bench_server_cpu_ticks)
# shellcheck disable=SC2016 # JavaScript template literals, not shell
read -r joined sent acked delivered skipped disconnects p50 p99 max < <(bench_json_get \
    '`${j.chat.joined} ${j.chat.sent} ${j.chat.acked} ${j.chat.delivered} ${j.chat.skipped} ${j.chat.disconnects} ${(j.chat.delivery.p50_us / 1000).toFixed(1)} ${(j.chat.delivery.p99_us / 1000).toFixed(1)} ${(j.chat.delivery.max_us / 1000).toFixed(1)}`' \
    <"$work/chat.json")
ticks=$(getconf CLK_TCK)
server_cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$ticks" 'BEGIN { printf "%.1f", (b - a) / t }')
per_client=$(awk -v k="$peak_kib" -v n="$clients" 'BEGIN { printf "%.1f", k / n }')
echo "RESULT clients=$clients joined=$joined senders=$senders sent=$sent acked=$acked delivered=$delivered expected=$((acked * joined)) skipped=$skipped disconnects=$disconnects delivery_p50_ms=$p50 delivery_p99_ms=$p99 delivery_max_ms=$max generator_peak_rss_kib=$peak_kib kib_per_client=$per_client server_cpu_s=$server_cpu verdict_exit=$verdict"
grep -E '^(chat|server|PASSED|FAILED)' "$work/stress.log" || true
