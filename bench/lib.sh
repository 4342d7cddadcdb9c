# shellcheck shell=bash
# Shared helpers for the side-by-side benchmarks (sourced by bench/*.sh; not run directly).
#
# One server at a time, "livehouse" or "nginx-rtmp", each in a private temp dir under
# $BENCH_DIR, on free loopback ports:
#   bench_server_start <kind>      starts it and waits until it accepts (sets srv_* variables)
#   bench_stream_new <name>        prints "<rtmp publish url> <live playlist url>"
#   bench_publish <url> [log]      one `ffmpeg -re -stream_loop -1 -i sample.flv -c copy` publisher
#   bench_server_cpu_ticks / bench_server_rss_kib / bench_server_pss_kib
#                                  summed over the server's processes (nginx: master + workers)
#   bench_cleanup                  stops what this script started (by pid); run from an EXIT trap
#
# Environment: LIVEHOUSE_BENCH_DIR (default /tmp/livehouse-bench), LIVEHOUSE_BIN (default
# build/src/server/livehouse), NGINX_BIN (default /usr/sbin/nginx), BENCH_SAMPLE,
# BENCH_LIVEHOUSE_RTMP (lines added to livehouse's [rtmp] config section, for A/B runs).

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$bench_root")
BENCH_DIR=${LIVEHOUSE_BENCH_DIR:-${TMPDIR:-/tmp}/livehouse-bench}
SAMPLE=${BENCH_SAMPLE:-$BENCH_DIR/sample.flv}
LIVEHOUSE_BIN=${LIVEHOUSE_BIN:-$repo_root/build/src/server/livehouse}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
# shellcheck disable=SC2034 # used by the scripts that source this file
CLK_TCK=$(getconf CLK_TCK)

srv_kind=""
srv_pid=""
srv_dir=""
srv_rtmp_port=""
srv_http_port=""
srv_token=""
pub_pids=()

bench_die() {
    echo "bench: $*" >&2
    exit 1
}

bench_log() { echo "bench: $*" >&2; }

# wrk -c1000 needs more descriptors than the usual soft limit of 1024 (the servers started from
# this shell inherit the raised limit too).
bench_raise_nofile() {
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

bench_free_port() {
    node -e 'const s = require("net").createServer();
             s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# bench_json_get <expression over j> < json  (e.g. 'j.http_port')
bench_json_get() {
    node -e 'let d = ""; process.stdin.on("data", c => d += c).on("end", () => {
                 const j = JSON.parse(d); console.log(eval(process.argv[1])); });' "$1"
}

bench_now() { date +%s.%N; }

# Succeeds once something accepts TCP connections on 127.0.0.1:<port>.
bench_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

bench_require_sample() {
    [[ -s $SAMPLE ]] || bash "$bench_root/make_sample.sh"
}

# bench_livehouse_spawn: starts livehouse on $srv_dir/livehouse.toml (written by the caller) with
# admin token $srv_token on free loopback ports, waits for its ready file, and sets srv_pid,
# srv_http_port and srv_rtmp_port.
bench_livehouse_spawn() {
    [[ -x $LIVEHOUSE_BIN ]] ||
        bench_die "$LIVEHOUSE_BIN not built (./scripts/serve.sh or cmake --build build --target livehouse)"
    LIVEHOUSE_ADMIN_TOKEN=$srv_token "$LIVEHOUSE_BIN" serve --config "$srv_dir/livehouse.toml" \
        --host 127.0.0.1 --bind 127.0.0.1 --http-port 0 --rtmp-port 0 \
        --data-dir "$srv_dir/data" --ready-file "$srv_dir/ready.json" \
        >"$srv_dir/server.log" 2>&1 &
    srv_pid=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s $srv_dir/ready.json ]] && break
        kill -0 "$srv_pid" 2>/dev/null || bench_die "livehouse exited: $(cat "$srv_dir/server.log")"
        sleep 0.1
    done
    [[ -s $srv_dir/ready.json ]] || bench_die "livehouse wrote no ready file in 10 s"
    srv_http_port=$(bench_json_get 'j.http_port' <"$srv_dir/ready.json")
    srv_rtmp_port=$(bench_json_get 'j.rtmp_port' <"$srv_dir/ready.json")
}

