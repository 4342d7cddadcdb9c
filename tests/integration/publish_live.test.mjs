// One live broadcast end to end: ffmpeg publishes over RTMP, the playlist and segments are
// checked over HTTP against RFC 8216 and the origin's caching contract, the media with ffprobe.
// Server config: 1 s segments (GOP 25 at 25 fps), window of 6.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import * as h from './lib/harness.mjs';

/** The value of max-age in a Cache-Control header, or null. */
function maxAge(cacheControl) {
    const m = /(?:^|[,\s])max-age=(\d+)/.exec(cacheControl ?? '');
    return m ? Number(m[1]) : null;
}

/** Sum of the HTTP request counters in a /metrics scrape. */
async function httpRequestCount(server) {
    const r = await server.get('/metrics');
    assert.equal(r.status, 200, `/metrics: ${r.status}`);
    const m = h.parsePrometheus(r.text);
    assert.deepEqual(m.errors, [], 'metrics text is valid exposition format');
    const counters = [...m.types ]
                         .filter(([ name, type ]) => type === 'counter' && /http/.test(name) &&
                                                     /request/.test(name))
                         .map(([ name ]) => name);
    assert.ok(counters.length > 0,
              `no HTTP request counter in /metrics:\n${r.text.slice(0, 2000)}`);
    const names = new Set(counters.flatMap((n) => [n, `${n}_total`]));
    return m.samples.filter((s) => names.has(s.name)).reduce((sum, s) => sum + s.value, 0);
}

