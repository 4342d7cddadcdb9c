// The RTMP ingest under hostile or unusual publishers: wrong keys, a second publisher on a live
// key, garbage and malformed chunk streams (each must cost only its own connection), and
// single-track publishes. The scenarios are independent broadcasts on one server and run
// concurrently.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import * as h from './lib/harness.mjs';

// Closing must come from detecting the garbage, not from the idle timeout: keep that long.
const RTMP_TIMEOUT_S = 30;
const MAX_MESSAGE_BYTES = 1 << 20;
const CLOSE_WITHIN_MS = 10000;

describe('ingest security', {concurrency : true, timeout : 180000}, () => {
    let server;
    const publishers = [];
    const startPublish = (o) => {
        const p = h.publish({rtmpUrl : server.rtmpUrl, ...o});
        publishers.push(p);
        return p;
    };
    const lastSequence = (p) => p.segments[p.segments.length - 1].sequence;

    before(async () => {
        server = await h.startServer({
            config : {rtmp : {timeout_s : RTMP_TIMEOUT_S, max_message_bytes : MAX_MESSAGE_BYTES}}
        });
    });

    after(async () => {
        await Promise.all(publishers.map((p) => p.stop()));
        await server?.stop();
    });

    it('refuses a wrong stream key quickly', async () => {
        const b = await server.createBroadcast('wrong key target');
        const keys = [
            'live_00000000000000000000000000000000', `${b.stream_key}x`, b.stream_key.slice(0, -1),
            b.id
        ];
        const pubs = keys.map((key) => startPublish({key, seconds : 20}));
        const exits = await Promise.all(pubs.map((p) => p.waitExit(10000)));
        exits.forEach((e, i) => {
            assert.ok(e, `publishing with key ${keys[i]} was not refused within 10 s`);
            assert.notEqual(e.code, 0, `ffmpeg with key ${keys[i]} exited 0: ${e.output}`);
        });
        assert.equal((await server.getStatus(b.id)).status, 'idle');
        assert.equal((await server.getPlaylist(b.id)).status, 404);
    });

    it('refuses a second publisher on a live key while the first keeps going', async () => {
        const b = await server.createBroadcast('two publishers');
        const first = startPublish({key : b.stream_key});
        await server.waitForStatus(b.id, 'live', 20000, {publisher : first});
        const {parsed} = await server.waitForPlaylist(b.id, (p) => p.segments.length >= 1);
        const seq0 = lastSequence(parsed);

        const second = startPublish({key : b.stream_key, seconds : 20});
        const exit = await second.waitExit(10000);
        assert.ok(exit, 'the second publisher was not refused within 10 s');
        assert.notEqual(exit.code, 0, `second publisher exited 0: ${exit.output}`);

        await server.waitForPlaylist(b.id, (p) => lastSequence(p) >= seq0 + 2,
                                     {what : 'the first publisher to keep producing segments'});
        assert.ok(first.running,
                  `the first publisher was dropped: ${JSON.stringify(first.exitInfo)}`);
        assert.equal((await server.getStatus(b.id)).status, 'live');
    });

    it('closes garbage and malformed RTMP connections without hurting a good publisher', async (
                                                                                             t) => {
        const b = await server.createBroadcast('good neighbour');
        const good = startPublish({key : b.stream_key});
        await server.waitForStatus(b.id, 'live', 20000, {publisher : good});
        const {parsed} = await server.waitForPlaylist(b.id, (p) => p.segments.length >= 1);
        const seq0 = lastSequence(parsed);

        const seed = Number(process.env.LIVEHOUSE_GARBAGE_SEED ?? Date.now() % 0xffffffff);
        t.diagnostic(`garbage seed ${seed} (replay with LIVEHOUSE_GARBAGE_SEED=${seed})`);
        const random = h.seededRandom(seed);
        const garbage = [];
        for (let i = 0; i < 16; i++)
            garbage.push(h.randomBytesFrom(random, 16384));

        // Valid handshakes followed by a malformed chunk stream.
        const malformed = {
            // RTMP spec §5.3.1.2.2: a type 1 chunk "takes the same stream ID as the preceding
            // chunk" — there is none on a fresh chunk stream. Payload: an invalid AMF0 marker.
            'fmt 1 chunk without a preceding chunk' : Buffer.concat(
                [ Buffer.from([ 0x43, 0, 0, 0, 0, 0, 16, 20 ]), Buffer.alloc(16, 0xff) ]),
            // A message longer than [rtmp] max_message_bytes (message length is 24 bits).
            'message length over the limit' : Buffer.concat([
                Buffer.from([ 0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0 ]),
                Buffer.alloc(128, 0x02)
            ]),
            // RTMP spec §5.4.1: the chunk size "MUST be at least 1 byte".
            'Set Chunk Size 0' : Buffer.from([ 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0 ]),
            // An AMF0 command whose string length runs past the message.
            'truncated AMF0 connect' : Buffer.concat([
                Buffer.from([ 0x03, 0, 0, 0, 0, 0, 12, 20, 0, 0, 0, 0 ]),
                Buffer.from(
                    [ 0x02, 0xff, 0xff, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x00, 0x3f ])
            ]),
        };
        const attacks = [
            (async () => ({
                 name : 'random bytes',
                 ...(await h.sendAndAwaitClose(server.rtmpPort, garbage,
                                               {timeoutMs : CLOSE_WITHIN_MS}))
             }))(),
            ...Object.entries(malformed).map(async ([ name, bytes ]) => {
                const {socket} = await h.rtmpHandshake(server.rtmpPort, {random});
                socket.write(bytes);
                return {name, ...(await h.awaitClose(socket, CLOSE_WITHIN_MS))};
            }),
        ];
        const results = await Promise.all(attacks);
        for (const r of results) {
            t.diagnostic(`${r.name}: ${r.closed ? `closed after ${r.afterMs} ms` : 'still open'}`);
            assert.ok(r.closed,
                      `the server left a "${r.name}" connection open for ${CLOSE_WITHIN_MS} ms`);
        }

        await server.waitForPlaylist(b.id, (p) => lastSequence(p) >= seq0 + 2,
                                     {what : 'the good publisher to keep producing segments'});
        assert.ok(good.running, `the good publisher was dropped: ${JSON.stringify(good.exitInfo)}`);
        assert.equal((await server.getStatus(b.id)).status, 'live');
        assert.equal((await server.get('/healthz')).status, 200);
    });

    for (const [kind, opts, codec] of [[ 'audio-only', {video : false}, 'aac' ],
                                       [ 'video-only', {audio : false}, 'h264' ]]) {
        it(`packages ${kind} publishes into valid single-stream segments`, async () => {
            const b = await server.createBroadcast(kind);
            const pub = startPublish({key : b.stream_key, ...opts});
            await server.waitForStatus(b.id, 'live', 20000, {publisher : pub});
            const {parsed} = await server.waitForPlaylist(b.id, (p) => p.segments.length >= 2,
                                                          {timeoutMs : 30000});
            const s = parsed.segments[parsed.segments.length - 2];
            const r = await server.get(h.resolveUri(`/hls/${b.id}/index.m3u8`, s.uri));
            assert.equal(r.status, 200);
            h.assertTransportStream(r.body, `${kind} ${s.uri}`);
            const file = path.join(server.tmpDir, `${kind}-${s.sequence}.ts`);
            fs.writeFileSync(file, r.body);
            const probe = await h.ffprobeJson(file);
            assert.deepEqual(probe.streams.map((st) => st.codec_name), [ codec ],
                             `${kind} segment streams`);
            const duration = Number(probe.format.duration);
            assert.ok(Math.abs(duration - s.duration) <= 0.2,
                      `${kind} ${s.uri}: ffprobe ${duration} s vs EXTINF ${s.duration}`);
            assert.ok(pub.running, `ffmpeg exited: ${JSON.stringify(pub.exitInfo)}`);
            await pub.stop();
        });
    }
});
