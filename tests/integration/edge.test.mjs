// The edge tier (issue 6): an origin with a live broadcast (ffmpeg publishing), edges in front
// of it (edge1 -> origin, edge2 -> edge1), and what a flash crowd costs the origin. Counts
// come from the servers' own /metrics: edge_upstream_requests_total on an edge, the origin's
// http_requests_total for its HLS route.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import {after, before, describe, it} from 'node:test';

import * as h from './lib/harness.mjs';

const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/** Requests the origin answered on its HLS route (playlists and segments, every status). */
const originHls = (origin) => h.metricValue(origin, 'http_requests_total', {route : 'origin.hls'});
const upstreamMisses = (edge) =>
    h.metricValue(edge, 'edge_upstream_requests_total', {reason : 'miss'});
const upstreamAll = (edge) => h.metricValue(edge, 'edge_upstream_requests_total');

/** `n` GETs of `path` at once, each on its own connection. */
function crowd(server, path, n) {
    const agent = new http.Agent({keepAlive : false, maxSockets : Infinity});
    const one = () => new Promise((resolve, reject) => {
        const req = http.get({host : '127.0.0.1', port : server.httpPort, path, agent}, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({
                              status : res.statusCode,
                              headers : res.headers,
                              body : Buffer.concat(chunks),
                          }));
            res.on('error', reject);
        });
        req.setTimeout(20000, () => req.destroy(new Error(`GET ${path}: timeout`)));
        req.on('error', reject);
    });
    return Promise.all(Array.from({length : n}, one)).finally(() => agent.destroy());
}

