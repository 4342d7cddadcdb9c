#!/usr/bin/env bash
# Shared state, Redis backend: livehouse's Redis client (through the state interfaces, with
# bench/state_bench.cpp's livehouse_state_bench) against redis-benchmark on the same private
# redis-server in the same run, for pipelined INCRBY and ZINCRBY; plus the embedded backend on
# the same operations, and reserve + confirm on both backends (no redis-benchmark equivalent).
#
# The server runs like redis-benchmark is normally run: no RDB snapshots, no append-only file
# (--save '' --appendonly no), so what is measured is the command path, not the disk.
# redis-benchmark gets -c clients × -P pipelined commands; livehouse_state_bench gets
# --clients × --pipeline calls in flight (over its one client connection, as in the server).
# Each round runs redis-benchmark then livehouse on one operation, so both see the same load
# from whatever else runs on the machine; the table carries the load average.
#
# Usage: bench/state_bench.sh            (~1-2 min with the defaults on 2 cores)
# Environment: LIVEHOUSE_STATE_BENCH (default build-bench/bench/livehouse_state_bench, then
# build/bench/...), BENCH_REQUESTS=1000000, BENCH_CLIENTS=50, BENCH_PIPELINE=16,
# BENCH_ROUNDS=2, BENCH_RESERVE_REQUESTS=100000 (0: skip reserve), BENCH_EMBEDDED_THREADS=nproc,
# BENCH_CONNECTIONS=1 (livehouse Redis clients; each has its own connection and thread).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

requests=${BENCH_REQUESTS:-1000000}
clients=${BENCH_CLIENTS:-50}
pipeline=${BENCH_PIPELINE:-16}
rounds=${BENCH_ROUNDS:-2}
reserve_requests=${BENCH_RESERVE_REQUESTS:-100000}
embedded_threads=${BENCH_EMBEDDED_THREADS:-$(nproc)}
connections=${BENCH_CONNECTIONS:-1}

tool=${LIVEHOUSE_STATE_BENCH:-}
if [[ -z $tool ]]; then
    for candidate in "$root/build-bench/bench/livehouse_state_bench" \
        "$root/build/bench/livehouse_state_bench"; do
        if [[ -x $candidate ]]; then
            tool=$candidate
            break
        fi
    done
fi
[[ -n $tool && -x $tool ]] ||
    bench_die "livehouse_state_bench not built (ninja -C build-bench livehouse_state_bench)"
for cmd in redis-server redis-benchmark redis-cli jq; do
    command -v "$cmd" >/dev/null || bench_die "$cmd not found"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/livehouse-state-bench.XXXXXX")
redis_pid=""
stop() {
    if [[ -n $redis_pid ]]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    rm -rf -- "$work"
}
trap stop EXIT

port=$(bench_free_port)
redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
    --protected-mode no --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 500); do
    bench_port_open "$port" && break
    sleep 0.01
done
bench_port_open "$port" || bench_die "redis-server did not start ($(tail -n 5 "$work/redis.log"))"

# CPU ticks of the redis-server (utime + stime), and of the finished children of process $1
# (cutime + cstime): the runs below are called in $(...), so that is the subshell ($BASHPID)
# that runs and waits for the client.
server_ticks() { awk '{print $14 + $15}' "/proc/$redis_pid/stat"; }
children_ticks() { awk '{print $16 + $17}' "/proc/$1/stat"; }
# CPU µs per request from <ticks> <requests>: unlike ops/s, it hardly moves when other jobs take
# turns on the same cores (they take wall time, not this process's CPU time).
us_per_op() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz / n * 1e6 }'; }

# One measured run: "<ops/s> <p99 ms> <client CPU µs/op> <server CPU µs/op>" on stdout.
# run_redis_benchmark <n> <command...>
run_redis_benchmark() {
    local n=$1 me=$BASHPID s0 c0 csv
    shift
    s0=$(server_ticks)
    c0=$(children_ticks "$me")
    csv=$(redis-benchmark -p "$port" -c "$clients" -P "$pipeline" -n "$n" --csv "$@" | tail -n 1)
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
    # "p99_latency_ms","max_latency_ms"
    echo "$csv" | awk -F'","' -v c="$(us_per_op $(($(children_ticks "$me") - c0)) "$n")" \
        -v s="$(us_per_op $(($(server_ticks) - s0)) "$n")" '{ print $2, $7, c, s }'
}