bench_server_start() {
    srv_kind=$1
    mkdir -p "$BENCH_DIR"
    srv_dir=$(mktemp -d "$BENCH_DIR/run-$srv_kind.XXXXXX")
    case $srv_kind in
    nginx-rtmp)
        [[ -x $NGINX_BIN ]] || bench_die "nginx not found (scripts/install-deps.sh --bench)"
        [[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ]] ||
            bench_die "libnginx-mod-rtmp not installed (scripts/install-deps.sh --bench)"
        srv_rtmp_port=$(bench_free_port)
        srv_http_port=$(bench_free_port)
        mkdir -p "$srv_dir/logs" "$srv_dir/hls" "$srv_dir/tmp"
        # As root, nginx would switch its workers to `nobody`, who cannot write the temp dir.
        local user_directive=""
        [[ $(id -u) -eq 0 ]] && user_directive="user root;"
        sed -e "s|@PREFIX@|$srv_dir|g" -e "s|@RTMP_PORT@|$srv_rtmp_port|g" \
            -e "s|@HTTP_PORT@|$srv_http_port|g" -e "s|@WORKERS@|${NGINX_WORKERS:-auto}|g" \
            -e "s|@USER_DIRECTIVE@|$user_directive|g" \
            "$bench_root/nginx-rtmp.conf.in" >"$srv_dir/nginx.conf"
        "$NGINX_BIN" -p "$srv_dir" -c "$srv_dir/nginx.conf" -e "$srv_dir/logs/error.log" \
            >"$srv_dir/stdout.log" 2>&1 &
        srv_pid=$!
        local i
        for ((i = 0; i < 100; i++)); do
            if bench_port_open "$srv_rtmp_port" && bench_port_open "$srv_http_port"; then
                break
            fi
            kill -0 "$srv_pid" 2>/dev/null || bench_die "nginx exited: $(cat "$srv_dir/logs/error.log" "$srv_dir/stdout.log")"
            sleep 0.1
        done
        bench_port_open "$srv_rtmp_port" || bench_die "nginx-rtmp did not open its ports in 10 s"
        ;;
    livehouse)
        srv_token="bench-$RANDOM$RANDOM$RANDOM"
        # The same HLS settings as nginx-rtmp.conf.in; warnings only, like nginx's error_log.
        cat >"$srv_dir/livehouse.toml" <<EOF
[hls]
segment_target_ms = ${BENCH_SEGMENT_MS:-2000}
window_segments = 6
grace_period_s = 30

[log]
level = "warn"
EOF
        # Extra settings for an A/B run, e.g. BENCH_LIVEHOUSE_RTMP='chunk_size = 60000'.
        if [[ -n ${BENCH_LIVEHOUSE_RTMP:-} ]]; then
            printf '\n[rtmp]\n%s\n' "$BENCH_LIVEHOUSE_RTMP" >>"$srv_dir/livehouse.toml"
        fi
        bench_livehouse_spawn
        ;;
    *)
        bench_die "unknown server '$srv_kind' (livehouse or nginx-rtmp)"
        ;;
    esac
    bench_log "$srv_kind up: pid $srv_pid, rtmp 127.0.0.1:$srv_rtmp_port, http 127.0.0.1:$srv_http_port, dir $srv_dir"
}

bench_stream_new() {
    local name=$1
    case $srv_kind in
    nginx-rtmp)
        echo "rtmp://127.0.0.1:$srv_rtmp_port/live/$name http://127.0.0.1:$srv_http_port/hls/$name/index.m3u8"
        ;;
    livehouse)
        local body
        body=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $srv_token" \
            -H 'Content-Type: application/json' -d "{\"title\":\"$name\"}" \
            "http://127.0.0.1:$srv_http_port/api/v1/broadcasts") ||
            bench_die "creating a broadcast failed: $body"
        # shellcheck disable=SC2016 # a JavaScript template literal, not shell
        bench_json_get '`${j.rtmp_url}/${j.stream_key} ${j.hls_url}`' <<<"$body"
        ;;
    esac
}

# bench_publish_testsrc <url> <log> <WxH> <fps> <gop frames> <bitrate>: a live test pattern
# (lavfi testsrc, x264 ultrafast/zerolatency, video only) published with ffmpeg -re; segments
# are cut on its keyframes, every <gop frames>.
bench_publish_testsrc() {
    ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i "testsrc=size=$3:rate=$4" \
        -c:v libx264 -preset ultrafast -tune zerolatency -g "$5" -b:v "$6" -pix_fmt yuv420p \
        -f flv "$1" >"$2" 2>&1 &
    pub_pids+=($!)
}

bench_publish() {
    local url=$1 log=${2:-/dev/null}
    ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 -i "$SAMPLE" -c copy \
        -f flv "$url" >"$log" 2>&1 &
    pub_pids+=($!)
}

# bench_kill_wait <pid>...: SIGTERM to each, then waits for each (children of this shell).
bench_kill_wait() {
    local p
    for p in "$@"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "$@"; do
        wait "$p" 2>/dev/null || true
    done
}

bench_stop_publishers() {
    bench_kill_wait "${pub_pids[@]}"
    pub_pids=()
}

bench_server_stop() {
    [[ -n $srv_pid ]] || return 0
    kill -TERM "$srv_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=""
}

bench_cleanup() {
    bench_stop_publishers
    bench_server_stop
    if [[ -n $srv_dir && -z ${BENCH_KEEP:-} ]]; then
        rm -rf -- "$srv_dir"
    fi
}

