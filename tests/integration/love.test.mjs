// Love (issue 5) end to end on one node, embedded backend: the real binary, ffmpeg publishing
// (love counts only while live), guest tokens. Covers refusals (auth, bodies, unknown, not
// live), the anti-cheat (range, batch size, rate), retries counted once, and exactness under
// concurrent clients (every accepted tap in the total and the ranking, nothing else).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {ChatClient, guest, startRedis} from './lib/chat.mjs';
import * as h from './lib/harness.mjs';
import {startPostgres} from './lib/postgres.mjs';

const config = {
    auth : {token_secret : 'integration-test-secret-0123456789abcdef', guests_per_address_per_minute : 1000},
    love : {taps_per_second : 10, burst_taps : 50, max_taps_per_batch : 100, max_tap_age_s : 60},
};

describe('love on one node', {timeout : 120000}, () => {
    let server;
    let publisher;
    let b;
    const love = (id, token, body) => server.request(
        'POST', `/api/v1/broadcasts/${id}/love`,
        typeof body === 'string' ? {token, body, headers : {'Content-Type' : 'application/json'}}
                                 : {token, json : body});

    before(async () => {
        server = await h.startServer({config});
        b = await server.createBroadcast('love');
        publisher = h.publish({rtmpUrl : server.rtmpUrl, key : b.stream_key});
        await server.waitForStatus(b.id, 'live', 20000, {publisher});
    });
    after(async () => {
        await publisher?.stop();
        await server?.stop();
    });

    it('refuses what it cannot count, with a clear error', async () => {
        const ann = await guest(server, 'Ann');
        assert.equal((await love(b.id, undefined, {batch_id : 'x', taps : [ 1 ]})).status, 401);
        const bad = [
            [ 'not json', /body/ ], [ '{"taps":[1]}', /batch_id/ ],
            [ '{"batch_id":"a","taps":[1,"2"]}', /taps/ ], [ '{"batch_id":"a","taps":[-1]}', /taps/ ],
            [ '{"batch_id":"a","taps":{}}', /taps/ ],
        ];
        for (const [body, field] of bad) {
            const r = await love(b.id, ann.token, body);
            assert.equal(r.status, 400, `${body}: ${r.status} ${r.text}`);
            assert.match(r.json().error, field, body);
        }
        assert.equal((await love('nosuchbroadcast', ann.token, {batch_id : 'a', taps : [ 1 ]})).status, 404);
        const idle = await server.createBroadcast('idle');
        const r = await love(idle.id, ann.token, {batch_id : 'a', taps : [ 1 ]});
        assert.equal(r.status, 409, r.text);
        assert.match(r.json().error, /not live/);
        assert.equal((await server.get(`/api/v1/broadcasts/nosuch/love`)).status, 404);
        assert.equal((await server.get(`/api/v1/broadcasts/${b.id}/love/ranking?limit=0`)).status, 400);
    });

    it('trims taps out of range, over the batch size and over the rate; retries count once',
       async () => {
           const cid = await guest(server, 'Cid');
           const before = (await server.get(`/api/v1/broadcasts/${b.id}/love`)).json().total;
           // 80 taps near the start of the broadcast + 2 far in its future: the future ones are
           // rejected, 50 (the burst) of the rest count, 30 are over the rate.
           const taps = [...Array(80).fill(0.5), 3600, 7200];
           let r = await love(b.id, cid.token, {batch_id : 'c1', taps});
           assert.equal(r.status, 200, r.text);
           assert.deepEqual(r.json(), {
               accepted : 50,
               duplicate : false,
               total : before + 50,
               trimmed : {out_of_range : 2, over_batch : 0, over_rate : 30},
           });
           // The same batch again (a retry): not counted twice.
           r = await love(b.id, cid.token, {batch_id : 'c1', taps});
           assert.equal(r.json().duplicate, true);
           assert.equal(r.json().accepted, 0);
           assert.equal(r.json().total, before + 50);
           // A huge batch from a fresh viewer: 100 kept (the batch size), 50 of them count.
           const dee = await guest(server, 'Dee');
           r = await love(b.id, dee.token, {batch_id : 'd1', taps : Array(300).fill(1)});
           assert.equal(r.json().accepted, 50);
           assert.deepEqual(r.json().trimmed, {out_of_range : 0, over_batch : 200, over_rate : 50});
           // The bucket refills at 10 taps a second.
           await h.delay(1100);
           r = await love(b.id, dee.token, {batch_id : 'd2', taps : Array(30).fill(2)});
           assert.ok(r.json().accepted >= 10 && r.json().accepted <= 12, r.text);
           const total = (await server.get(`/api/v1/broadcasts/${b.id}/love`)).json().total;
           assert.equal(total, before + 100 + r.json().accepted);
       });

    it('pushes the live total to the chat room, at most once a second', async () => {
        const eve = await guest(server, 'Eve');
        const room = await ChatClient.connect(server, b.id);
        try {
            await room.history();
            const start = Date.now();
            let last = 0;
            for (let k = 0; k < 8; k++) { // ~3 s of tapping, a batch every 400 ms
                const r = await love(b.id, eve.token, {batch_id : `e${k}`, taps : [ 0.5, 0.5 ]});
                last = r.json().total;
                await h.delay(400);
            }
            const seen = await room.waitFor('love', (m) => m.total === last);
            assert.equal(seen.type, 'love');
            const pushes = room.ofType('love');
            const seconds = (Date.now() - start) / 1000;
            assert.ok(pushes.length >= 1 && pushes.length <= Math.ceil(seconds) + 1,
                      `${pushes.length} love messages in ${seconds.toFixed(1)} s`);
        } finally {
            room.close();
        }
    });

    it('counts exactly under concurrent clients; the ranking matches', async () => {
        const live = await server.createBroadcast('exact');
        const pub = h.publish({rtmpUrl : server.rtmpUrl, key : live.stream_key});
        try {
            await server.waitForStatus(live.id, 'live', 20000, {publisher : pub});
            const viewers = await Promise.all([...Array(12).keys()].map((i) => guest(server, `v${i}`)));
            const accepted = new Map();
            await Promise.all(viewers.map(async (v, i) => {
                let sum = 0;
                for (let k = 0; k < 6; k++) {
                    const body = {batch_id : `${i}-${k}`, taps : Array(3 + (i % 4)).fill(0.25)};
                    const r = await love(live.id, v.token, body);
                    assert.equal(r.status, 200, r.text);
                    sum += r.json().accepted;
                    if (k % 2 === 0) { // a retry of every other batch counts nothing
                        const again = await love(live.id, v.token, body);
                        assert.equal(again.json().accepted, 0);
                    }
                }
                accepted.set(v.user.id, sum);
            }));
            const expected = [...accepted.values()].reduce((a, x) => a + x, 0);
            assert.ok(expected > 0);
            const total = (await server.get(`/api/v1/broadcasts/${live.id}/love`)).json().total;
            assert.equal(total, expected, 'the total is the sum of what each client was told');
            const ranking =
                (await server.get(`/api/v1/broadcasts/${live.id}/love/ranking?limit=100`)).json().ranking;
            assert.equal(ranking.length, viewers.length);
            for (const e of ranking)
                assert.equal(e.taps, accepted.get(e.user.id), e.user.name);
            for (let i = 1; i < ranking.length; i++)
                assert.ok(ranking[i - 1].taps >= ranking[i].taps, 'most taps first');
            assert.ok(ranking.every((e) => /^v\d+$/.test(e.user.name)), 'names shown');
        } finally {
            await pub.stop();
        }
    });
});

