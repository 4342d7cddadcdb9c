#!/usr/bin/env bash
# Runs every side-by-side benchmark against each server and prints the results as markdown
# tables (paste them into docs/BENCHMARKS.md together with the machine line).
#
# Usage: bench/run_all.sh
#   BENCH_SERVERS   servers to run (default "livehouse nginx-rtmp"; livehouse is skipped with a
#                   note when build/src/server/livehouse is not built)
#   BENCH_STREAMS   publisher counts for the ingest benchmark (default "1 10")
#   BENCH_DURATION, BENCH_WARMUP, BENCH_WRK_*, BENCH_DELAY_SECONDS: see the scripts
#
# Needs: scripts/install-deps.sh --bench. Takes about 12 minutes with the defaults. Results are
# also kept in $LIVEHOUSE_BENCH_DIR/results-<time>.txt as RESULT lines. The machine should be
# otherwise idle: every row carries the 1-minute load average at its end ("load avg"), so a run
# disturbed by other jobs shows.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

servers=${BENCH_SERVERS:-livehouse nginx-rtmp}
stream_counts=${BENCH_STREAMS:-1 10}

mkdir -p "$BENCH_DIR"
results="$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S).txt"
machine=$(bench_machine)
: >"$results"
bench_log "machine: $machine"
bench_log "results: $results"
bash "$bench_root/make_sample.sh"

notes=()
for server in $servers; do
    if [[ $server == livehouse && ! -x $LIVEHOUSE_BIN ]]; then
        notes+=("livehouse: not run ($LIVEHOUSE_BIN is not built)")
        continue
    fi
    for n in $stream_counts; do
        bench_log "== $server: ingest, $n streams"
        bash "$bench_root/ingest.sh" "$server" "$n" | tee -a "$results"
    done
    bench_log "== $server: serving (wrk)"
    bash "$bench_root/serve.sh" "$server" | tee -a "$results"
    bench_log "== $server: ingest-to-playlist delay"
    bash "$bench_root/ingest_delay.sh" "$server" | tee -a "$results"
done

# RESULT lines -> markdown. Each row reads key=value pairs; a missing key prints as "-".
table() {
    local bench=$1 header=$2 keys=$3
    echo "$header"
    awk -F'|' -v h="$header" 'BEGIN { n = split(h, c, "|") - 2; s = "|"
                                      for (i = 0; i < n; i++) s = s "---|"; print s }'
    awk -v bench="$bench" -v keys="$keys" '
        $1 == "RESULT" {
            delete kv
            for (i = 2; i <= NF; i++) { split($i, a, "="); kv[a[1]] = a[2] }
            if (kv["bench"] != bench) next
            n = split(keys, k, " ")
            row = "|"
            for (i = 1; i <= n; i++) row = row " " ((k[i] in kv) ? kv[k[i]] : "-") " |"
            print row
        }' "$results"
}

echo
echo "Machine: $machine. Date: $(date -u +%Y-%m-%dT%H:%MZ)."
echo
echo "Ingest (2.5 Mbps 720p30 + AAC 128k per stream, ${BENCH_DURATION:-60} s measured):"
echo
table ingest \
    "| server | streams | ok | server CPU s per stream-minute | server CPU % of one core | RSS MiB | RSS idle MiB | RSS MiB per stream | PSS MiB per stream | memfd MiB | memory MiB per stream (PSS + memfd) | load generators CPU % | load avg |" \
    "server streams streams_ok cpu_s_per_stream_min cpu_pct rss_mib rss_idle_mib rss_per_stream_mib pss_per_stream_mib memfd_mib mem_per_stream_mib load_cpu_pct load1"
echo
echo "Serving (wrk -t${BENCH_WRK_THREADS:-2} -c${BENCH_WRK_CONNECTIONS:-1000} -d${BENCH_WRK_DURATION:-20s} --latency, one live stream):"
echo
table serve \
    "| server | target | bytes | requests/s | p50 ms | p99 ms | transfer/s | non-2xx | socket errors | server CPU % | load avg |" \
    "server target body_bytes rps p50_ms p99_ms transfer_per_s non2xx socket_errors server_cpu_pct load1"
echo
echo "Ingest-to-playlist delay (keyframe closing a segment sent -> segment listed in the playlist):"
echo
table delay \
    "| server | segments | first playlist s | mean ms | p50 ms | min ms | max ms | server-side mean ms | server-side p99 ≤ ms | load avg |" \
    "server segments first_playlist_s delay_mean_ms delay_p50_ms delay_min_ms delay_max_ms server_delay_mean_ms server_delay_p99_le_ms load1"
for note in "${notes[@]}"; do
    echo
    echo "Note: $note"
done
