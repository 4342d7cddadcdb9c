// Ingest-to-playlist delay: how long after the publisher sends the keyframe that closes a segment
// does that segment appear in the live playlist? Measured from outside, so it works the same for
// livehouse and nginx-rtmp.
//
// Usage: node bench/ingest_delay.mjs --rtmp <rtmp://host:port/app/key> --playlist <url>
//                                    --sample <file.flv> [--seconds 40] [--server name]
//                                    [--poll-ms 10]
//
// Method:
// - ffmpeg publishes the sample with -re through a TCP proxy in this process. The proxy follows
//   the client->server RTMP chunk stream (RTMP spec §5.3: basic header, message header formats
//   0-3, extended timestamps, Set Chunk Size) and timestamps the moment each complete video
//   keyframe message (FLV VIDEODATA frame type 1, AVC NALU packet) has been forwarded, keyed by
//   its RTMP timestamp. That is when the server can first see the keyframe that closes the open
//   segment; no model of ffmpeg's -re pacing is needed.
// - The playlist is polled every --poll-ms (10 ms) from before the publish starts. Segment k's
//   end in media time is the first keyframe's timestamp plus the sum of the EXTINF durations up
//   to and including k; the keyframe at (nearest to) that timestamp is the one that closed it. The
//   delay is the time the segment first appears in the playlist minus the time that keyframe
//   was forwarded. The figure includes up to one poll interval and one HTTP round trip on
//   loopback (~1 ms).
// - The final segment (closed by the publisher leaving, not by a keyframe) is left out.
//
// Server-side figure: when the server exposes the Prometheus histogram
// hls_playlist_delay_seconds (livehouse: arrival of the frame that closed a segment -> the new
// playlist published) at <origin of --playlist>/metrics, its change over the run is printed
// too (server_delay_*): the external figure minus it is what the network, the HTTP request and
// the poll add. nginx-rtmp has no such metric; those fields are then absent.
//
// Prints: RESULT bench=delay server=... segments=N first_playlist_s=... delay_mean_ms=...
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
    options: {
        rtmp: { type: 'string' },
        playlist: { type: 'string' },
        sample: { type: 'string' },
        seconds: { type: 'string', default: '40' },
        server: { type: 'string', default: 'unknown' },
        'poll-ms': { type: 'string', default: '10' },
    },
});
if (!args.rtmp || !args.playlist || !args.sample) {
    console.error('usage: node bench/ingest_delay.mjs --rtmp URL --playlist URL --sample FILE');
    process.exit(2);
}
const seconds = Number(args.seconds);
const pollMs = Number(args['poll-ms']);

const target = new URL(args.rtmp);
const upstreamPort = Number(target.port || 1935);

// Follows the client->server bytes of one RTMP connection and calls onKeyframe(timestamp_ms)
// when a complete AVC keyframe message has passed. Tolerates nothing unusual: on anything it does
// not understand it stops following (the bytes are still forwarded) and records why.
class rtmp_follower {
    constructor(onKeyframe) {
        this.onKeyframe = onKeyframe;
        this.pending = Buffer.alloc(0);
        this.handshakeLeft = 1 + 1536 + 1536; // C0 + C1 + C2 (RTMP spec §5.2)
        this.chunkSize = 128; // RTMP spec §5.4.1: the default until Set Chunk Size
        this.streams = new Map(); // csid -> {timestamp, delta, length, type, extended, parts, got}
        this.failed = null;
    }

    push(chunk) {
        if (this.failed) {
            return;
        }
        let data = chunk;
        if (this.handshakeLeft > 0) {
            const skip = Math.min(this.handshakeLeft, data.length);
            this.handshakeLeft -= skip;
            data = data.subarray(skip);
        }
        this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
        let used = 0;
        for (;;) {
            const n = this.parseChunk(this.pending, used);
            if (n === 0 || this.failed) {
                break;
            }
            used += n;
        }
        this.pending = this.pending.subarray(used);
    }