# The server's processes: the pid started, plus its children (nginx's workers).
bench_server_pids() {
    echo "$srv_pid"
    ps -o pid= --ppid "$srv_pid" 2>/dev/null || true
}

# Sum of utime + stime (clock ticks) over the given pids (fields 14 and 15 of /proc/<pid>/stat,
# counted after the parenthesized command name, which may contain spaces).
bench_cpu_ticks_of() {
    local p total=0 t
    for p in "$@"; do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

bench_server_cpu_ticks() {
    # shellcheck disable=SC2046
    bench_cpu_ticks_of $(bench_server_pids)
}

bench_publishers_cpu_ticks() {
    bench_cpu_ticks_of "${pub_pids[@]}"
}

# VmRSS summed over the server's processes, in KiB. For nginx this counts pages the master and
# workers share once per process; bench_server_pss_kib splits shared pages fairly.
bench_server_rss_kib() { bench_server_field_kib /proc/%s/status VmRSS; }
bench_server_pss_kib() { bench_server_field_kib /proc/%s/smaps_rollup Pss; }
bench_server_pss_shmem_kib() { bench_server_field_kib /proc/%s/smaps_rollup Pss_Shmem; }

# bench_server_field_kib <file pattern with %s for the pid> <field>: "<field>: N kB" summed over
# the server's processes.
bench_server_field_kib() {
    # shellcheck disable=SC2046 # one word per pid
    bench_field_kib "$1" "$2" $(bench_server_pids)
}

# bench_rss_kib <pid>...: VmRSS summed over the given processes, in KiB (0 for one gone).
bench_rss_kib() { bench_field_kib /proc/%s/status VmRSS "$@"; }

# bench_peak_rss_kib <pid>: samples the process's VmRSS every 0.5 s until it exits; prints the
# peak in KiB.
bench_peak_rss_kib() {
    local peak=0 rss
    while kill -0 "$1" 2>/dev/null; do
        rss=$(bench_rss_kib "$1")
        ((rss > peak)) && peak=$rss
        sleep 0.5
    done
    echo "$peak"
}

# bench_field_kib <file pattern with %s for the pid> <field> <pid>...: "<field>: N kB" summed.
bench_field_kib() {
    local p total=0 v file pattern=$1 field=$2
    shift 2
    for p in "$@"; do
        # shellcheck disable=SC2059 # the pattern is ours: "/proc/%s/..."
        file=$(printf "$pattern" "$p")
        v=$(awk -v f="$field:" '$1 == f {print $2}' "$file" 2>/dev/null) || v=0
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# Bytes held in memory files (memfd_create) by the server's processes: livehouse keeps each live
# segment in one (core/blob.hpp). Their pages count in RSS/PSS only where the process has them
# mapped and touched (Pss_Shmem), so the memory figure is PSS - Pss_Shmem + memfd bytes: every
# segment byte once. nginx-rtmp has none (its segments are files in the page cache).
bench_server_memfd_kib() {
    local p fd total=0 size
    for p in $(bench_server_pids); do
        for fd in /proc/"$p"/fd/*; do
            [[ $(readlink "$fd" 2>/dev/null) == /memfd:* ]] || continue
            size=$(stat -L -c %s "$fd" 2>/dev/null) || continue
            total=$((total + size))
        done
    done
    echo $((total / 1024))
}

bench_live_publishers() {
    local p n=0
    for p in "${pub_pids[@]}"; do
        kill -0 "$p" 2>/dev/null && n=$((n + 1))
    done
    echo "$n"
}

# Prints the sequence number of the playlist's newest segment (EXT-X-MEDIA-SEQUENCE + count - 1)
# and its segment count ("<newest> <count>"), or nothing when there is no playlist yet.
bench_playlist_state() {
    curl -s --max-time 5 --fail "$1" 2>/dev/null |
        awk -F: '/^#EXT-X-MEDIA-SEQUENCE:/ {seq = $2} /^#EXTINF:/ {n++}
                 END {if (n > 0) printf "%d %d\n", seq + n - 1, n}'
}

# Waits (polling every 200 ms, up to <timeout_s>) until the playlist lists >= <n> segments.
bench_wait_playlist() {
    local url=$1 n=$2 timeout_s=$3 deadline state
    deadline=$((SECONDS + timeout_s))
    while ((SECONDS < deadline)); do
        state=$(bench_playlist_state "$url")
        if [[ -n $state ]] && ((${state#* } >= n)); then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# The 1-minute load average: how busy the machine was (other jobs included) during a run.
bench_load1() { cut -d' ' -f1 /proc/loadavg; }

bench_machine() {
    local cpu
    cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
    echo "$(nproc) CPUs (${cpu:-unknown}), $(free -h | awk '/^Mem:/ {print $2}') RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
