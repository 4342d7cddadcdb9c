// The broadcast lifecycle with a real publisher: idle -> live -> suspended (publisher killed)
// -> live again (republish: EXT-X-DISCONTINUITY, sequence continues) -> ended after the grace
// period -> VOD that ffmpeg decodes end to end. Plus: an admin DELETE ends a live broadcast.
// Server config: 1 s segments, grace period GRACE_S.

import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import * as h from './lib/harness.mjs';

// Long enough to watch the suspended playlist and republish inside it on a loaded machine.
const GRACE_S = 8;

function maxAge(cacheControl) {
    const m = /(?:^|[,\s])max-age=(\d+)/.exec(cacheControl ?? '');
    return m ? Number(m[1]) : null;
}

describe('broadcast lifecycle', {timeout : 240000}, () => {
    let server;
    let b;     // the broadcast taken through the whole lifecycle
    let other; // a second broadcast, ended by DELETE
    let otherPublisher;
    const publishers = [];
    const history = new h.PlaylistHistory();
    let playlistPath;
    let live1At; // when the first publish was seen live
    let killedAt;
    let lastSeqBeforeSuspend;
    let republish;

    before(async () => {
        server = await h.startServer({config : {hls : {grace_period_s : GRACE_S}}});
        b = await server.createBroadcast('lifecycle');
        other = await server.createBroadcast('to be deleted');
        playlistPath = `/hls/${b.id}/index.m3u8`;
        otherPublisher = h.publish({rtmpUrl : server.rtmpUrl, key : other.stream_key});
        publishers.push(otherPublisher);
    });

    after(async () => {
        await Promise.all(publishers.map((p) => p.stop()));
        await server?.stop();
    });

    it('starts idle: status idle, playlist 404 with a short max-age', async () => {
        const st = await server.getStatus(b.id);
        assert.equal(st.status, 'idle');
        const r = await server.getPlaylist(b.id);
        assert.equal(r.status, 404, `idle playlist: ${r.status} ${r.text}`);
        const age = maxAge(r.headers['cache-control']);
        assert.ok(age !== null && age <= 2,
                  `idle playlist 404 Cache-Control: ${r.headers['cache-control']}`);
    });

    it('goes live when published', async () => {
        const p = h.publish({rtmpUrl : server.rtmpUrl, key : b.stream_key});
        publishers.push(p);
        await server.waitForStatus(b.id, 'live', 20000, {publisher : p});
        live1At = Date.now();
        const {parsed} = await server.waitForPlaylist(b.id, (pl) => pl.segments.length >= 2);
        history.add(parsed);
        assert.ok(p.running, `ffmpeg exited: ${JSON.stringify(p.exitInfo)}`);
    });

    it('is suspended when the publisher vanishes, and keeps serving the same playlist',
       async (t) => {
           const p = publishers[publishers.length - 1];
           await p.stop('SIGKILL');
           killedAt = Date.now();
           await server.waitForStatus(b.id, 'suspended', 10000);
           t.diagnostic(`suspended ${Date.now() - killedAt} ms after the publisher was killed`);

           const first = await server.getPlaylist(b.id);
           assert.equal(first.status, 200,
                        `suspended playlist must still be served, got ${first.status}`);
           const parsed = h.validateLivePlaylist(first.text);
           history.add(parsed);
           lastSeqBeforeSuspend = parsed.segments[parsed.segments.length - 1].sequence;
           // The segments stay too: a player catching up must not get 404s.
           const lastSeg = parsed.segments[parsed.segments.length - 1];
           const seg = await server.get(h.resolveUri(playlistPath, lastSeg.uri));
           assert.equal(seg.status, 200, `last segment while suspended: ${seg.status}`);

           // Unchanged while suspended: watch it for a while (well inside the grace period).
           const until = Date.now() + 1500;
           while (Date.now() < until) {
               await h.delay(250);
               const r = await server.getPlaylist(b.id);
               assert.equal(r.status, 200, 'suspended playlist: no 404');
               assert.equal(r.text, first.text, 'suspended playlist changed');
               assert.equal(r.headers.etag, first.headers.etag, 'suspended playlist ETag changed');
           }
           assert.equal((await server.getStatus(b.id)).status, 'suspended');
       });

    it('resumes on republish: live, EXT-X-DISCONTINUITY, media sequence continues', async (t) => {
        republish = h.publish({rtmpUrl : server.rtmpUrl, key : b.stream_key, seconds : 4});
        publishers.push(republish);
        await server.waitForStatus(b.id, 'live', 10000, {publisher : republish});
        t.diagnostic(`live again ${Date.now() - killedAt} ms after the first publisher was killed`);
        assert.ok(Date.now() - killedAt < GRACE_S * 1000, 'republished inside the grace period');
        let previous = history.last;
        const {parsed} = await server.waitForPlaylist(b.id, (pl) => {
            // Check every version we see against the previous one.
            if (pl.text !== previous.text) {
                history.add(pl);
                previous = pl;
            }
            return pl.segments.some((s) => s.sequence > lastSeqBeforeSuspend);
        }, {what : 'a segment from the republish'});
        const resumed = parsed.segments.find((s) => s.sequence === lastSeqBeforeSuspend + 1);
        assert.ok(resumed, `sequence ${
                               lastSeqBeforeSuspend +
                               1} follows the last one before the suspension:\n${parsed.text}`);
        // RFC 8216 §4.3.2.3: EXT-X-DISCONTINUITY "MUST be present if there is a change in ...
        // timestamp sequence" — a new publisher restarts its timestamps.
        assert.ok(resumed.discontinuity,
                  `EXT-X-DISCONTINUITY before the first republished segment:\n${parsed.text}`);
        const others = parsed.segments.filter((s) => s !== resumed && s.discontinuity);
        assert.deepEqual(others.map((s) => s.sequence), [],
                         'only the republish boundary is a discontinuity');
    });

    it('ends after the grace period once the publisher stops', async (t) => {
        // Timed from the moment the status says suspended (polled every 200 ms while the 4 s
        // republish runs out), not from ffmpeg's exit, which can lag on a loaded machine.
        await server.waitForStatus(b.id, 'suspended', 20000);
        const suspendedAt = Date.now();
        const exit = await republish.waitExit(10000);
        assert.ok(exit, 'the 4 s republish finished');
        assert.equal(exit.code, 0, `ffmpeg exit: ${JSON.stringify(exit)}`);
        await server.waitForStatus(b.id, 'ended', GRACE_S * 1000 + 10000);
        const waited = Date.now() - suspendedAt;
        t.diagnostic(`ended ${waited} ms after it was seen suspended`);
        assert.ok(waited >= GRACE_S * 1000 - 1000,
                  `ended ${waited} ms after it was seen suspended; grace period is ${GRACE_S} s`);
    });

    it('leaves a VOD playlist that covers the whole broadcast and decodes end to end',
       async (t) => {
           const vodPath = `/vod/${b.id}/index.m3u8`;
           const {response : r} = await h.waitFor(async () => {
               const x = await server.get(vodPath);
               return x.status === 200 ? {response : x} : null;
           }, {timeoutMs : 10000, what : 'the VOD playlist', context : () => server.context()});
           const vod = h.validateVodPlaylist(r.text);
           const total = h.playlistDuration(vod);
           const published = (killedAt - live1At) / 1000 + 4;
           t.diagnostic(`VOD: ${vod.segments.length} segments, ${
               total.toFixed(3)} s; published about ${published.toFixed(1)} s`);
           assert.ok(Math.abs(total - published) <= 1.5,
                     `VOD lasts ${total.toFixed(3)} s, published about ${published.toFixed(1)} s`);
           assert.ok(total >= history.totalDuration() - 0.01,
                     `VOD (${total.toFixed(3)} s) is shorter than what the live playlists showed (${
                         history.totalDuration().toFixed(3)} s)`);
           assert.equal(vod.segments.filter((s) => s.discontinuity).length, 1,
                        `one EXT-X-DISCONTINUITY, at the republish:\n${r.text}`);

           const decode = await h.ffmpegDecode(server.url(vodPath));
           assert.equal(decode.code, 0,
                        `ffmpeg decode of the VOD exited ${decode.code}: ${decode.stderr}`);
           assert.equal(decode.stderr, '', 'ffmpeg -v error printed errors decoding the VOD');

           const st = await server.getStatus(b.id);
           assert.equal(st.status, 'ended');
       });

    it('ends another live broadcast on an admin DELETE', async () => {
        await server.waitForStatus(other.id, 'live', 10000, {publisher : otherPublisher});
        const denied = await server.request('DELETE', `/api/v1/broadcasts/${other.id}`);
        assert.equal(denied.status, 401, 'DELETE without a token');
        assert.equal((await server.getStatus(other.id)).status, 'live',
                     'still live after the refused DELETE');

        const r = await server.deleteBroadcast(other.id);
        assert.ok(r.status === 200 || r.status === 204, `DELETE: ${r.status} ${r.text}`);
        if (r.status === 200)
            assert.equal(r.json().status, 'ended');
        await server.waitForStatus(other.id, 'ended', 5000);

        // An ended broadcast takes no more media: its publisher is let go ...
        const exit = await otherPublisher.waitExit(10000);
        assert.ok(exit, 'the publisher of a deleted broadcast is disconnected');
        // ... and the key no longer publishes.
        const again = h.publish({rtmpUrl : server.rtmpUrl, key : other.stream_key, seconds : 10});
        publishers.push(again);
        const againExit = await again.waitExit(8000);
        assert.ok(againExit && againExit.code !== 0,
                  `publishing to an ended broadcast must be refused: ${JSON.stringify(againExit)}`);
        assert.equal((await server.getStatus(other.id)).status, 'ended');

        await h.waitFor(async () =>
                            (await server.get(`/vod/${other.id}/index.m3u8`)).status === 200,
                        {timeoutMs : 10000, what : 'the deleted broadcast VOD playlist'});
        h.validateVodPlaylist((await server.get(`/vod/${other.id}/index.m3u8`)).text);
    });
});
