#!/usr/bin/env bash
# Pre-encodes the benchmark's publish input once, so the load generators only copy bytes
# (`ffmpeg -re -stream_loop -1 -i sample.flv -c copy`) instead of encoding:
#   60 s of 1280x720 at 30 fps H.264 (x264, CBR 2.5 Mbps, keyframe every 2 s = 60 frames, no
#   scene-cut keyframes) + AAC-LC 128 kbps 48 kHz stereo, in FLV — an OBS "720p30, CBR,
#   keyframe interval 2 s" publish.
#
# Usage: bench/make_sample.sh [--force]
# Output: $LIVEHOUSE_BENCH_DIR/sample.flv (default /tmp/livehouse-bench; never committed).
# Takes about 1-2 minutes on 2 cores; reuses an existing sample unless --force.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0
[[ ${1:-} == --force ]] && force=1

mkdir -p "$BENCH_DIR"
if [[ -s $SAMPLE && $force -eq 0 ]]; then
    echo "make_sample: reusing $SAMPLE (--force to re-encode)" >&2
    exit 0
fi

tmp="$SAMPLE.partial.flv"
echo "make_sample: encoding $SAMPLE (60 s, 720p30, 2.5 Mbps CBR, GOP 2 s) ..." >&2
# nal-hrd=cbr makes x264 pad to a constant bitrate the way OBS's CBR does, so every stream
# pushes the full 2.5 Mbps even though the test pattern is easy to compress.
ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=30" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -t 60 \
    -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p \
    -b:v 2500k -minrate 2500k -maxrate 2500k -bufsize 5000k -x264-params nal-hrd=cbr \
    -g 60 -keyint_min 60 -sc_threshold 0 \
    -c:a aac -b:a 128k -ac 2 -ar 48000 \
    -f flv "$tmp"
mv -f "$tmp" "$SAMPLE"

ffprobe -v error -show_entries format=duration,bit_rate -of default=noprint_wrappers=1 "$SAMPLE" >&2
echo "make_sample: wrote $SAMPLE ($(du -h "$SAMPLE" | cut -f1))" >&2
