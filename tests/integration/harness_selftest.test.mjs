// Tests of the test harness itself (no livehouse server needed): the playlist validators must
// reject each broken RFC 8216 rule, the history must catch illegal playlist updates, the
// Prometheus parser must reject malformed lines, and the raw network helpers must behave.
// If these checkers could not fail, the integration tests built on them could not either.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import {describe, it} from 'node:test';

import * as h from './lib/harness.mjs';

const PDT = '2024-05-01T12:00:00.000Z';

function livePlaylist(
    {ms = 10, td = 2, durations = [ 2, 2, 2 ], disc = [], ds = 0, extra = ''} = {}) {
    let s = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${td}\n#EXT-X-MEDIA-SEQUENCE:${ms}\n`;
    if (ds)
        s += `#EXT-X-DISCONTINUITY-SEQUENCE:${ds}\n`;
    s += extra;
    durations.forEach((d, i) => {
        if (disc.includes(ms + i))
            s += '#EXT-X-DISCONTINUITY\n';
        if (i === 0)
            s += `#EXT-X-PROGRAM-DATE-TIME:${PDT}\n`;
        s += `#EXTINF:${d.toFixed(3)},\nseg-${ms + i}.ts\n`;
    });
    return s;
}

describe('playlist validation', () => {
    it('accepts a good live playlist and parses it', () => {
        const p =
            h.validateLivePlaylist(livePlaylist({durations : [ 2, 1.96, 2.04 ], disc : [ 11 ]}));
        assert.equal(p.targetDuration, 2);
        assert.equal(p.mediaSequence, 10);
        assert.deepEqual(p.segments.map((s) => [s.sequence, s.uri, s.duration, s.discontinuity]), [
            [ 10, 'seg-10.ts', 2, false ], [ 11, 'seg-11.ts', 1.96, true ],
            [ 12, 'seg-12.ts', 2.04, false ]
        ]);
        assert.equal(p.segments[0].programDateTime, PDT);
        assert.equal(h.playlistDuration(p), 6);
    });

    it('rejects every broken rule', () => {
        const good = livePlaylist();
        const broken = {
            'no #EXTM3U' : good.replace('#EXTM3U\n', ''),
            'no TARGETDURATION' : good.replace('#EXT-X-TARGETDURATION:2\n', ''),
            'EXTINF rounds above TARGETDURATION' : livePlaylist({durations : [ 2, 2.5, 2 ]}),
            'non-integer MEDIA-SEQUENCE' : good.replace('MEDIA-SEQUENCE:10', 'MEDIA-SEQUENCE:1.5'),
            'no MEDIA-SEQUENCE' : good.replace('#EXT-X-MEDIA-SEQUENCE:10\n', ''),
            'no PROGRAM-DATE-TIME' : good.replace(`#EXT-X-PROGRAM-DATE-TIME:${PDT}\n`, ''),
            'bad PROGRAM-DATE-TIME' : good.replace(PDT, '2024-05-01 12:00:00'),
            'absolute URI' : good.replace('seg-11.ts', 'http://cdn.example/seg-11.ts'),
            'rooted URI' : good.replace('seg-11.ts', '/hls/x/seg-11.ts'),
            'ENDLIST in a live playlist' : `${good}#EXT-X-ENDLIST\n`,
            'URI without EXTINF' : `${good}seg-13.ts\n`,
            'fractional EXTINF with version 2' :
                livePlaylist({durations : [ 2, 1.5, 2 ]}).replace('VERSION:3', 'VERSION:2'),
            'TARGETDURATION twice' : good.replace('#EXT-X-MEDIA-SEQUENCE',
                                                  '#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE'),
            'no segments' :
                '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n',
            'zero duration' : livePlaylist({durations : [ 2, 0, 2 ]}),
        };
        for (const [what, text] of Object.entries(broken)) {
            assert.throws(() => h.validateLivePlaylist(text), assert.AssertionError, what);
        }
        assert.throws(() => h.validateLivePlaylist(good, {targetDuration : 3}), /expected 3/);
    });

    it('checks VOD playlists', () => {
        const vod =
            '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n' +
            '#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.000,\nseg-0.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1.500,\nseg-1.ts\n#EXT-X-ENDLIST\n';
        const p = h.validateVodPlaylist(vod);
        assert.equal(p.segments.filter((s) => s.discontinuity).length, 1);
        assert.throws(() => h.validateVodPlaylist(vod.replace('#EXT-X-ENDLIST\n', '')), /ENDLIST/);
        assert.throws(() => h.validateVodPlaylist(vod.replace('#EXT-X-PLAYLIST-TYPE:VOD\n', '')),
                      /VOD/);
        assert.throws(
            () => h.validateVodPlaylist(vod.replace('PLAYLIST-TYPE:VOD', 'PLAYLIST-TYPE:LIVE')),
            /VOD or EVENT/);
    });
});

