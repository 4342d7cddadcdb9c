#!/usr/bin/env bash
# Re-captures the RTMP publish session used by the chunk-reader tests (publish_session.*.bin).
#
# A private nginx + libnginx-mod-rtmp (application "live") listens on a free port; capture.py sits
# in front of it and records both directions of one connection; ffmpeg publishes 3 s of a
# low-bitrate test pattern (H.264 + AAC) through the proxy.
#
# Output (in this folder):
#   publish_session.c2s.bin  client->server bytes, WHOLE stream: C0 (1) + C1 (1536) + C2 (1536)
#                            handshake bytes first (ffmpeg sends the FP9 digest handshake), then
#                            the chunk stream from offset 3073.
#   publish_session.s2c.bin  server->client bytes: S0+S1+S2 (nginx's digest handshake), then
#                            nginx's chunk stream (acks, command replies).
# Usage: tests/data/rtmp/capture.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/livehouse-rtmp-capture.XXXXXX)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port="$(free_port)"
proxy_port="$(free_port)"

mkdir -p "$work/logs"
cat >"$work/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
pid $work/nginx.pid;
error_log $work/logs/error.log info;
events { worker_connections 64; }
rtmp {
    server {
        listen 127.0.0.1:$nginx_port;
        chunk_size 4096;
        application live { live on; }
    }
}
CONF

nginx -p "$work" -e "$work/logs/error.log" -c "$work/nginx.conf" &
nginx_pid=$!
cleanup() { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
trap cleanup EXIT
# Wait until nginx accepts connections (no fixed sleep).
for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $nginx_port), 0.2)" 2>/dev/null; then
        break
    fi
    sleep 0.05
done

coproc proxy { python3 "$here/capture.py" "$proxy_port" "$nginx_port" "$work/publish_session"; }
read -r ready <&"${proxy[0]}"
[ "$ready" = ready ]

ffmpeg -hide_banner -loglevel error -re \
    -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440 -t 3 \
    -c:v libx264 -preset ultrafast -g 25 -b:v 300k -c:a aac -b:a 64k \
    -f flv "rtmp://127.0.0.1:$proxy_port/live/test"
wait "$proxy_PID" 2>/dev/null || true

cp "$work/publish_session.c2s.bin" "$work/publish_session.s2c.bin" "$here/"
ls -l "$here"/publish_session.*.bin
rm -rf "$work"
