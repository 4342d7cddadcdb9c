#!/usr/bin/env python3
"""Writes the hand-picked seed corpus of the flv fuzz target (tests/fuzz/flv_fuzz.cpp) into
tests/fuzz/corpus/flv/ from the sample files made by make.sh: slices and truncations of real
FLV files (a few KB each), plus selector-prefixed inputs for the individual parsers
(0 video tag, 1 audio tag, 2 AVC record, 3 AudioSpecificConfig)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "fuzz", "corpus", "flv")


def tags(data):
    """(raw bytes incl. header and trailing PreviousTagSize, type, body) for every tag."""
    off, out = 13, []
    while off + 15 <= len(data):
        size = int.from_bytes(data[off + 1:off + 4], "big")
        end = off + 11 + size + 4
        out.append((data[off:end], data[off] & 0x1F, data[off + 11:off + 11 + size]))
        off = end
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    read = lambda n: open(os.path.join(HERE, n), "rb").read()
    av, bf, audio, video = read("av.flv"), read("bframes.flv"), read("audio.flv"), read("video.flv")
    header = av[:13]
    av_tags, bf_tags, video_tags = tags(av), tags(bf), tags(video)
    seeds = {
        "av_head.flv": av[:6000],             # metadata, sequence headers, IDR, a few frames
        "bframes_head.flv": bf[:4000],        # IDR then B-frames with CompositionTime
        "audio_head.flv": audio[:2000],
        "header_only.flv": header,
        "truncated_tag_header.flv": av[:20],
        # Sequence headers and every small tag: many frames through demuxer and muxer.
        "av_small_tags.flv": header + b"".join(t[0] for t in av_tags if len(t[2]) < 300)[:4000],
        # Coded frames with no sequence header before them, and the end-of-sequence tag.
        "video_tail.flv": header + b"".join(t[0] for t in video_tags[-8:]),
    }
    video_body = next(t[2] for t in av_tags if t[1] == 9 and 50 < len(t[2]) < 400)
    bframe_body = next(t[2] for t in bf_tags if t[1] == 9 and t[2][0] == 0x27 and t[2][2:5] != b"\0\0\0")
    audio_body = next(t[2] for t in av_tags if t[1] == 8 and t[2][1] == 1)
    avc_record = next(t[2] for t in av_tags if t[1] == 9 and t[2][1] == 0)[5:]
    seeds.update({
        "sel0_video_frame": b"\x00" + video_body,
        "sel0_bframe": b"\x00" + bframe_body,
        "sel1_audio_frame": b"\x01" + audio_body,
        "sel2_avc_record": b"\x02" + avc_record,
        "sel3_asc_lc": b"\x03\x12\x10",
        "sel3_asc_he_aac": b"\x03\x2b\x11\x88\x00",  # AOT 5, 24 kHz stereo, ext 48 kHz, core LC
        "sel3_asc_escape": b"\x03\xf8\x4c\x80",       # AOT 31 escape, explicit index
    })
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