describe('playlist history (RFC 8216 §6.2.1/§6.2.2)', () => {
    const parse = (o) => h.parsePlaylist(livePlaylist(o));

    it('accepts a window sliding forward and reports what left', () => {
        const hist = new h.PlaylistHistory();
        hist.add(parse({ms : 0, durations : [ 2, 2, 2 ]}));
        const {added, removed} = hist.add(parse({ms : 1, durations : [ 2, 2, 2 ]}));
        assert.deepEqual(added.map((s) => s.sequence), [ 3 ]);
        assert.deepEqual(removed.map((s) => s.sequence), [ 0 ]);
        assert.equal(hist.totalDuration(), 8);
        // A discontinuity leaving the window increments DISCONTINUITY-SEQUENCE.
        hist.add(parse({ms : 2, durations : [ 2, 2, 2 ], disc : [ 4 ]}));
        hist.add(parse({ms : 5, durations : [ 2 ], ds : 1}));
    });

    it('rejects illegal updates', () => {
        const cases = {
            'MEDIA-SEQUENCE decreases' : [ {ms : 5}, {ms : 4} ],
            'TARGETDURATION changes' : [ {ms : 5}, {ms : 5, td : 3} ],
            'a segment changes duration' :
                [ {ms : 5, durations : [ 2, 2, 2 ]}, {ms : 5, durations : [ 2, 1.5, 2 ]} ],
            'a discontinuity appears on an old segment' : [ {ms : 5}, {ms : 5, disc : [ 6 ]} ],
            'DISCONTINUITY-SEQUENCE not incremented' :
                [ {ms : 5, disc : [ 6 ]}, {ms : 7, durations : [ 2 ]} ],
            'segments removed from the end' :
                [ {ms : 5, durations : [ 2, 2, 2 ]}, {ms : 5, durations : [ 2, 2 ]} ],
        };
        for (const [what, [ a, b ]] of Object.entries(cases)) {
            const hist = new h.PlaylistHistory();
            hist.add(parse(a));
            assert.throws(() => hist.add(parse(b)), assert.AssertionError, what);
        }
    });
});

describe('prometheus parser', () => {
    it('parses the exposition format and rejects bad lines', () => {
        const good =
            '# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n' +
            'http_requests_total{route="hls_segment",status="200"} 12\nhttp_requests_total{route="x",status="404"} 1e3\n' +
            '# TYPE up gauge\nup 1\n# TYPE lat histogram\nlat_bucket{le="+Inf"} 3\nlat_sum 0.5\nlat_count 3\nx NaN\n';
        const m = h.parsePrometheus(good);
        assert.deepEqual(m.errors, []);
        assert.equal(m.types.get('http_requests_total'), 'counter');
        assert.deepEqual(m.samples[0], {
            name : 'http_requests_total',
            labels : {route : 'hls_segment', status : '200'},
            value : 12
        });
        assert.equal(m.samples[1].value, 1000);
        for (const bad of ['http requests 1\n', 'x{a=b} 1\n', 'x 1 2 3\n', '# TYPE x thing\n',
                           'x 1', 'x{a="1"\n']) {
            assert.notDeepEqual(h.parsePrometheus(bad).errors, [], JSON.stringify(bad));
        }
    });
});