// The end of a broadcast: the final total in the records (GET .../love answers from them), the
// ranking in vod/<id>/love.json, the live counts gone; a node killed while live writes them
// when it restarts (restore() ends the broadcast, recover() finds its counts still in the
// journal or in Redis), once.
describe('love at the end of a broadcast', {timeout : 180000}, () => {
    const sendAll = async (server, id, viewers, rounds) => {
        const sums = new Map();
        for (const [i, v] of viewers.entries()) {
            let sum = 0;
            for (let k = 0; k < rounds; k++) {
                const r = await server.request('POST', `/api/v1/broadcasts/${id}/love`,
                                               {token : v.token, json : {batch_id : `${i}-${k}`, taps : Array(2 + i).fill(0.5)}});
                assert.equal(r.status, 200, r.text);
                sum += r.json().accepted;
            }
            sums.set(v.user.id, sum);
        }
        return sums;
    };
    const readFinal = (server, id) =>
        JSON.parse(fs.readFileSync(path.join(server.dataDir, 'vod', id, 'love.json'), 'utf8'));

    it('writes the total and the ranking once the broadcast ends', async () => {
        const server = await h.startServer({config});
        let pub;
        try {
            const b = await server.createBroadcast('final');
            pub = h.publish({rtmpUrl : server.rtmpUrl, key : b.stream_key});
            await server.waitForStatus(b.id, 'live', 20000, {publisher : pub});
            const viewers = [ await guest(server, 'Fay'), await guest(server, 'Gil') ];
            const sums = await sendAll(server, b.id, viewers, 3);
            const expected = [...sums.values()].reduce((a, x) => a + x, 0);
            // One more batch across three video seconds: the timeline counts per second.
            const spread = await server.request('POST', `/api/v1/broadcasts/${b.id}/love`, {
                token : viewers[0].token,
                json : {batch_id : 'spread', taps : [ 1.2, 1.9, 2.5, 0.1 ]},
            });
            assert.equal(spread.json().accepted, 4);
            const timeline = [ [ 0, expected + 1 ], [ 1, 2 ], [ 2, 1 ] ];
            const live = await server.get(`/api/v1/broadcasts/${b.id}/love/timeline`);
            assert.equal(live.status, 200, live.text);
            assert.deepEqual(live.json().timeline, timeline);
            sums.set(viewers[0].user.id, sums.get(viewers[0].user.id) + 4);
            await pub.stop();
            assert.equal((await server.deleteBroadcast(b.id)).status, 200);
            const file = path.join(server.dataDir, 'vod', b.id, 'love.json');
            await h.waitFor(() => fs.existsSync(file), {timeoutMs : 10000, what : 'love.json'});
            const final = readFinal(server, b.id);
            assert.equal(final.total, expected + 4);
            assert.deepEqual(final.timeline, timeline);
            assert.deepEqual((await server.get(`/api/v1/broadcasts/${b.id}/love/timeline`)).json().timeline,
                             timeline, 'from love.json after the end');
            const byTaps = viewers.map((v) => [ v.user.name, sums.get(v.user.id) ])
                               .sort((x, y) => y[1] - x[1]);
            assert.deepEqual(final.ranking.map((e) => [e.user.name, e.taps]), byTaps);
            // From the records now (the live counts are removed), and the file's ranking.
            assert.equal((await server.get(`/api/v1/broadcasts/${b.id}/love`)).json().total, expected + 4);
            const ranking = (await server.get(`/api/v1/broadcasts/${b.id}/love/ranking`)).json().ranking;
            assert.deepEqual(ranking.map((e) => e.user.name), byTaps.map((x) => x[0]));
            // The analytics log: every counted batch once, as a JSON line.
            const logDir = path.join(server.dataDir, 'love');
            const logged = () => !fs.existsSync(logDir) ? [] :
                fs.readdirSync(logDir).filter((f) => /^taps-\d{8}-\d{2}\.jsonl$/.test(f))
                    .flatMap((f) => fs.readFileSync(path.join(logDir, f), 'utf8').split('\n'))
                    .filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.broadcast === b.id);
            await h.waitFor(() => logged().length >= 7, {timeoutMs : 5000, what : 'the log lines'});
            const lines = logged();
            assert.equal(lines.length, 7, 'six batches and the spread one');
            assert.equal(lines.reduce((a, l) => a + l.taps.length, 0), expected + 4);
            assert.ok(lines.every((l) => Number.isInteger(l.time) && l.user.startsWith('g-')));
            assert.deepEqual(lines.find((l) => l.taps.length === 4).taps, [ 1.2, 1.9, 2.5, 0.1 ]);
            const late = await server.request('POST', `/api/v1/broadcasts/${b.id}/love`,
                                              {token : viewers[0].token, json : {batch_id : 'late', taps : [ 1 ]}});
            assert.equal(late.status, 409);
        } finally {
            await pub?.stop();
            await server.stop();
        }
    });

    // Embedded: the counts come back from the journal (<data_dir>/love.db); Redis keeps them.
    for (const backend of [ 'embedded', 'redis' ]) {
        it(`a node killed while live writes the final counts when it restarts, once (${backend})`, async () => {
            const redis = backend === 'redis' ? await startRedis() : null;
            const dataDir = h.makeTempDir('livehouse-love-crash-');
            const args = redis ? [ '--redis', redis.address ] : [];
            let node;
            let pub;
            try {
                node = await h.startServer({config, args, dataDir});
                const b = await node.createBroadcast('crash');
                pub = h.publish({rtmpUrl : node.rtmpUrl, key : b.stream_key});
                await node.waitForStatus(b.id, 'live', 20000, {publisher : pub});
                const viewers = [ await guest(node, 'Hal'), await guest(node, 'Ivy'), await guest(node, 'Jo') ];
                const sums = await sendAll(node, b.id, viewers, 2);
                const expected = [...sums.values()].reduce((a, x) => a + x, 0);
                assert.ok(expected > 0);
                await node.stop({signal : 'SIGKILL'});
                await pub.stop();
                pub = null;

                node = await h.startServer({config, args, dataDir});
                await h.waitFor(() => fs.existsSync(path.join(dataDir, 'vod', b.id, 'love.json')),
                                {timeoutMs : 15000, what : 'love.json after the restart'});
                assert.equal(readFinal(node, b.id).total, expected);
                await h.waitFor(async () => (await node.get(`/api/v1/broadcasts/${b.id}/love`)).json().total === expected,
                                {timeoutMs : 10000, what : 'the final total from the records'});
                assert.match(node.output(), /ended without its final counts/);
                await node.stop();

                // A third start finds nothing left to write: the counts were removed after it.
                node = await h.startServer({config, args, dataDir});
                await h.delay(1500);
                assert.doesNotMatch(node.output(), /ended without its final counts/);
                assert.equal((await node.get(`/api/v1/broadcasts/${b.id}/love`)).json().total, expected);
            } finally {
                await pub?.stop();
                await node?.stop();
                await redis?.stop();
            }
        });
    }
});