describe('edge tier', {timeout : 240000}, () => {
    let origin;
    let edge1;
    let edge2;
    let broadcast;
    let publisher;

    const used = new Set(); // segments some test already asked an edge for

    /**
     * The origin's live playlist (requested at the origin itself) once its newest segment is
     * one no test used yet, which is then marked used. @returns [parsed, newest segment]
     */
    async function freshSegment() {
        const {parsed} = await origin.waitForPlaylist(
            broadcast.id,
            (p) => p.segments.length >= 3 && !used.has(p.segments[p.segments.length - 1].uri),
            {what : 'a segment no edge has seen'});
        const seg = parsed.segments[parsed.segments.length - 1];
        used.add(seg.uri);
        return seg;
    }

    before(async () => {
        // A 1 s keep-alive idle timeout: the edges' idle upstream connections get closed under
        // them, which a POST (never retried) must survive.
        origin = await h.startServer({config : {http : {idle_timeout_s : 1}}});
        broadcast = await origin.createBroadcast('edge');
        publisher = h.publish({rtmpUrl : origin.rtmpUrl, key : broadcast.stream_key});
        await origin.waitForStatus(broadcast.id, 'live', 20000, {publisher});
        await origin.waitForPlaylist(broadcast.id, (p) => p.segments.length >= 3);
        edge1 = await h.startEdge(origin.baseUrl);
        edge2 = await h.startEdge(edge1.baseUrl);
    });

    after(async () => {
        await publisher?.stop();
        await Promise.all([ edge2?.stop(), edge1?.stop(), origin?.stop() ]);
    });

    it('serves /healthz and its own /metrics, and the origin\'s pages and API', async () => {
        const health = await edge2.get('/healthz');
        assert.equal(health.status, 200);
        const status = await edge2.get(`/api/v1/broadcasts/${broadcast.id}/status`);
        assert.equal(status.status, 200, status.text);
        assert.equal(status.json().status, 'live');
        const page = await edge2.get(`/watch/${broadcast.id}`);
        assert.equal(page.status, 200, `watch page through two edges: ${page.status}`);
        assert.match(page.text, /<html/i);
        // The status and the page went through the cache path (/healthz is the edge's own).
        assert.ok((await h.metricValue(edge2, 'edge_requests_total')) >= 2);
    });

    it('1,000 concurrent requests for one cold segment: 1 upstream request, 1,000 bodies',
       async () => {
           const seg = await freshSegment();
           const path = h.resolveUri(`/hls/${broadcast.id}/index.m3u8`, seg.uri);
           const reference = await origin.get(path);
           assert.equal(reference.status, 200);
           h.assertTransportStream(reference.body, seg.uri);

           const before1 = await upstreamMisses(edge1);
           const got = await crowd(edge1, path, 1000);
           const after1 = await upstreamMisses(edge1);
           assert.equal(after1 - before1, 1, 'exactly one upstream request for the segment');
           const want = sha(reference.body);
           for (const r of got) {
               assert.equal(r.status, 200);
               assert.equal(r.body.length, reference.body.length);
               assert.equal(sha(r.body), want, 'every body is the segment');
           }
           const labels = new Set(got.map((r) => r.headers['x-cache']));
           assert.ok(labels.has('MISS'), `x-cache labels ${[...labels ]}`);
           assert.ok((await h.metricValue(edge1, 'edge_requests_total', {result : 'coalesced'})) +
                             (await h.metricValue(edge1, 'edge_requests_total', {result : 'hit'})) >=
                         999,
                     'the others joined the fetch or hit the stored copy');
       });

    it('two tiers: 1,000 requests at the second edge cost the origin one request', async () => {
        const seg = await freshSegment();
        const path = h.resolveUri(`/hls/${broadcast.id}/index.m3u8`, seg.uri);
        const reference = await origin.get(path);
        const beforeOrigin = await originHls(origin);
        const before1 = await upstreamMisses(edge1);
        const before2 = await upstreamMisses(edge2);
        const got = await crowd(edge2, `${path}?sig=only-auth-${Date.now()}`, 1000);
        const afterOrigin = await originHls(origin);
        const want = sha(reference.body);
        for (const r of got) {
            assert.equal(r.status, 200);
            assert.equal(sha(r.body), want);
        }
        // The metrics scrape is not an HLS request: the delta is the edges' fetches only.
        assert.equal(afterOrigin - beforeOrigin, 1, 'one request reached the origin');
        assert.equal((await upstreamMisses(edge2)) - before2, 1, 'edge2 asked edge1 once');
        assert.equal((await upstreamMisses(edge1)) - before1, 1, 'edge1 asked the origin once');
    });

    it('a playlist with max-age 1 under continuous load: about one refresh per second, ' +
           'never two in flight',
       async () => {
           const path = `/hls/${broadcast.id}/index.m3u8`;
           const before1 = await upstreamAll(edge1);
           const stopAt = Date.now() + 5000;
           let answers = 0;
           let maxInFlight = 0;
           const clients = Array.from({length : 16}, async () => {
               while (Date.now() < stopAt) {
                   const r = await edge1.get(path);
                   assert.equal(r.status, 200, `playlist through the edge: ${r.status} ${r.text}`);
                   h.validateLivePlaylist(r.text);
                   answers += 1;
               }
           });
           const sampler = (async () => {
               while (Date.now() < stopAt) {
                   maxInFlight = Math.max(maxInFlight,
                                          await h.metricValue(edge1, 'edge_fetches_in_flight'));
                   await h.delay(20);
               }
           })();
           await Promise.all([...clients, sampler ]);
           const refreshes = (await upstreamAll(edge1)) - before1;
           assert.ok(answers > 200, `the load was continuous (${answers} answers in 5 s)`);
           assert.ok(refreshes >= 3 && refreshes <= 8,
                     `${refreshes} upstream requests in 5 s for a playlist with max-age=1`);
           assert.ok(maxInFlight <= 1, `fetches in flight peaked at ${maxInFlight}`);
       });

    it('404s are cached briefly: a storm for a missing segment costs one upstream request',
       async () => {
           const path = `/hls/${broadcast.id}/seg-999999.ts`;
           const before1 = await upstreamMisses(edge1);
           const first = await crowd(edge1, path, 200);
           const second = await crowd(edge1, path, 200);
           for (const r of [...first, ...second ])
               assert.equal(r.status, 404);
           assert.equal((await upstreamMisses(edge1)) - before1, 1, 'one upstream request');
           await h.delay(2200); // past max-age=1 (+1 s of Age granularity)
           await crowd(edge1, path, 50);
           assert.equal((await upstreamMisses(edge1)) - before1, 2, 'asked again once expired');
       });

    it('passes POSTs and authorized requests through to the origin, never stored', async () => {
        const before = await h.metricValue(edge2, 'edge_requests_total', {result : 'pass'});
        const guest = await edge2.request('POST', '/api/v1/auth/guest', {json : {name : 'Edge'}});
        assert.equal(guest.status, 201, `guest token through two edges: ${guest.text}`);
        assert.equal(guest.headers['x-cache'], 'PASS');
        const {token} = guest.json();
        // Past the origin's 1 s keep-alive timeout: edge1's idle connection is closed by now.
        await h.delay(1500);
        const tap = await edge2.request('POST', `/api/v1/broadcasts/${broadcast.id}/love`,
                                        {token, json : {batch_id : 'edge-1', taps : [ 0.5 ]}});
        assert.equal(tap.status, 200, `love through two edges: ${tap.status} ${tap.text}`);
        assert.equal(tap.json().accepted, 1);
        const me = await edge2.get('/api/v1/auth/me', {token});
        assert.equal(me.status, 200, me.text);
        assert.equal(me.json().user.name, 'Edge');
        const other = await edge2.get('/api/v1/auth/me');
        assert.equal(other.status, 401, 'an authorized answer is never served to another client');
        assert.equal(await h.metricValue(edge2, 'edge_requests_total', {result : 'pass'}) - before,
                     3);
        const total = await origin.get(`/api/v1/broadcasts/${broadcast.id}/love`);
        assert.equal(total.json().total, 1, 'the tap reached the origin once');
    });

    it('upstream down: the stale playlist and cached segments are still served', async () => {
        const playlistPath = `/hls/${broadcast.id}/index.m3u8`;
        const warm = await edge1.get(playlistPath);
        assert.equal(warm.status, 200);
        const p = h.parsePlaylist(warm.text);
        const seg = p.segments[p.segments.length - 1];
        const segPath = h.resolveUri(playlistPath, seg.uri);
        const segment = await edge1.get(segPath);
        assert.equal(segment.status, 200);

        await publisher.stop();
        await origin.stop({signal : 'SIGKILL'});
        await h.delay(2500); // the playlist is now past max-age and stale-while-revalidate

        const stale = await edge1.get(playlistPath);
        assert.equal(stale.status, 200, `stale playlist: ${stale.status} ${stale.text}`);
        assert.equal(stale.headers['x-cache'], 'STALE');
        h.parsePlaylist(stale.text);
        const again = await edge1.get(segPath);
        assert.equal(again.status, 200);
        assert.equal(sha(again.body), sha(segment.body));
        // Through the second tier too (edge2 -> edge1 -> dead origin).
        const viaTwo = await edge2.get(playlistPath);
        assert.equal(viaTwo.status, 200, `second tier: ${viaTwo.status} ${viaTwo.text}`);
        // Never stored: an honest 502, not a hang.
        const cold = await edge1.get(`/hls/${broadcast.id}/seg-888888.ts`);
        assert.equal(cold.status, 502, `uncached object with the origin down: ${cold.status}`);
        assert.ok((await h.metricValue(edge1, 'edge_stale_if_error_total')) >= 1);
    });
});

