// Live chat end to end (issue 4): the real binary, real WebSocket clients (the `ws` package),
// a private redis-server shared by two nodes. Covers the protocol (history, message, ack,
// error), refusals (auth, malformed JSON, unknown type, rate, size, banned word, mute),
// oversized frames, a client that never reads, reconnect by offset, moderation, paid messages
// with an idempotency key, and the archive + replay window by media position.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {ChatClient, guest, startRedis} from './lib/chat.mjs';
import * as h from './lib/harness.mjs';

const SECRET = 'integration-test-secret-0123456789abcdef';

function chatConfig(extra = {}) {
    return {
        auth : {token_secret : SECRET},
        chat : {history : 5, max_resume : 4, user_burst : 3, user_messages_per_minute : 30,
                banned_words : [ 'forbidden' ], ...extra},
    };
}

function assertMessage(m, {text, user, offset}) {
    assert.equal(m.type, 'message');
    assert.equal(m.text, text);
    if (user)
        assert.deepEqual(m.user, {id : user.id, name : user.name});
    if (offset !== undefined)
        assert.equal(m.offset, offset);
    assert.equal(typeof m.id, 'string');
    assert.ok(Number.isInteger(m.time) && Math.abs(m.time - Date.now()) < 60000, `time ${m.time}`);
    assert.equal(typeof m.position, 'number');
}