// Two nodes sharing Redis and PostgreSQL: node one ingests the broadcast; node two takes its
// love too (judged against the position node one publishes), and both count into the same
// totals. Retries go through the other node and still count once; the final counts are node
// one's to write, into PostgreSQL.
describe('love on two nodes sharing Redis and PostgreSQL', {timeout : 180000}, () => {
    let redis;
    let pg;
    let one;
    let two;
    let pub;
    before(async () => {
        redis = await startRedis();
        pg = await startPostgres();
        const args = [ '--redis', redis.address, '--postgres', pg.conninfo ];
        one = await h.startServer({config, args});
        two = await h.startServer({config, args});
    });
    after(async () => {
        await pub?.stop();
        await one?.stop();
        await two?.stop();
        await redis?.stop();
        await pg?.stop();
    });

    it('counts exactly what clients on both nodes were told, retries once', async () => {
        const b = await one.createBroadcast('two nodes');
        pub = h.publish({rtmpUrl : one.rtmpUrl, key : b.stream_key});
        await one.waitForStatus(b.id, 'live', 20000, {publisher : pub});
        const nodes = [ one, two ];
        const post = (node, token, body) =>
            node.request('POST', `/api/v1/broadcasts/${b.id}/love`, {token, json : body});
        // Node two learns of the broadcast from node one's clock (every 2 s).
        const probe = await guest(two, 'Probe');
        await h.waitFor(async () => (await post(two, probe.token, {batch_id : 'probe', taps : []})).status === 200,
                        {timeoutMs : 10000, what : 'node two taking love for node one\'s broadcast'});
        const viewers = await Promise.all([...Array(10).keys()].map((i) => guest(nodes[i % 2], `n${i}`)));
        const told = await Promise.all(viewers.map(async (v, i) => {
            let sum = 0;
            for (let k = 0; k < 5; k++) {
                const body = {batch_id : `${i}-${k}`, taps : Array(1 + ((i + k) % 4)).fill(1)};
                const r = await post(nodes[(i + k) % 2], v.token, body);
                assert.equal(r.status, 200, r.text);
                sum += r.json().accepted;
                const again = await post(nodes[(i + k + 1) % 2], v.token, body); // the other node
                assert.equal(again.status, 200, again.text);
                assert.equal(again.json().duplicate, true, 'a retry through the other node');
            }
            return sum;
        }));
        const expected = told.reduce((a, x) => a + x, 0);
        for (const node of nodes) {
            const t = await node.get(`/api/v1/broadcasts/${b.id}/love`);
            assert.equal(t.status, 200, t.text);
            assert.equal(t.json().total, expected, `the total on ${node === one ? 'one' : 'two'}`);
        }
        await pub.stop();
        pub = null;
        assert.equal((await one.deleteBroadcast(b.id)).status, 200);
        const file = path.join(one.dataDir, 'vod', b.id, 'love.json');
        await h.waitFor(() => fs.existsSync(file), {timeoutMs : 10000, what : 'love.json on node one'});
        assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).total, expected);
        // The final total is in PostgreSQL (the live counts are gone from Redis).
        await h.waitFor(async () => (await one.get(`/api/v1/broadcasts/${b.id}/love`)).json().total === expected,
                        {timeoutMs : 10000, what : 'the final total from PostgreSQL'});
        assert.match(one.output(), /records: postgres/, 'node one keeps its records in PostgreSQL');
    });
});