# run_livehouse <backend> <op> <n> <key> [extra args...]; leaves the JSON in $work/last.json.
run_livehouse() {
    local backend=$1 op=$2 n=$3 key=$4 me=$BASHPID s0 c0
    shift 4
    s0=$(server_ticks)
    c0=$(children_ticks "$me")
    "$tool" --backend "$backend" --redis "127.0.0.1:$port" --op "$op" --requests "$n" \
        --clients "$clients" --pipeline "$pipeline" --key "$key" "$@" >"$work/last.json"
    jq -r --arg c "$(us_per_op $(($(children_ticks "$me") - c0)) "$n")" \
        --arg s "$(us_per_op $(($(server_ticks) - s0)) "$n")" \
        '"\(.ops_per_s | floor) \(.p99_ms * 1000 | round / 1000) \($c) \($s)"' "$work/last.json"
    [[ $(jq -r .errors "$work/last.json") == 0 ]] ||
        bench_die "livehouse_state_bench: errors: $(cat "$work/last.json")"
}

redis_command() {
    case $1 in
    incrby) echo "INCRBY bench:k 1" ;;
    zincrby) echo "ZINCRBY bench:z 1 member" ;;
    esac
}

bench_log "redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port; $tool"
bench_log "warm-up (100k requests each, not reported)"
for op in incrby zincrby; do
    # shellcheck disable=SC2046 # the command's words are meant to split
    run_redis_benchmark 100000 $(redis_command $op) >/dev/null
    run_livehouse redis "$op" 100000 "bench|warmup|$op" --connections "$connections" >/dev/null
done
redis-cli -p "$port" flushall >/dev/null

rows=()
for round in $(seq "$rounds"); do
    for op in incrby zincrby; do
        bench_log "round $round: $op"
        # (Results go through a variable first: a failure inside $(...) then stops the script.)
        # shellcheck disable=SC2046
        out=$(run_redis_benchmark "$requests" $(redis_command $op))
        read -r rb_ops rb_p99 rb_cpu rb_srv <<<"$out"
        key="bench|$op|$round"
        out=$(run_livehouse redis "$op" "$requests" "$key" --connections "$connections")
        read -r lh_ops lh_p99 lh_cpu lh_srv <<<"$out"
        # Exact totals, not just "no errors": the server holds what the calls added.
        if [[ $op == incrby ]]; then
            total=$(redis-cli -p "$port" get "$key")
        else
            total=$(redis-cli -p "$port" zscore "$key" member)
        fi
        [[ $total == "$requests" ]] || bench_die "$key holds $total, expected $requests"
        out=$(run_livehouse embedded "$op" "$requests" "$key" --threads "$embedded_threads")
        read -r em_ops _ _ _ <<<"$out"
        em_p99_us=$(jq -r '.p99_ms * 1000 | . * 10 | round / 10' "$work/last.json")
        ratio=$(awk -v a="$lh_ops" -v b="$rb_ops" 'BEGIN { printf "%.2f", a / b }')
        rows+=("| ${op^^} | $round | $(printf "%.0f" "$rb_ops") | $rb_p99 | $rb_cpu / $rb_srv | $lh_ops | $lh_p99 | $lh_cpu / $lh_srv | **$ratio** | $em_ops | $em_p99_us | $(bench_load1) |")
    done
done

reserve_rows=()
if ((reserve_requests > 0)); then
    for backend in redis embedded; do
        bench_log "reserve + confirm: $backend"
        extra=(--connections "$connections")
        [[ $backend == embedded ]] && extra=(--threads "$embedded_threads")
        out=$(run_livehouse "$backend" reserve "$reserve_requests" "bench|reserve|$backend" \
            --stock "$reserve_requests" "${extra[@]}")
        read -r rs_ops rs_p99 rs_cpu rs_srv <<<"$out"
        sold=$(jq -r .sold "$work/last.json")
        [[ $sold == "$reserve_requests" ]] || bench_die "reserve ($backend): sold $sold"
        if [[ $backend == embedded ]]; then
            rs_cpu="–"
            rs_srv="–"
        fi
        reserve_rows+=("| $backend | $reserve_requests | $sold | $rs_ops | $rs_p99 | $rs_cpu / $rs_srv | $(bench_load1) |")
    done
fi

echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
echo "redis-server $(redis-server --version | awk '{print $3}'), -n $requests, -c $clients / --clients $clients, -P $pipeline / --pipeline $pipeline, livehouse connections $connections, embedded threads $embedded_threads"
echo
echo "| op | round | redis-benchmark ops/s | p99 ms | CPU µs/op client / server | livehouse ops/s | p99 ms | CPU µs/op client / server | livehouse ÷ redis-benchmark | embedded ops/s | embedded p99 µs | load avg |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if ((${#reserve_rows[@]} > 0)); then
    echo
    echo "| reserve 1 + confirm | requests | sold | ops/s | p99 ms | CPU µs/op client / server | load avg |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${reserve_rows[@]}"
fi
