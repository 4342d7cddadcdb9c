#!/usr/bin/env python3
"""Writes the RTMP seed corpora (tests/fuzz/corpus/{rtmp_chunk,amf0,rtmp_handshake}/) from the
captured publish session in this folder, plus a few hand-made inputs. Re-run after capture.sh.

rtmp_chunk inputs start with one byte choosing where the target splits the rest (see
tests/fuzz/rtmp_chunk_fuzz.cpp); rtmp_handshake inputs start with one byte choosing the feed
step.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "fuzz", "corpus")
HANDSHAKE = 1 + 1536 * 2


def chunk_messages(data):
    """Minimal chunk parser (enough for the capture): yields (type, payload, end_offset)."""
    pos, chunk, streams = 0, 128, {}
    while pos < len(data):
        b = data[pos]
        fmt, csid = b >> 6, b & 63
        pos += 1
        if csid == 0:
            csid, pos = data[pos] + 64, pos + 1
        elif csid == 1:
            csid, pos = data[pos + 1] * 256 + data[pos] + 64, pos + 2
        st = streams.setdefault(csid, {"len": 0, "type": 0, "buf": b"", "ext": False})
        if fmt <= 2:
            st["ext"] = int.from_bytes(data[pos:pos + 3], "big") == 0xFFFFFF
            pos += 3
        if fmt <= 1:
            st["len"], st["type"] = int.from_bytes(data[pos:pos + 3], "big"), data[pos + 3]
            pos += 4
        if fmt == 0:
            pos += 4
        if st["ext"]:
            pos += 4
        n = min(chunk, st["len"] - len(st["buf"]))
        st["buf"] += data[pos:pos + n]
        pos += n
        if len(st["buf"]) == st["len"]:
            if st["type"] == 1:
                chunk = int.from_bytes(st["buf"], "big")
            yield st["type"], st["buf"], pos
            st["buf"] = b""


def write(name, files):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    for fname, content in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(content)


def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def main():
    c2s = open(os.path.join(HERE, "publish_session.c2s.bin"), "rb").read()
    chunks = c2s[HANDSHAKE:]
    msgs = list(chunk_messages(chunks))

    # Chunk stream: prefixes ending at message boundaries, split at assorted points.
    ends = [end for _, _, end in msgs]
    chunk_files = {}
    for i, target in enumerate([300, 700, 1500, 4000, 9000, 16000]):
        end = min(e for e in ends if e >= target)
        chunk_files[f"capture-prefix-{end}"] = bytes([(i * 37 + 11) % 256]) + chunks[:end]

    def h0(csid, ts, length, typ, sid=1):
        ext = ts >= 0xFFFFFF
        return (bytes([csid]) + (0xFFFFFF if ext else ts).to_bytes(3, "big") +
                length.to_bytes(3, "big") + bytes([typ]) + struct.pack("<I", sid) +
                (ts.to_bytes(4, "big") if ext else b""))

    p = bytes(range(200))
    chunk_files["set-chunk-size-abort"] = bytes([9]) + (
        h0(2, 0, 4, 1, 0) + struct.pack(">I", 64) + h0(6, 0, 200, 9) + p[:64] +
        h0(2, 0, 4, 2, 0) + struct.pack(">I", 6) + h0(6, 5, 3, 9) + b"abc")
    chunk_files["extended-timestamps"] = bytes([40]) + (
        h0(7, 0x01234567, 200, 9) + p[:128] + b"\xc7" + (0x01234567).to_bytes(4, "big") +
        p[128:] + b"\x87\xff\xff\xff\x00\x00\x00\x10" + p[:128] + b"\xc7\x00\x00\x00\x10" + p[128:])
    chunk_files["window-ack-and-types-1-2"] = bytes([3]) + (
        h0(2, 0, 4, 5, 0) + struct.pack(">I", 16) + h0(4, 1000, 2, 8) + b"ab" +
        b"\x44\x00\x00\x28\x00\x00\x02\x08cd" + b"\x84\x00\x00\x28ef" + b"\xc4gh")
    chunk_files["long-basic-headers"] = bytes([5]) + (
        b"\x00\x00" + b"\x00\x00\x01\x00\x00\x01\x08\x01\x00\x00\x00" + b"x" +
        b"\x01\xff\xff" + b"\x00\x00\x01\x00\x00\x01\x08\x01\x00\x00\x00" + b"y")
    def flv_tag(typ, ts, data):
        return (bytes([typ]) + len(data).to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big") +
                bytes([ts >> 24]) + b"\x00\x00\x00" + data + (11 + len(data)).to_bytes(4, "big"))

    agg = flv_tag(9, 1000, b"\x17\x01\x00\x00\x00vid") + flv_tag(8, 1040, b"\xaf\x01aud")
    chunk_files["aggregate"] = bytes([17]) + h0(6, 5000, len(agg), 22) + agg
    write("rtmp_chunk", chunk_files)

    # AMF0: every command and data payload of the session, and a few shapes it lacks.
    amf_files = {}
    for i, (typ, payload, _) in enumerate(msgs):
        if typ in (18, 20):
            amf_files[f"capture-{i:03d}-type{typ}"] = payload
    amf_files["date-strict-typed"] = (
        b"\x0b" + struct.pack(">d", 1767225600000.0) + b"\x00\x00" +
        b"\x0a\x00\x00\x00\x02" + b"\x00" + struct.pack(">d", 1.5) + b"\x06" +
        b"\x10\x00\x01C" + b"\x00\x01x\x01\x01" + b"\x00\x00\x09")
    amf_files["ecma-long-string"] = (
        b"\x08\x00\x00\x00\x01" + b"\x00\x01k" + b"\x0c\x00\x00\x00\x03abc" + b"\x00\x00\x09" +
        amf_str("tail") + b"\x05")
    write("amf0", amf_files)

    # Handshake: ffmpeg's digest C0+C1+C2, a plain one, and an HTTP request.
    plain = b"\x03" + b"\x00" * 8 + bytes(i % 251 for i in range(1528)) + bytes(1536)
    write("rtmp_handshake", {
        "ffmpeg-digest": bytes([100]) + c2s[:HANDSHAKE],
        "plain": bytes([7]) + plain,
        "http": bytes([0]) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "rtmpe": bytes([200]) + b"\x06" + bytes(1536),
    })


if __name__ == "__main__":
    main()