    // Parses one chunk at buf[at..]; returns its length, or 0 when it is not complete yet.
    parseChunk(buf, at) {
        let p = at;
        if (buf.length - p < 1) return 0;
        const b0 = buf[p++];
        const fmt = b0 >> 6;
        let csid = b0 & 0x3f;
        if (csid === 0) { // RTMP spec §5.3.1.1: 2-byte form
            if (buf.length - p < 1) return 0;
            csid = 64 + buf[p++];
        } else if (csid === 1) { // 3-byte form
            if (buf.length - p < 2) return 0;
            csid = 64 + buf[p] + buf[p + 1] * 256;
            p += 2;
        }
        const headerLen = [11, 7, 3, 0][fmt];
        if (buf.length - p < headerLen) return 0;
        let st = this.streams.get(csid);
        if (!st) {
            if (fmt !== 0) {
                this.failed = `chunk stream ${csid} starts with fmt ${fmt}`;
                return 0;
            }
            st = { timestamp: 0, delta: 0, length: 0, type: 0, extended: false, parts: [], got: 0 };
        }
        let field = null;
        if (fmt <= 2) {
            field = buf.readUIntBE(p, 3);
        }
        let length = st.length;
        let type = st.type;
        if (fmt <= 1) {
            length = buf.readUIntBE(p + 3, 3);
            type = buf[p + 6];
        }
        p += headerLen;
        // RTMP spec §5.3.1.3: 0xFFFFFF means a 4-byte extended timestamp follows; ffmpeg repeats
        // it on fmt 3 continuation chunks of such a message.
        const extended = field === null ? st.extended : field === 0xffffff;
        let ext = 0;
        if (extended) {
            if (buf.length - p < 4) return 0;
            ext = buf.readUInt32BE(p);
            p += 4;
        }
        const starting = st.got === 0;
        const need = Math.min(this.chunkSize, length - st.got);
        if (buf.length - p < need) return 0;

        // Commit the header now that the whole chunk is here.
        if (starting) {
            const value = extended ? ext : field;
            if (fmt === 0) {
                // A later fmt 3 chunk starting a message adds this field again, as ffmpeg's
                // reader and writer both treat it (the spec leaves fmt 3 after fmt 0 open).
                st.timestamp = value;
                st.delta = value;
            } else if (fmt === 1 || fmt === 2) {
                st.delta = value;
                st.timestamp += value;
            } else {
                st.timestamp += st.delta;
            }
            st.length = length;
            st.type = type;
        }
        if (fmt <= 2) {
            st.extended = extended;
        }
        this.streams.set(csid, st);
        st.parts.push(buf.subarray(p, p + need));
        st.got += need;
        p += need;
        if (st.got === st.length) {
            const payload = Buffer.concat(st.parts);
            st.parts = [];
            st.got = 0;
            this.onMessage(st.type, st.timestamp, payload);
        }
        return p - at;
    }

    onMessage(type, timestamp, payload) {
        if (type === 1 && payload.length >= 4) { // Set Chunk Size (RTMP spec §5.4.1)
            this.chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
        } else if (type === 9 && payload.length >= 2) {
            // FLV VIDEODATA (FLV spec §E.4.3.1): frame type 1 = keyframe, codec 7 = AVC,
            // AVCPacketType 1 = NALU (0 would be the sequence header).
            if (payload[0] >> 4 === 1 && (payload[0] & 0x0f) === 7 && payload[1] === 1) {
                this.onKeyframe(timestamp);
            }
        }
    }
}

// The proxy: forwards bytes both ways and timestamps each keyframe as it passes.
const keyframes = []; // {timestamp (ms, RTMP), at (performance.now())}
let follower = null;
const proxy = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, target.hostname);
    follower = new rtmp_follower((timestamp) => {
        keyframes.push({ timestamp, at: performance.now() });
    });
    client.on('data', (chunk) => {
        if (!upstream.write(chunk)) {
            client.pause();
            upstream.once('drain', () => client.resume());
        }
        follower.push(chunk);
    });
    upstream.pipe(client);
    const close = () => {
        client.destroy();
        upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxied = new URL(args.rtmp);
proxied.hostname = '127.0.0.1';
proxied.port = String(proxy.address().port);

function parsePlaylist(text) {
    const lines = text.split('\n').map((l) => l.trim());
    let seq = 0;
    let duration = null;
    const segments = [];
    for (const l of lines) {
        if (l.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
            seq = Number(l.slice('#EXT-X-MEDIA-SEQUENCE:'.length));
        } else if (l.startsWith('#EXTINF:')) {
            duration = parseFloat(l.slice('#EXTINF:'.length));
        } else if (l && !l.startsWith('#') && duration !== null) {
            segments.push({ sequence: seq + segments.length, duration, uri: l });
            duration = null;
        }
    }
    return segments;
}

const seen = new Map(); // sequence -> {duration, appeared}
let firstPlaylistAt = null;
let polling = true;
async function poll() {
    while (polling) {
        const started = performance.now();
        try {
            const res = await fetch(args.playlist);
            const text = await res.text();
            if (res.ok) {
                const now = performance.now();
                for (const s of parsePlaylist(text)) {
                    if (!seen.has(s.sequence)) {
                        seen.set(s.sequence, { duration: s.duration, appeared: now });
                        firstPlaylistAt ??= now;
                    }
                }
            }
        } catch {
            // not up yet (404 before the first segment, or connection refused): keep polling
        }
        const wait = pollMs - (performance.now() - started);
        if (wait > 0) {
            await new Promise((r) => setTimeout(r, wait));
        }
    }
}
// The server's own histogram, if it has one: {sum, count, buckets: [[le, cumulative count]]}.
const metricName = 'hls_playlist_delay_seconds';
async function serverHistogram() {
    try {
        const res = await fetch(new URL('/metrics', args.playlist));
        if (!res.ok) {
            return null;
        }
        const h = { sum: 0, count: 0, buckets: [] };
        let found = false;
        for (const line of (await res.text()).split('\n')) {
            const m = line.match(/^(\w+?)(?:\{le="([^"]+)"\})?\s+(\S+)$/);
            if (!m) {
                continue;
            }
            const [, name, le, value] = m;
            if (name === `${metricName}_sum`) {
                h.sum = Number(value);
                found = true;
            } else if (name === `${metricName}_count`) {
                h.count = Number(value);
            } else if (name === `${metricName}_bucket` && le !== undefined) {
                h.buckets.push([le === '+Inf' ? Infinity : Number(le), Number(value)]);
            }
        }
        return found ? h : null;
    } catch {
        return null;
    }
}
const histogramBefore = await serverHistogram();
const poller = poll();

const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-i',
    args.sample, '-t', String(seconds), '-c', 'copy', '-f', 'flv', proxied.href],
    { stdio: ['ignore', 'ignore', 'pipe'] });