describe('chat on one node', {timeout : 120000}, () => {
    let server;
    let b;
    let ann;
    let bob;
    const clients = [];
    const connect = async (opts) => {
        const c = await ChatClient.connect(server, b.id, opts);
        clients.push(c);
        return c;
    };

    before(async () => {
        server = await h.startServer({config : chatConfig()});
        b = await server.createBroadcast('chat');
        ann = await guest(server, 'Ann');
        bob = await guest(server, 'Bob');
    });
    after(async () => {
        for (const c of clients)
            c.close();
        await server?.stop();
    });

    it('sends history on join, then every message to every reader, and acks the sender',
       async () => {
           const a = await connect({token : ann.token});
           const r = await connect(); // anonymous reader
           const ha = await a.history();
           assert.deepEqual(ha.messages, []);
           assert.equal(ha.next_offset, 1);
           await r.history();
           a.say('hello room', 'r1');
           const ack = await a.waitFor('ack', (m) => m.ref === 'r1');
           assert.equal(ack.offset, 1);
           for (const c of [ a, r ]) {
               const m = await c.waitFor('message', (x) => x.offset === 1);
               assertMessage(m, {text : 'hello room', user : ann.user, offset : 1});
           }
       });

    it('refuses what it cannot take with an error and keeps the connection', async () => {
        const anon = await connect();
        await anon.history();
        anon.say('hi', 'x1');
        const e1 = await anon.waitFor('error', (m) => m.ref === 'x1');
        assert.equal(e1.code, 'auth_required');

        const c = await connect({token : bob.token});
        await c.history();
        c.send('{not json');
        assert.equal((await c.waitFor('error', (m) => m.code === 'bad_json')).type, 'error');
        c.send({type : 'shout', ref : 'x2'});
        assert.equal((await c.waitFor('error', (m) => m.ref === 'x2')).code, 'unknown_type');
        c.say('this is forbidden here', 'x3');
        assert.equal((await c.waitFor('error', (m) => m.ref === 'x3')).code, 'banned_word');
        c.say('x'.repeat(501), 'x4');
        assert.equal((await c.waitFor('error', (m) => m.ref === 'x4')).code, 'text_too_long');
        c.say('still here', 'x5');
        assert.ok(await c.waitFor('ack', (m) => m.ref === 'x5'));
        assert.equal(c.closed, null);
    });

    it('rate-limits each user: a burst, then refusals', async () => {
        const carl = await guest(server, 'Carl');
        const c = await connect({token : carl.token});
        await c.history();
        for (let i = 0; i < 6; ++i)
            c.say(`burst ${i}`, `b${i}`);
        await c.waitUntil((x) => x.ofType('ack').length + x.ofType('error').length >= 6,
                          'six answers');
        assert.equal(c.ofType('ack').length, 3, 'user_burst = 3');
        const limited = c.ofType('error').filter((m) => m.code === 'rate_limited');
        assert.equal(limited.length, 3);
    });

    it('closes a connection that sends an oversized frame with 1009; others keep receiving',
       async () => {
           const big = await connect({token : ann.token});
           const watcher = await connect();
           await big.history();
           await watcher.history();
           big.ws.send('x'.repeat(64 * 1024));
           const closed = await big.waitClosed();
           assert.equal(closed.code, 1009);
           const dana = await guest(server, 'Dana');
           const d = await connect({token : dana.token});
           await d.history();
           d.say('after the big one', 'd1');
           await watcher.waitFor('message', (m) => m.text === 'after the big one');
       });

    it('a late joiner gets the last messages as history; since=<offset> resumes exactly',
       async () => {
           const eve = await guest(server, 'Eve');
           const e = await connect({token : eve.token});
           await e.history();
           // Eve's own burst allows 3: earlier tests already left messages in the log.
           for (let i = 0; i < 3; ++i) {
               e.say(`eve ${i}`, `e${i}`);
               await e.waitFor('ack', (m) => m.ref === `e${i}`);
           }
           const last = e.ofType('ack').at(-1).offset;
           const late = await connect();
           const hist = await late.history();
           assert.equal(hist.messages.length, 5, 'history = 5');
           assert.deepEqual(hist.messages.map((m) => m.offset),
                            [ last - 4, last - 3, last - 2, last - 1, last ]);
           assert.deepEqual(hist.messages.slice(-3).map((m) => m.text),
                            [ 'eve 0', 'eve 1', 'eve 2' ]);
           assert.equal(hist.next_offset, last + 1);

           const resumed = await connect({since : last - 2});
           const rh = await resumed.history();
           assert.equal(rh.resumed, true);
           assert.deepEqual(rh.messages.map((m) => m.offset), [ last - 1, last ]);

           const upToDate = await connect({since : last});
           assert.deepEqual((await upToDate.history()).messages, []);

           // More missed than max_resume (4): told so, then the recent history.
           const gap = await connect({since : 0});
           const err = await gap.waitFor('error', (m) => m.code === 'history_gap');
           assert.match(err.message, /1\.\./);
           const gh = await gap.history();
           assert.equal(gh.resumed, false);
           assert.equal(gh.messages.at(-1).offset, last);
       });

    it('moderation: an admin deletes a message, mutes and unmutes a user', async () => {
        const fay = await guest(server, 'Fay');
        const f = await connect({token : fay.token});
        const w = await connect();
        await f.history();
        await w.history();
        f.say('please delete me', 'f1');
        const {offset} = await f.waitFor('ack', (m) => m.ref === 'f1');
        await w.waitFor('message', (m) => m.offset === offset);

        const unauth = await server.request('DELETE', `/api/v1/broadcasts/${b.id}/chat/messages/${offset}`);
        assert.equal(unauth.status, 401);
        const del = await server.request('DELETE', `/api/v1/broadcasts/${b.id}/chat/messages/${offset}`,
                                         {admin : true});
        assert.equal(del.status, 200, del.text);
        const d = await w.waitFor('delete', (m) => m.target === offset);
        assert.equal(d.offset, del.json().offset);

        const mute = await server.request('POST', `/api/v1/broadcasts/${b.id}/chat/mutes`,
                                          {admin : true, json : {user_id : fay.user.id}});
        assert.equal(mute.status, 200, mute.text);
        await w.waitFor('muted', (m) => m.user === fay.user.id);
        f.say('can I still talk?', 'f2');
        assert.equal((await f.waitFor('error', (m) => m.ref === 'f2')).code, 'muted');
        const bad = await server.request('POST', `/api/v1/broadcasts/${b.id}/chat/mutes`,
                                         {admin : true, body : '{"user_id": 5}'});
        assert.equal(bad.status, 400);

        // Unmute: admin only; the room is told; the user talks again; a second unmute says so.
        const path = `/api/v1/broadcasts/${b.id}/chat/mutes/${encodeURIComponent(fay.user.id)}`;
        assert.equal((await server.request('DELETE', path)).status, 401);
        const unmute = await server.request('DELETE', path, {admin : true});
        assert.equal(unmute.status, 200, unmute.text);
        assert.deepEqual(unmute.json(), {user_id : fay.user.id, muted : false, was_muted : true});
        await w.waitFor('unmuted', (m) => m.user === fay.user.id);
        f.say('back again', 'f3');
        const {offset : back} = await f.waitFor('ack', (m) => m.ref === 'f3');
        assert.equal((await w.waitFor('message', (m) => m.offset === back)).text, 'back again');
        const again = await server.request('DELETE', path, {admin : true});
        assert.equal(again.json().was_muted, false);
    });

    it('paid messages: recorded once per idempotency key, posted once', async () => {
        const gus = await guest(server, 'Gus');
        const w = await connect();
        await w.history();
        const post = (key, body) => server.request(
            'POST', `/api/v1/broadcasts/${b.id}/paid-messages`,
            {token : gus.token, headers : key ? {'Idempotency-Key' : key} : {}, json : body});
        const body = {text : 'super chat!', amount : 500, currency : 'JPY'};
        const first = await post('k-1', body);
        assert.equal(first.status, 201, first.text);
        assert.equal(first.json().duplicate, false);
        const again = await post('k-1', body);
        assert.equal(again.status, 200, again.text);
        assert.equal(again.json().duplicate, true);
        assert.equal(again.json().purchase_id, first.json().purchase_id);
        const m = await w.waitFor('message', (x) => x.text === 'super chat!');
        assert.deepEqual(m.paid, {amount : 500, currency : 'JPY'});
        assert.deepEqual(m.user, {id : gus.user.id, name : gus.user.name});

        assert.equal((await post(undefined, body)).status, 400, 'no Idempotency-Key');
        assert.equal((await post('k-2', {...body, amount : -1})).status, 400);
        assert.equal((await post('k-2', {...body, currency : 'yen'})).status, 400);
        const anon = await server.request('POST', `/api/v1/broadcasts/${b.id}/paid-messages`,
                                          {headers : {'Idempotency-Key' : 'k-3'}, json : body});
        assert.equal(anon.status, 401);
        await h.delay(300);
        assert.equal(w.live().filter((x) => x.text === 'super chat!').length, 1, 'posted once');
    });

    it('refuses upgrades for unknown broadcasts and bad tokens', async () => {
        await assert.rejects(ChatClient.connect(server, 'b_doesnotexist0000'), (e) => e.status === 404);
        await assert.rejects(ChatClient.connect(server, b.id, {token : 'not.a.token'}),
                             (e) => e.status === 401);
        await assert.rejects(ChatClient.connect(server, b.id, {since : 'x'}), (e) => e.status === 400);
    });
});