describe('publish and watch live', {timeout : 180000}, () => {
    let server;
    let broadcast;
    let newerIdle;
    let publisher;
    let playlistPath;
    const history = new h.PlaylistHistory();
    const evicted = [];

    // One poll of the live playlist: validate, check the update against the previous one, and
    // download every segment that just left the window (RFC 8216 §6.2.2: "When the server
    // removes a Media Segment URI from the Playlist, the corresponding Media Segment MUST
    // remain available to clients for a period of time equal to the duration of the segment
    // plus the duration of the longest Playlist file distributed by the server containing that
    // segment").
    async function poll() {
        const r = await server.getPlaylist(broadcast.id);
        if (r.status === 404 && history.versions === 0)
            return null; // no segment yet
        assert.equal(r.status, 200, `live playlist: ${r.status} ${r.text}\n${server.context()}`);
        const p = h.validateLivePlaylist(r.text);
        const {removed} = history.add(p);
        for (const s of removed) {
            const g = await server.get(h.resolveUri(playlistPath, s.uri));
            assert.equal(
                g.status, 200,
                `segment ${s.uri} (sequence ${
                    s.sequence}) left the playlist and must stay downloadable ` +
                    `for its duration + the playlist duration (RFC 8216 §6.2.2); got ${g.status}`);
            assert.equal(g.headers['content-type'], 'video/mp2t');
            h.assertTransportStream(g.body, `evicted segment ${s.uri}`);
            evicted.push(s);
        }
        // RFC 8216 §6.2.2: "The server MUST NOT remove a Media Segment from a Playlist file
        // without an EXT-X-ENDLIST tag if that would cause the duration of the Playlist file to
        // be less than three times the target duration."
        if ((p.mediaSequence ?? 0) > 0 || history.totalDuration() >= 3 * p.targetDuration) {
            assert.ok(h.playlistDuration(p) >= 3 * p.targetDuration - 1e-9,
                      `playlist holds ${h.playlistDuration(p).toFixed(3)} s < 3 x TARGETDURATION ${
                          p.targetDuration}:\n${p.text}`);
        }
        return p;
    }

    before(async () => {
        server = await h.startServer();
        broadcast = await server.createBroadcast('live test');
        playlistPath = `/hls/${broadcast.id}/index.m3u8`;
        publisher = h.publish({rtmpUrl : server.rtmpUrl, key : broadcast.stream_key});
        // Created after the live one: "newest first" alone would list it first.
        newerIdle = await server.createBroadcast('idle, newer');
    });

    after(async () => {
        await publisher?.stop();
        await server?.stop();
    });

    it('goes live', async () => {
        await server.waitForStatus(broadcast.id, 'live', 20000, {publisher});
        assert.ok(publisher.running, `ffmpeg exited: ${JSON.stringify(publisher.exitInfo)}`);
    });

    it('serves a live playlist that keeps the RFC 8216 rules as it grows', async (t) => {
        await h.waitFor(async () => {
            await poll();
            return history.versions >= 3 && history.seen.size >= 4;
        }, {
            timeoutMs : 30000,
            intervalMs : 250,
            what : '4 segments over 3 playlist versions',
            context : () => server.context()
        });
        const p = history.last;
        t.diagnostic(`TARGETDURATION ${p.targetDuration}, durations ${
            p.segments.map((s) => s.duration).join(' ')}`);
        // 1 s segments were asked for; a huge target duration would make players lag far behind.
        assert.ok(p.targetDuration >= 1 && p.targetDuration <= 3,
                  `TARGETDURATION ${p.targetDuration} for 1 s segments`);
        for (const s of p.segments) {
            assert.ok(s.duration >= 0.5 && s.duration <= 2.5,
                      `segment ${s.uri} lasts ${s.duration} s with 1 s GOPs`);
        }
    });

    it('keeps an evicted segment downloadable after it leaves the playlist', async () => {
        await h.waitFor(async () => {
            await poll();
            return evicted.length >= 1;
        }, {
            timeoutMs : 30000,
            intervalMs : 250,
            what : 'a segment to leave the live window',
            context : () => `${history.last?.text}\n${server.context()}`
        });
        assert.ok((history.last.mediaSequence ?? 0) > 0,
                  'MEDIA-SEQUENCE advanced when segments left');
    });

    it('produces segments with H.264 + AAC whose length matches EXTINF', async () => {
        const p = (await poll()) ?? history.last;
        assert.ok(p.segments.length >= 3);
        const picks = p.segments.slice(-3, -1); // two consecutive, complete segments
        const probes = [];
        for (const s of picks) {
            const r = await server.get(h.resolveUri(playlistPath, s.uri));
            assert.equal(r.status, 200, `segment ${s.uri}: ${r.status}`);
            h.assertTransportStream(r.body, s.uri);
            const file = path.join(server.tmpDir, `probe-${s.sequence}.ts`);
            fs.writeFileSync(file, r.body);
            const probe = await h.ffprobeJson(file);
            const codecs = probe.streams.map((st) => st.codec_name).sort();
            assert.deepEqual(codecs, [ 'aac', 'h264' ], `streams of ${s.uri}`);
            const duration = Number(probe.format.duration);
            assert.ok(Math.abs(duration - s.duration) <= 0.2,
                      `${s.uri}: ffprobe duration ${duration} vs EXTINF ${s.duration} (±0.2 s)`);
            // Segments are cut on keyframes, so each one starts decodable on its own.
            const frames = await h.ffprobeJson(
                file,
                {args : [ '-select_streams', 'v:0', '-show_frames', '-read_intervals', '%+#1' ]});
            assert.equal(frames.frames?.[0]?.key_frame, 1,
                         `${s.uri} does not start with a keyframe`);
            probes.push({s, start : Number(probe.format.start_time)});
        }
        // The next segment starts where the previous one ended: EXTINF is the media's duration.
        const [a, b] = probes;
        assert.ok(
            Math.abs(a.start + a.s.duration - b.start) <= 0.1,
            `segment ${b.s.sequence} starts at ${b.start}, expected ${a.start} + ${a.s.duration}`);
    });

    it('sends the playlist with live caching, ETag/304 and CORS', async () => {
        const r = await server.getPlaylist(broadcast.id);
        assert.equal(r.status, 200);
        assert.match(r.headers['content-type'] ?? '', /^application\/vnd\.apple\.mpegurl\b/i);
        const age = maxAge(r.headers['cache-control']);
        assert.ok(age !== null && age >= 1 && age <= 2,
                  `playlist Cache-Control ${r.headers['cache-control']}: max-age about 1`);
        assert.equal(r.headers['access-control-allow-origin'], '*');
        assert.ok(r.headers.etag, 'playlist has an ETag');
        // The playlist changes every second: if it changed between two requests the new ETag
        // must differ; within a few tries one lands inside a single version and must be a 304.
        let etag = r.headers.etag;
        let text = r.text;
        let got304 = false;
        for (let i = 0; i < 10 && !got304; i++) {
            const n = await server.get(playlistPath, {headers : {'If-None-Match' : etag}});
            if (n.status === 304) {
                assert.equal(n.body.length, 0, '304 has no body');
                got304 = true;
            } else {
                assert.equal(n.status, 200);
                assert.notEqual(
                    n.text, text,
                    `200 to If-None-Match ${etag} although the playlist did not change`);
                assert.notEqual(n.headers.etag, etag, 'the playlist changed but its ETag did not');
                etag = n.headers.etag;
                text = n.text;
            }
        }
        assert.ok(got304, 'If-None-Match with the current ETag never gave a 304');
    });

    it('sends segments immutable, with ETag/304, Range/206, HEAD and CORS', async () => {
        const p = history.last;
        const s = p.segments[p.segments.length - 1];
        const segPath = h.resolveUri(playlistPath, s.uri);
        const full = await server.get(segPath);
        assert.equal(full.status, 200);
        assert.equal(full.headers['content-type'], 'video/mp2t');
        assert.match(full.headers['cache-control'] ?? '', /\bimmutable\b/);
        assert.ok(maxAge(full.headers['cache-control']) >= 3600,
                  `segment Cache-Control ${full.headers['cache-control']}`);
        assert.equal(full.headers['access-control-allow-origin'], '*');
        assert.equal(Number(full.headers['content-length']), full.body.length);
        const etag = full.headers.etag;
        assert.ok(etag, 'segment has an ETag');

        const nm = await server.get(segPath, {headers : {'If-None-Match' : etag}});
        assert.equal(nm.status, 304, 'If-None-Match with the ETag');
        assert.equal(nm.body.length, 0);

        const len = full.body.length;
        for (const [a, b] of [[ 0, 187 ], [ 100, 299 ], [ len - 188, len - 1 ]]) {
            const rr = await server.get(segPath, {headers : {Range : `bytes=${a}-${b}`}});
            assert.equal(rr.status, 206, `Range bytes=${a}-${b}`);
            assert.equal(rr.headers['content-range'], `bytes ${a}-${b}/${len}`);
            assert.equal(Number(rr.headers['content-length']), b - a + 1);
            assert.ok(rr.body.equals(full.body.subarray(a, b + 1)),
                      `Range bytes=${a}-${b}: wrong bytes`);
        }
        // RFC 7233 §4.4: a range starting past the end is unsatisfiable.
        const bad =
            await server.get(segPath, {headers : {Range : `bytes=${len + 10}-${len + 20}`}});
        assert.equal(bad.status, 416, 'unsatisfiable Range');

        // HEAD: the headers of GET, no body (RFC 9110 §9.3.2). Read the raw bytes to be sure.
        const head = await h.rawHttp(
            server.httpPort,
            `HEAD ${segPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        assert.equal(head.status, 200);
        assert.equal(Number(head.headers['content-length']), len,
                     'HEAD Content-Length is the GET length');
        assert.equal(head.body.length, 0, 'HEAD response carries no body');

        // CORS preflight.
        const pre = await server.request('OPTIONS', segPath, {
            headers : {Origin : 'http://example.test', 'Access-Control-Request-Method' : 'GET'},
        });
        assert.ok(pre.status === 200 || pre.status === 204, `OPTIONS preflight: ${pre.status}`);
        assert.equal(pre.headers['access-control-allow-origin'], '*');
        assert.match(pre.headers['access-control-allow-methods'] ?? '', /\bGET\b/);
    });

    it('reports the broadcast live in its status and first in the list', async () => {
        const r = await server.get(`/api/v1/broadcasts/${broadcast.id}/status`);
        assert.equal(r.status, 200);
        assert.equal(maxAge(r.headers['cache-control']), 1,
                     `status Cache-Control ${r.headers['cache-control']}`);
        const st = r.json();
        assert.equal(st.id, broadcast.id);
        assert.equal(st.status, 'live');
        assert.ok(Number.isInteger(st.media_sequence) && st.media_sequence >= 0,
                  `media_sequence ${st.media_sequence}`);

        const list = await server.listBroadcasts();
        assert.deepEqual(list.map((x) => x.id), [ broadcast.id, newerIdle.id ],
                         'live first, then idle');
        assert.equal(list[0].status, 'live');
        assert.equal(list[1].status, 'idle');
    });

    it('counts HTTP requests in /metrics', async () => {
        const before = await httpRequestCount(server);
        for (let i = 0; i < 5; i++)
            assert.equal((await server.get('/healthz')).status, 200);
        const after = await httpRequestCount(server);
        assert.ok(after - before >= 5,
                  `request counters went from ${before} to ${after} over 5 requests`);
    });

    it('keeps the publisher connected throughout', () => {
        assert.ok(publisher.running, `ffmpeg exited: ${JSON.stringify(publisher.exitInfo)}`);
    });
});