let ffmpegErr = '';
ffmpeg.stderr.on('data', (d) => { ffmpegErr += d; });
const exited = new Promise((resolve) => ffmpeg.on('exit', resolve));
const timer = setTimeout(() => ffmpeg.kill('SIGKILL'), (seconds + 30) * 1000);
const code = await exited;
clearTimeout(timer);
// The last segment closes only when the publisher leaves; give the playlist a moment.
await new Promise((r) => setTimeout(r, 1000));
polling = false;
await poller;
proxy.close();
const histogramAfter = histogramBefore ? await serverHistogram() : null;

if (code !== 0) {
    console.error(`ffmpeg exited with ${code}: ${ffmpegErr.slice(0, 500)}`);
}
if (follower?.failed) {
    console.error(`could not follow the RTMP stream: ${follower.failed}`);
}
if (keyframes.length < 2 || seen.size === 0) {
    console.error(`no measurement: ${keyframes.length} keyframes seen, ${seen.size} segments seen`);
    process.exit(1);
}

// Segment k ends (in media time) at the first keyframe's timestamp plus the EXTINF sum up to k.
// The lowest sequence seen is the first of the publish: the poll ran from before it began.
const sequences = [...seen.keys()].sort((a, b) => a - b);
const first = keyframes[0];
let mediaEnd = first.timestamp;
let lastClosing = first.timestamp;
const delays = [];
for (const sq of sequences) {
    const s = seen.get(sq);
    mediaEnd += s.duration * 1000;
    let closing = null;
    for (const k of keyframes) {
        if (k.timestamp <= lastClosing) {
            continue; // each keyframe closes at most one segment
        }
        if (closing === null ||
            Math.abs(k.timestamp - mediaEnd) < Math.abs(closing.timestamp - mediaEnd)) {
            closing = k;
        }
    }
    // A segment not closed by a keyframe (the publisher left) has none within a frame or two.
    if (closing !== null && Math.abs(closing.timestamp - mediaEnd) <= 100) {
        lastClosing = closing.timestamp;
        delays.push({ sequence: sq, keyframe: closing.timestamp, delay: s.appeared - closing.at });
    } else {
        console.error(`segment ${sq}: no keyframe at ${mediaEnd.toFixed(0)} ms (publisher left?)`);
    }
}
if (delays.length === 0) {
    console.error('no segment could be matched to the keyframe that closed it');
    process.exit(1);
}
for (const d of delays) {
    console.error(`segment ${d.sequence}: closed by keyframe @${d.keyframe} ms, ` +
        `in the playlist ${d.delay.toFixed(1)} ms after it was sent`);
}
const sorted = delays.map((d) => d.delay).sort((a, b) => a - b);
const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
// The server-side histogram's change over the run: mean, and the bucket bound that holds the
// 50th / 99th percentile observation.
let serverFields = '';
if (histogramBefore && histogramAfter && histogramAfter.count > histogramBefore.count) {
    const n = histogramAfter.count - histogramBefore.count;
    const meanMs = ((histogramAfter.sum - histogramBefore.sum) / n) * 1000;
    const bound = (p) => {
        for (const [le, cumulative] of histogramAfter.buckets) {
            const before = histogramBefore.buckets.find(([b]) => b === le)?.[1] ?? 0;
            if (cumulative - before >= p * n) {
                return le === Infinity ? 'inf' : (le * 1000).toString();
            }
        }
        return 'inf';
    };
    serverFields = ` server_delay_count=${n} server_delay_mean_ms=${meanMs.toFixed(3)}` +
        ` server_delay_p50_le_ms=${bound(0.5)} server_delay_p99_le_ms=${bound(0.99)}`;
}
console.log(`RESULT bench=delay server=${args.server} segments=${sorted.length} ` +
    `first_playlist_s=${((firstPlaylistAt - first.at) / 1000).toFixed(3)} ` +
    `delay_mean_ms=${mean.toFixed(1)} delay_p50_ms=${q(0.5).toFixed(1)} ` +
    `delay_min_ms=${sorted[0].toFixed(1)} delay_max_ms=${sorted[sorted.length - 1].toFixed(1)} ` +
    `poll_ms=${pollMs} load1=${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}` +
    serverFields);
