#!/bin/sh
# Regenerates the FLV test vectors used by tests/unit/codec/{flv,mpegts} and the flv fuzz seeds.
# Small on purpose (each well under 200 KB). Needs ffmpeg with libx264 and the native aac encoder.
#   av.flv     2 s 320x240 testsrc @25 fps, H.264 (GOP 25, no B-frames) + 1 kHz sine AAC-LC 64k
#   bframes.flv same, but with B-frames (non-zero CompositionTime, pts != dts)
#   video.flv  video only
#   audio.flv  audio only (AAC-LC 44.1 kHz mono)
#   audio.adts audio.flv remuxed by ffmpeg to ADTS (reference for our ADTS headers)
set -eu
cd "$(dirname "$0")"
common="-hide_banner -loglevel error -y -fflags +bitexact -flags:v +bitexact -flags:a +bitexact"
vsrc="-f lavfi -i testsrc=size=320x240:rate=25:duration=2"
asrc="-f lavfi -i sine=frequency=1000:sample_rate=44100:duration=2"
x264="-c:v libx264 -preset ultrafast -tune zerolatency -g 25 -b:v 200k -pix_fmt yuv420p"
aac="-c:a aac -b:a 64k -ac 1"

ffmpeg $common $vsrc $asrc $x264 $aac -f flv av.flv
ffmpeg $common $vsrc $asrc -c:v libx264 -preset veryfast -bf 2 -g 25 -b:v 200k -pix_fmt yuv420p \
    $aac -f flv bframes.flv
ffmpeg $common $vsrc $x264 -an -f flv video.flv
ffmpeg $common $asrc -vn $aac -f flv audio.flv

# Reference ADTS stream of audio.flv, written by ffmpeg's own ADTS muxer: our FLV->ADTS path must
# reproduce it byte for byte.
ffmpeg $common -i audio.flv -c copy -f adts audio.adts
