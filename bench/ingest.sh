#!/usr/bin/env bash
# Ingest cost: N concurrent publishers of the 2.5 Mbps 720p30 sample into one server, measuring
# the server's CPU per stream-minute and its memory per stream.
#
# Usage: bench/ingest.sh <livehouse|nginx-rtmp> <streams>
#   BENCH_DURATION  measured seconds (default 60)
#   BENCH_WARMUP    seconds after every playlist is up before measuring (default 5)
#
# Method: start the server; record its idle memory; start N `ffmpeg -re -stream_loop -1 -i
# sample.flv -c copy -f flv rtmp://...` publishers; wait until every stream's live playlist has a
# segment, then BENCH_WARMUP; read utime+stime of the server's processes (nginx: master and
# workers) from /proc/<pid>/stat, wait BENCH_DURATION, read again. RSS is VmRSS from
# /proc/<pid>/status (summed over nginx's processes; PSS from smaps_rollup is printed too, as it
# counts pages the nginx processes share only once), plus the bytes in memory files (livehouse's
# live segments): mem_per_stream = (PSS - Pss_Shmem - idle PSS + memfd) / N, each byte once. A stream
# counts as ok when its publisher is
# still running and its playlist gained segments during the window, so a server that
# drops streams cannot look cheap.
#
# The load generators (the N ffmpeg processes) run on the same cores as the server; their CPU is
# reported as load_cpu_pct so the reader can see how much of the machine they took.
#
# Prints one line: RESULT bench=ingest server=... streams=N ... (key=value pairs).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || bench_die "usage: bench/ingest.sh <livehouse|nginx-rtmp> <streams>"
server=$1
streams=$2
[[ $streams =~ ^[1-9][0-9]*$ ]] || bench_die "streams must be a positive integer"
duration=${BENCH_DURATION:-60}
warmup=${BENCH_WARMUP:-5}

bench_require_sample
bench_raise_nofile
trap bench_cleanup EXIT

bench_server_start "$server"
sleep 1 # let the server finish start-up allocations before the idle reading
rss_idle=$(bench_server_rss_kib)
pss_idle=$(bench_server_pss_kib)

playlists=()
for ((i = 0; i < streams; i++)); do
    line=$(bench_stream_new "bench$i")
    read -r publish_url playlist_url <<<"$line"
    playlists+=("$playlist_url")
    bench_publish "$publish_url" "$srv_dir/ffmpeg-$i.log"
done
bench_log "$streams publishers started; waiting for every playlist"
for pl in "${playlists[@]}"; do
    bench_wait_playlist "$pl" 1 30 || bench_die "no playlist at $pl after 30 s ($(cat "$srv_dir"/ffmpeg-*.log 2>/dev/null | head -n 5))"
done
sleep "$warmup"

seq_start=()
for pl in "${playlists[@]}"; do
    state=$(bench_playlist_state "$pl")
    seq_start+=("${state%% *}")
done
cpu0=$(bench_server_cpu_ticks)
load0=$(bench_publishers_cpu_ticks)
t0=$(bench_now)
bench_log "measuring for ${duration}s"
sleep "$duration"
cpu1=$(bench_server_cpu_ticks)
load1=$(bench_publishers_cpu_ticks)
t1=$(bench_now)
rss=$(bench_server_rss_kib)
pss=$(bench_server_pss_kib)
memfd=$(bench_server_memfd_kib)
pss_shmem=$(bench_server_pss_shmem_kib)

ok=0
alive=$(bench_live_publishers)
for i in "${!playlists[@]}"; do
    state=$(bench_playlist_state "${playlists[$i]}")
    if [[ -n $state && -n ${seq_start[$i]} ]] && ((${state%% *} > ${seq_start[$i]})); then
        ok=$((ok + 1))
    fi
done
if ((alive < ok)); then
    ok=$alive
fi

awk -v server="$server" -v n="$streams" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" \
    -v l0="$load0" -v l1="$load1" -v hz="$CLK_TCK" -v rss="$rss" -v rss0="$rss_idle" \
    -v pss="$pss" -v pss0="$pss_idle" -v memfd="$memfd" -v pss_shmem="$pss_shmem" -v ok="$ok" -v load1="$(bench_load1)" 'BEGIN {
        secs = t1 - t0; cpu = (c1 - c0) / hz; load = (l1 - l0) / hz;
        printf "RESULT bench=ingest server=%s streams=%d streams_ok=%d duration_s=%.1f", server, n, ok, secs;
        printf " cpu_s=%.2f cpu_pct=%.1f cpu_s_per_stream_min=%.3f", cpu, 100 * cpu / secs, cpu / (n * secs / 60);
        printf " rss_mib=%.1f rss_idle_mib=%.1f rss_per_stream_mib=%.2f", rss / 1024, rss0 / 1024, (rss - rss0) / 1024 / n;
        printf " pss_mib=%.1f pss_per_stream_mib=%.2f", pss / 1024, (pss - pss0) / 1024 / n;
        printf " memfd_mib=%.1f mem_per_stream_mib=%.2f", memfd / 1024, (pss - pss_shmem - pss0 + memfd) / 1024 / n;
        printf " load_cpu_pct=%.1f load1=%s\n", 100 * load / secs, load1;
    }'
