// Chat test helpers: a WebSocket chat client (the `ws` package) that records every message it
// gets, a guest-token helper, and a private redis-server for the multi-node tests.

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';

import {makeTempDir, spawnTracked, waitFor} from './harness.mjs';

/** A free loopback TCP port (bound, then released). */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const {port} = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

/** Starts a private redis-server on a free loopback port; stop() kills it. */
export async function startRedis() {
    const dir = makeTempDir('livehouse-redis-');
    const port = await freePort();
    const child = spawnTracked('redis-server',
                               [
                                   '--port', String(port), '--bind', '127.0.0.1', '--save', '',
                                   '--appendonly', 'no', '--dir', dir
                               ],
                               {label : 'redis', logFile : path.join(dir, 'redis.log')});
    await waitFor(() => new Promise((resolve) => {
                      const s = net.connect(port, '127.0.0.1', () => {
                          s.end();
                          resolve(true);
                      });
                      s.on('error', () => resolve(false));
                  }),
                  {timeoutMs : 10000, intervalMs : 50, what : 'redis-server to listen'});
    return {
        port,
        address : `127.0.0.1:${port}`,
        stop : async () => {
            child.proc.kill('SIGKILL');
            await child.exited;
        },
    };
}

/** POST /api/v1/auth/guest: {token, user}. */
export async function guest(server, name) {
    const r = await server.request('POST', '/api/v1/auth/guest', {body : JSON.stringify({name})});
    assert.equal(r.status, 201, `guest token: ${r.status} ${r.text}`);
    return r.json();
}

export class ChatClient {
    /**
     * Opens /ws/broadcasts/{id} on `server`; resolves once open. `token` and `since` go in the
     * query. The client records every message in `messages` (parsed JSON).
     */
    static async connect(server, id, {token, since, maxPayload} = {}) {
        const q = new URLSearchParams();
        if (token)
            q.set('token', token);
        if (since !== undefined)
            q.set('since', String(since));
        const qs = q.toString();
        const url = `ws://127.0.0.1:${server.httpPort}/ws/broadcasts/${id}${qs ? `?${qs}` : ''}`;
        const c = new ChatClient(new WebSocket(url, {maxPayload : maxPayload ?? 64 * 1024 * 1024}));
        await new Promise((resolve, reject) => {
            c.ws.once('open', resolve);
            c.ws.once('error', reject);
            c.ws.once('unexpected-response', (_req, res) => {
                reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`),
                                     {status : res.statusCode}));
            });
        });
        return c;
    }

    constructor(ws) {
        this.ws = ws;
        this.messages = [];
        this.closed = null;
        ws.on('message', (data, isBinary) => {
            assert.equal(isBinary, false, 'chat frames are text');
            this.messages.push(JSON.parse(data.toString('utf8')));
        });
        ws.on('close', (code, reason) => { this.closed = {code, reason : reason.toString()}; });
        ws.on('error', () => {});
    }

    send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
    say(text, ref) { this.send(ref ? {type : 'send', text, ref} : {type : 'send', text}); }

    ofType(type) { return this.messages.filter((m) => m.type === type); }
    /** Chat messages received live (not in history), in arrival order. */
    live() { return this.ofType('message'); }

    /** Waits until `pred(this)` is truthy. */
    waitUntil(pred, what, timeoutMs = 10000) {
        return waitFor(() => pred(this), {
            timeoutMs,
            intervalMs : 20,
            what,
            context : () => `messages: ${JSON.stringify(this.messages.slice(-10))}`
        });
    }
    history() { return this.waitUntil((c) => c.ofType('history')[0], 'the history message'); }
    /** The first message of `type` matching `pred`, waiting for it. */
    waitFor(type, pred = () => true, timeoutMs = 10000) {
        return this.waitUntil((c) => c.ofType(type).find(pred), `a "${type}" message`, timeoutMs);
    }
    waitClosed(timeoutMs = 10000) {
        return this.waitUntil((c) => c.closed, 'the connection to close', timeoutMs);
    }
    close() {
        if (!this.closed)
            this.ws.terminate();
    }
}