describe('chat: a client that never reads', {timeout : 120000}, () => {
    let server;
    after(async () => { await server?.stop(); });

    it('is dropped at the hard limit while another client gets every message', async () => {
        server = await h.startServer({
            config : chatConfig({
                max_text_chars : 60000,
                max_message_bytes : 65536,
                user_burst : 1000,
                user_messages_per_minute : 600000,
                deliver_per_second : 10000,
                send_hard_limit_bytes : 4 * 1024 * 1024,
            })
        });
        const b = await server.createBroadcast('slow');
        const sender = await guest(server, 'Flooder');
        // The stuck client: a raw socket that does the handshake and then never reads.
        const stuck = net.connect(server.httpPort, '127.0.0.1');
        await new Promise((resolve) => stuck.once('connect', resolve));
        stuck.write(`GET /ws/broadcasts/${b.id} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
                    'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
                    'Sec-WebSocket-Version: 13\r\n\r\n');
        await new Promise((resolve) => stuck.once('data', resolve));
        stuck.pause();
        let stuckEnded = false;
        stuck.on('close', () => { stuckEnded = true; });
        stuck.on('error', () => {});

        const reader = await ChatClient.connect(server, b.id);
        await reader.history();
        const s = await ChatClient.connect(server, b.id, {token : sender.token});
        await s.history();
        // Sent in batches paced by the reader (so only the non-reader can fall behind, even on
        // a loaded machine), until the server reports the drop: 20 KB messages, up to 40 MB.
        const text = 'y'.repeat(20000);
        const dropped = async () => {
            const metrics = h.parsePrometheus((await server.get('/metrics')).text);
            const d = metrics.samples.find((m) => m.name === 'ws_slow_consumer_drops_total');
            return d ? d.value : 0;
        };
        let n = 0;
        while (n < 2000 && (await dropped()) < 1) {
            for (let i = 0; i < 50; ++i, ++n)
                s.say(`${n} ${text}`);
            await reader.waitUntil((c) => c.live().length >= n, `${n} messages`, 60000);
        }
        assert.ok((await dropped()) >= 1, `ws_slow_consumer_drops_total after ${n} messages`);
        await reader.waitUntil((c) => c.live().length >= n, `${n} messages`, 60000);
        assert.deepEqual(reader.live().map((m) => Number(m.text.split(' ')[0])),
                         [...Array(n).keys()]);
        assert.equal(reader.closed, null, 'the reading client is not dropped');
        stuck.resume(); // drain what the kernel held: then the connection ends
        await h.waitFor(() => stuckEnded, {timeoutMs : 20000, what : 'the stuck client to be closed'});
        reader.close();
        s.close();
    });
});

describe('chat across two nodes sharing Redis', {timeout : 120000}, () => {
    let redis;
    let one;
    let two;
    const clients = [];

    before(async () => {
        redis = await startRedis();
        const cfg = chatConfig({history : 100, max_resume : 100, user_burst : 50, deliver_per_second : 1000});
        one = await h.startServer({config : cfg, args : [ '--redis', redis.address ]});
        two = await h.startServer({
            config : h.mergeConfig(cfg, {chat : {accept_unknown_broadcasts : true}}),
            args : [ '--redis', redis.address ]
        });
    });
    after(async () => {
        for (const c of clients)
            c.close();
        await one?.stop();
        await two?.stop();
        await redis?.stop();
    });

    it('clients on both nodes see every message in the same order; history and resume work',
       async () => {
           const b = await one.createBroadcast('two nodes');
           const ann = await guest(one, 'Ann');
           const bob = await guest(two, 'Bob'); // same secret: tokens work on either node
           const connect = async (server, opts) => {
               const c = await ChatClient.connect(server, b.id, opts);
               clients.push(c);
               await c.history();
               return c;
           };
           const a1 = await connect(one, {token : ann.token});
           const r1 = await connect(one);
           const b2 = await connect(two, {token : bob.token});
           const r2 = await connect(two);
           const n = 20;
           for (let i = 0; i < n; ++i) {
               a1.say(`ann ${i}`);
               b2.say(`bob ${i}`);
           }
           const all = [ a1, r1, b2, r2 ];
           for (const c of all)
               await c.waitUntil((x) => x.live().length >= 2 * n, `${2 * n} messages`, 20000);
           const order = r1.live().map((m) => `${m.offset}:${m.text}`);
           for (const c of all)
               assert.deepEqual(c.live().map((m) => `${m.offset}:${m.text}`), order);
           assert.deepEqual(r1.live().map((m) => m.offset), [...Array(2 * n).keys()].map((i) => i + 1));
           // Each sender's messages keep their own order.
           const anns = r2.live().filter((m) => m.user.id === ann.user.id).map((m) => m.text);
           assert.deepEqual(anns, [...Array(n).keys()].map((i) => `ann ${i}`));

           const late = await connect(two);
           const hist = late.ofType('history')[0];
           assert.deepEqual(hist.messages.map((m) => `${m.offset}:${m.text}`), order);

           const back = await ChatClient.connect(one, b.id, {since : 35});
           clients.push(back);
           const rh = await back.history();
           assert.deepEqual(rh.messages.map((m) => m.offset), [ 36, 37, 38, 39, 40 ]);
       });

    // Node two has no copy of the broadcast (a chat-only node): its messages get the media
    // position node one publishes (cluster::broadcast_clocks), so the VOD replay puts them in the right place.
    it('a chat-only node stamps the media position of the node that ingests', async () => {
        const b = await one.createBroadcast('positions');
        const pub = h.publish({rtmpUrl : one.rtmpUrl, key : b.stream_key});
        try {
            await one.waitForStatus(b.id, 'live', 20000, {publisher : pub});
            const ann = await guest(one, 'Ann');
            const bob = await guest(two, 'Bob');
            const a1 = await ChatClient.connect(one, b.id, {token : ann.token});
            const b2 = await ChatClient.connect(two, b.id, {token : bob.token});
            clients.push(a1, b2);
            await a1.history();
            await b2.history();
            await h.delay(3000); // node one publishes its broadcasts' positions every 2 s
            const pair = async (tag) => {
                a1.say(`one ${tag}`);
                b2.say(`two ${tag}`);
                const m1 = await a1.waitFor('message', (m) => m.text === `one ${tag}`);
                const m2 = await a1.waitFor('message', (m) => m.text === `two ${tag}`);
                return [ m1.position, m2.position ];
            };
            const [p1, q1] = await pair('early');
            await h.delay(3000);
            const [p2, q2] = await pair('late');
            assert.ok(p1 > 0 && q1 > 0, `positions ${p1} (one) ${q1} (two)`);
            assert.ok(Math.abs(q1 - p1) < 1.5, `two stamps what one does: ${q1} vs ${p1}`);
            assert.ok(Math.abs(q2 - p2) < 1.5, `two stamps what one does: ${q2} vs ${p2}`);
            assert.ok(q2 - q1 >= 2 && q2 - q1 < 5, `two's positions advance: ${q1} -> ${q2}`);
        } finally {
            await pub.stop();
        }
    });
});