describe('edge start-up errors', {timeout : 60000}, () => {
    it('refuses to start without a usable upstream, naming the problem', async () => {
        const none = await h.runServerToExit({args : [ '--role', 'edge' ]});
        assert.notEqual(none.code, 0, none.output);
        assert.match(none.output, /edge role needs an upstream/);
        const tls = await h.runServerToExit(
            {args : [ '--role', 'edge', '--upstream', 'https://origin.example:443' ]});
        assert.notEqual(tls.code, 0, tls.output);
        assert.match(tls.output, /only http:\/\/ is supported/);
    });
});

describe('edge memory bound', {timeout : 180000}, () => {
    let origin;
    let edge;
    let broadcast;
    let publisher;
    const cacheBytes = 256 * 1024;

    before(async () => {
        origin = await h.startServer();
        broadcast = await origin.createBroadcast('edge memory');
        publisher = h.publish({rtmpUrl : origin.rtmpUrl, key : broadcast.stream_key});
        await origin.waitForStatus(broadcast.id, 'live', 20000, {publisher});
        edge = await h.startEdge(origin.baseUrl, {
            config : {edge : {cache_bytes : cacheBytes, max_object_bytes : 128 * 1024}},
        });
    });

    after(async () => {
        await publisher?.stop();
        await Promise.all([ edge?.stop(), origin?.stop() ]);
    });

    it('a working set larger than the cache stays within cache_bytes and evicts', async () => {
        const {parsed} = await origin.waitForPlaylist(broadcast.id, (p) => p.mediaSequence +
                                                                                p.segments.length >=
                                                                            14,
                                                      {timeoutMs : 40000});
        const last = parsed.mediaSequence + parsed.segments.length;
        let total = 0;
        for (let round = 0; round < 2; round++) {
            for (let n = 0; n < last; n++) {
                const path = `/hls/${broadcast.id}/seg-${n}.ts`;
                const direct = await origin.get(path);
                assert.equal(direct.status, 200, `${path} at the origin`);
                const r = await edge.get(path);
                assert.equal(r.status, 200, `${path} through the edge`);
                assert.equal(sha(r.body), sha(direct.body), `${path}: same bytes`);
                total += r.body.length;
                const bytes = await h.metricValue(edge, 'edge_cache_bytes');
                assert.ok(bytes <= cacheBytes, `edge_cache_bytes ${bytes} > ${cacheBytes}`);
            }
        }
        assert.ok(total > 2 * cacheBytes, `the working set (${total} bytes) exceeds the cache`);
        assert.ok((await h.metricValue(edge, 'edge_cache_evictions_total')) > 0, 'it evicted');
        assert.ok((await h.metricValue(edge, 'edge_cache_objects')) > 0, 'and still holds some');
    });
});