describe('harness helpers', () => {
    it('renders TOML and merges sections', () => {
        const c =
            h.mergeConfig(h.DEFAULT_CONFIG, {hls : {grace_period_s : 9}, admin : {token : 'a"b'}});
        assert.equal(c.hls.segment_target_ms, 1000);
        assert.equal(c.hls.grace_period_s, 9);
        assert.match(h.toToml(c), /\[admin\]\ntoken = "a\\"b"\n/);
        assert.match(
            h.toToml(c),
            /\[hls\]\nsegment_target_ms = 1000\nwindow_segments = 6\ngrace_period_s = 9\n/);
    });

    it('resolves segment URIs against the playlist path', () => {
        assert.equal(h.resolveUri('/hls/abc/index.m3u8', 'seg-3.ts'), '/hls/abc/seg-3.ts');
        assert.equal(h.resolveUri('/vod/abc/index.m3u8', 'sub/seg-3.ts'), '/vod/abc/sub/seg-3.ts');
    });

    it('replays a seeded random stream', () => {
        const a = h.randomBytesFrom(h.seededRandom(42), 64);
        const b = h.randomBytesFrom(h.seededRandom(42), 64);
        assert.ok(a.equals(b));
        assert.ok(!a.equals(h.randomBytesFrom(h.seededRandom(43), 64)));
    });

    it('checks MPEG-TS framing', () => {
        const pkt = Buffer.alloc(188, 0xff);
        pkt[0] = 0x47;
        pkt[1] = 0x40;
        pkt[2] = 0x00;
        h.assertTransportStream(Buffer.concat([ pkt, pkt ]));
        assert.throws(() => h.assertTransportStream(pkt.subarray(0, 100)), /multiple of 188/);
        const pmtFirst = Buffer.from(pkt);
        pmtFirst[2] = 0x20;
        assert.throws(() => h.assertTransportStream(pmtFirst), /PAT/);
    });

    it('sends requests verbatim and reads raw responses', async () => {
        const seen = [];
        const srv = http.createServer((req, res) => {
            seen.push(req.url);
            res.writeHead(200, {'Content-Type' : 'text/plain', 'Content-Length' : 5});
            res.end(req.method === 'HEAD' ? undefined : 'hello');
        });
        await new Promise((r) => srv.listen(0, '127.0.0.1', r));
        const port = srv.address().port;
        try {
            const r = await h.httpRequest({port, path : '/a/../b%2f..', headers : {'X-T' : '1'}});
            assert.equal(r.status, 200);
            assert.equal(r.text, 'hello');
            const head = await h.rawHttp(
                port, 'HEAD /x/../y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
            assert.equal(head.status, 200);
            assert.equal(head.headers['content-length'], '5');
            assert.equal(head.body.length, 0);
            assert.deepEqual(seen, [ '/a/../b%2f..', '/x/../y' ]);
        } finally {
            await new Promise((r) => srv.close(r));
        }
    });

    it('sees a server close a garbage connection, and sees it not close', async () => {
        let mode = 'close';
        const srv = net.createServer((sock) => {
            sock.on('error', () => {});
            if (mode === 'close')
                sock.once('data', () => sock.destroy());
            else
                sock.resume();
        });
        await new Promise((r) => srv.listen(0, '127.0.0.1', r));
        const port = srv.address().port;
        try {
            const closed = await h.sendAndAwaitClose(
                port, [ Buffer.alloc(1024, 1), Buffer.alloc(1 << 20, 2) ], {timeoutMs : 5000});
            assert.equal(closed.closed, true);
            mode = 'hold';
            const open = await h.sendAndAwaitClose(port, [ Buffer.alloc(10) ], {timeoutMs : 300});
            assert.equal(open.closed, false);
        } finally {
            srv.close();
        }
    });

    it('performs an RTMP client handshake', async () => {
        let c2 = null;
        const srv = net.createServer((sock) => {
            let buf = Buffer.alloc(0);
            const s1 = Buffer.alloc(1536, 7);
            sock.on('data', (d) => {
                buf = Buffer.concat([ buf, d ]);
                if (buf.length === 1537)
                    sock.write(Buffer.concat([ Buffer.from([ 3 ]), s1, buf.subarray(1) ]));
                if (buf.length >= 1537 + 1536) {
                    c2 = buf.subarray(1537, 1537 + 1536);
                    sock.destroy();
                }
            });
            sock.on('error', () => {});
        });
        await new Promise((r) => srv.listen(0, '127.0.0.1', r));
        try {
            const {socket, s0} = await h.rtmpHandshake(srv.address().port);
            assert.equal(s0, 3);
            const r = await h.awaitClose(socket, 5000);
            assert.ok(r.closed);
            assert.ok(c2.equals(Buffer.alloc(1536, 7)), 'C2 echoes S1');
        } finally {
            srv.close();
        }
    });

    it('times out waitFor with a message naming what it waited for', async () => {
        await assert.rejects(
            h.waitFor(() => false, {timeoutMs : 100, intervalMs : 20, what : 'pigs to fly'}),
            /pigs to fly/);
        assert.equal(await h.waitFor(() => 7, {timeoutMs : 100}), 7);
    });
});
