// `livehouse stress` chat clients (issue 7) against a tiny WebSocket chat server started here
// (the `ws` package), which speaks livehouse's chat protocol (docs/API.md "Chat"), delays every
// delivery by a known time and counts what it received: the tester's sent / acked / delivered
// counts must match the server's, its delivery latency must show the delay, the senders'
// tokens must verify, a refused upgrade must count as a failed join; and against livehouse
// itself, a chat flood must deliver every acknowledged message to every client.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {WebSocketServer} from 'ws';

import * as h from './lib/harness.mjs';
import {scenarioFile, stressRun as stress} from './lib/stress.mjs';

const secret = 'stress-chat-secret-0123456789abcdef0123456789';

/** HS256 check of a compact JWT (RFC 7515 §5.2). */
function verifies(token) {
    const [head, payload, sig] = token.split('.');
    const mac = crypto.createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
    return mac === sig;
}

/** A chat room: history on join, an ack to the sender and the message to everyone after
 * `delayMs`. `refuse`: answer every upgrade with 401. */
function tinyChat() {
    const state = {delayMs: 100, refuse: false, received: 0, connections: 0, goodTokens: 0,
                   badTokens: 0, anonymous: 0, offset: 0, upgradePaths: new Set()};
    const server = http.createServer((req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({noServer: true, perMessageDeflate: false});
    server.on('upgrade', (req, socket, head) => {
        if (state.refuse) {
            socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
            return;
        }
        const url = new URL(req.url, 'http://x');
        state.upgradePaths.add(url.pathname);
        const token = url.searchParams.get('token');
        if (token === null) state.anonymous += 1;
        else if (verifies(token)) state.goodTokens += 1;
        else state.badTokens += 1;
        wss.handleUpgrade(req, socket, head, (ws) => {
            state.connections += 1;
            ws.send(JSON.stringify({type: 'history', messages: [], next_offset: 1, resumed: false}));
            ws.on('message', (data) => {
                const m = JSON.parse(data.toString());
                state.received += 1;
                const offset = ++state.offset;
                setTimeout(() => {
                    ws.send(JSON.stringify({type: 'ack', offset, ref: m.ref}));
                    const out = JSON.stringify({type: 'message', offset, id: `m${offset}`,
                                                user: {id: 'u', name: 'u'}, text: m.text,
                                                time: Date.now(), position: 0});
                    for (const c of wss.clients) c.send(out);
                }, state.delayMs);
            });
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({server, wss, state})));
}

const chatScenario = `
name = "tiny chat"
[vars]
broadcast = "room1"
clients = 20
senders = 5
send_rate = 4
token_secret = ""
p99 = "1s"
[[phases]]
executor = "chat-clients"
viewers = "\${clients}"
senders = "\${senders}"
send_rate = "\${send_rate}"
ramp = "500ms"
duration = "\${duration}"
broadcast = "\${broadcast}"
token_secret = "\${token_secret}"
message_bytes = 64
[thresholds]
chat_delivery = ["p99 < \${p99}"]
chat_disconnects = ["count == 0"]
"http_req_failed{step=chat_join}" = ["rate == 0"]
`;



describe('livehouse stress: chat clients against a tiny chat server', {timeout: 120000}, () => {
    let tiny;
    let dir;
    let target;

    before(async () => {
        tiny = await tinyChat();
        dir = h.makeTempDir('livehouse-stress-chat-');
        target = `http://127.0.0.1:${tiny.server.address().port}`;
    });
    after(() => {
        tiny?.wss.close();
        tiny?.server.close();
    });

    it('counts what the server received and delivered, and measures the delivery delay', async () => {
        Object.assign(tiny.state, {delayMs: 100, refuse: false, received: 0, connections: 0,
                                   goodTokens: 0, badTokens: 0, anonymous: 0});
        const html = path.join(dir, 'chat.html');
        const r = await stress(scenarioFile(dir, chatScenario),
                               {target, duration: '4s', token_secret: secret, p99: '1s'},
                               {threads: 2, html});
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^PASSED$/m);
        const c = r.report.chat;
        assert.equal(c.clients, 20);
        assert.equal(c.joined, 20);
        assert.equal(tiny.state.connections, 20);
        assert.deepEqual([...tiny.state.upgradePaths], ['/ws/broadcasts/room1']);
        // The 5 senders present tokens signed with the secret; the 15 readers none.
        assert.equal(tiny.state.goodTokens, 5);
        assert.equal(tiny.state.badTokens, 0);
        assert.equal(tiny.state.anonymous, 15);
        // 5 senders x 4/s from a second after the ramp (1.5 s) to 1 s before the end (3 s).
        assert.equal(c.sent, tiny.state.received);
        assert.ok(c.sent >= 25 && c.sent <= 35, `${c.sent} sent`);
        assert.equal(c.late_joins, 0);
        assert.equal(c.acked, c.sent);
        assert.equal(r.report.steps.chat_send.requests, c.sent);
        assert.equal(r.report.steps.chat_send.failed, 0);
        // Every message reaches every client, and each delivery took the server's 100 ms.
        assert.equal(c.delivered, c.acked * 20);
        assert.equal(c.received, c.delivered);
        assert.ok(c.delivery.p50_us >= 100000 && c.delivery.p50_us < 200000, JSON.stringify(c.delivery));
        assert.ok(r.report.steps.chat_send.latency.p50_us >= 100000, 'acks come after the delay');
        assert.equal(r.report.steps.chat_join.requests, 20);
        assert.deepEqual(r.report.steps.chat_join.statuses, {101: 20});
        assert.match(r.out, /^chat: 20 clients, 20 joined \(0 late\), \d+ sent/m);
        // The HTML report carries the chat figures (tests/e2e/stress_report renders them).
        const page = fs.readFileSync(html, 'utf8');
        assert.match(page, new RegExp(`"delivered": ?${c.delivered}\\b`),
                     'the report\'s data has the chat');
    });

    it('fails a delivery threshold the delay breaks, with exit code 1', async () => {
        tiny.state.delayMs = 300;
        const r = await stress(scenarioFile(dir, chatScenario),
                               {target, duration: '3s', token_secret: secret, p99: '250ms',
                                clients: 6, senders: 2});
        assert.equal(r.code, 1, r.out);
        assert.match(r.out, /FAIL +chat_delivery p99 < 250ms/);
        assert.ok(r.report.chat.delivery.p50_us >= 300000);
    });

    it('counts a refused upgrade as a failed join with its status', async () => {
        tiny.state.refuse = true;
        const r = await stress(scenarioFile(dir, chatScenario),
                               {target, duration: '2s', token_secret: secret, p99: '1s',
                                clients: 4, senders: 0});
        tiny.state.refuse = false;
        assert.equal(r.code, 1, r.out);
        assert.equal(r.report.chat.joined, 0);
        assert.equal(r.report.steps.chat_join.failed, 4);
        assert.deepEqual(r.report.steps.chat_join.statuses, {401: 4});
    });

    it('refuses senders without a token secret before sending anything', async () => {
        tiny.state.connections = 0;
        const r = await stress(scenarioFile(dir, chatScenario),
                               {target, duration: '2s', p99: '1s'});
        assert.equal(r.code, 2, r.out);
        assert.match(r.out, /chat-clients that send need token_secret/);
        assert.equal(tiny.state.connections, 0);
    });
});

describe('livehouse stress: a chat flood against livehouse', {timeout: 120000}, () => {
    let server;
    let broadcast;

    before(async () => {
        server = await h.startServer({config: {auth: {token_secret: secret}}});
        broadcast = await server.createBroadcast('chat flood');
    });
    after(async () => server?.stop());

    it('delivers every acknowledged message to every client', async () => {
        const dir = h.makeTempDir('livehouse-stress-chat-flood-');
        const json = path.join(dir, 'report.json');
        const scenario = path.join(h.SOURCE_DIR, 'scenarios', 'chat_flood.toml');
        // 200 clients, 20 senders at 0.5/s: 10 messages/s, under the room's delivery cap (30/s)
        // and each sender under its rate limit (1/s, burst 5).
        const r = await stress(scenario, {target: server.baseUrl, broadcast: broadcast.id,
                                          token_secret: secret, clients: 200, senders: 20,
                                          send_rate: 0.5, ramp: '2s', duration: '10s'},
                               {threads: 2, scrape: true, json});
        const c = r.report.chat;
        assert.equal(r.code, 0, `${r.out}\n${server.context()}`);
        assert.equal(c.joined, 200);
        assert.equal(c.disconnects, 0, JSON.stringify(c.errors));
        // 20 senders x 0.5/s from a second after the ramp (3 s) to 1 s before the end (9 s): ~60.
        assert.ok(c.acked >= 50, `${c.acked} acked`);
        assert.equal(c.late_joins, 0, 'everyone was in when the first message went');
        assert.equal(c.acked, c.sent);
        assert.equal(c.skipped, 0);
        assert.equal(c.delivered, c.acked * 200, `${c.delivered} of ${c.acked * 200} deliveries`);
        // The server's log holds exactly the acknowledged messages.
        const replay = (await server.get(`/api/v1/broadcasts/${broadcast.id}/chat?from=0&to=100000`)).json();
        assert.equal(replay.messages.length, c.acked);
        // The server's side shows the clients' connections.
        assert.ok(Math.max(...r.report.server.samples.map((x) => x.connections)) >= 200);
    });
});