describe('chat archive and replay', {timeout : 180000}, () => {
    let server;
    let publisher;
    after(async () => {
        await publisher?.stop();
        await server?.stop();
    });

    it('writes the log next to the VOD at the end; replay windows go by media position',
       async () => {
           server = await h.startServer({config : chatConfig({user_burst : 10})});
           const b = await server.createBroadcast('archive');
           const ann = await guest(server, 'Ann');
           publisher = h.publish({rtmpUrl : server.rtmpUrl, key : b.stream_key});
           await server.waitForStatus(b.id, 'live', 20000, {publisher});
           const c = await ChatClient.connect(server, b.id, {token : ann.token});
           await c.history();
           c.say('early', 'm1');
           const early = await c.waitFor('message', (m) => m.text === 'early');
           await h.delay(3000);
           c.say('delete me', 'm2');
           const doomed = await c.waitFor('message', (m) => m.text === 'delete me');
           c.say('late', 'm3');
           const late = await c.waitFor('message', (m) => m.text === 'late');
           assert.ok(late.position >= early.position + 2,
                     `positions advance with the media: ${early.position} -> ${late.position}`);
           const del = await server.request(
               'DELETE', `/api/v1/broadcasts/${b.id}/chat/messages/${doomed.offset}`, {admin : true});
           assert.equal(del.status, 200);

           const liveReplay = await server.get(`/api/v1/broadcasts/${b.id}/chat?from=0&to=1000`);
           assert.equal(liveReplay.status, 200, liveReplay.text);
           assert.equal(liveReplay.json().source, 'live');
           assert.deepEqual(liveReplay.json().messages.map((m) => m.text), [ 'early', 'late' ]);

           await publisher.stop();
           const end = await server.deleteBroadcast(b.id);
           assert.equal(end.status, 200);
           const file = path.join(server.dataDir, 'vod', b.id, 'chat.json');
           await h.waitFor(() => fs.existsSync(file), {timeoutMs : 10000, what : 'chat.json'});
           const archived = JSON.parse(fs.readFileSync(file, 'utf8'));
           assert.equal(archived.broadcast_id, b.id);
           assert.deepEqual(archived.entries.map((e) => e.type),
                            [ 'message', 'message', 'message', 'delete' ]);

           const mid = (early.position + late.position) / 2;
           const first = await server.get(`/api/v1/broadcasts/${b.id}/chat?from=0&to=${mid}`);
           assert.equal(first.status, 200, first.text);
           assert.equal(first.json().source, 'archive');
           assert.deepEqual(first.json().messages.map((m) => m.text), [ 'early' ]);
           const second = await server.get(`/api/v1/broadcasts/${b.id}/chat?from=${mid}&to=100000`);
           assert.deepEqual(second.json().messages.map((m) => m.text), [ 'late' ]);
           assert.equal((await server.get(`/api/v1/broadcasts/${b.id}/chat?from=5&to=1`)).status, 400);
           assert.equal((await server.get(`/api/v1/broadcasts/${b.id}/chat?from=x`)).status, 400);

           c.say('after the end', 'm4');
           assert.equal((await c.waitFor('error', (m) => m.ref === 'm4')).code, 'broadcast_ended');
           c.close();
       });
    // SIGTERM while live, the log in Redis: shutdown ends the broadcast, and the archive (a log
    // read from Redis, then a file write) is on disk before the process exits.
    it('archives a live room at SIGTERM with the log in Redis', async () => {
        const redis = await startRedis();
        let node;
        let pub;
        try {
            node = await h.startServer({config : chatConfig(), args : [ '--redis', redis.address ]});
            const b = await node.createBroadcast('sigterm');
            const kim = await guest(node, 'Kim');
            pub = h.publish({rtmpUrl : node.rtmpUrl, key : b.stream_key});
            await node.waitForStatus(b.id, 'live', 20000, {publisher : pub});
            const c = await ChatClient.connect(node, b.id, {token : kim.token});
            await c.history();
            for (const [i, text] of [ 'one', 'two', 'three' ].entries()) {
                c.say(text, `k${i}`);
                await c.waitFor('message', (m) => m.text === text);
            }
            const exit = await node.stop();
            assert.equal(exit.code, 0, `clean exit: ${JSON.stringify(exit)}`);
            c.close();
            const file = path.join(node.dataDir, 'vod', b.id, 'chat.json');
            assert.ok(fs.existsSync(file), 'chat.json written before the exit');
            const archived = JSON.parse(fs.readFileSync(file, 'utf8'));
            assert.deepEqual(archived.entries.map((e) => e.text), [ 'one', 'two', 'three' ]);
        } finally {
            await pub?.stop();
            await node?.stop();
            await redis.stop();
        }
    });
});
