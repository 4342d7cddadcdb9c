// HTTP and raw TCP helpers for the integration tests.
//
// httpRequest() uses node:http with a fresh connection per request (agent: false): no pooled
// keep-alive sockets that a server may have closed, and the request path is sent exactly as
// given (no URL normalisation), which the path-traversal tests need. rawHttp() writes bytes
// verbatim and returns every byte the server sent, for checks like "HEAD has no body".
// Everything has a timeout; nothing here retries.

import http from 'node:http';
import net from 'node:net';

/**
 * One HTTP/1.1 request on a new connection.
 * @param {{port:number, host?:string, method?:string, path:string,
 *          headers?:Record<string,string>, body?:string|Buffer, timeoutMs?:number}} opts
 * @returns {Promise<{status:number, headers:Record<string,string|string[]>, body:Buffer,
 *                    text:string, json:()=>any}>} rejects on a network error or timeout.
 */
export function httpRequest(
    {port, host = '127.0.0.1', method = 'GET', path, headers = {}, body, timeoutMs = 10000,
     localAddress}) {
    return new Promise((resolve, reject) => {
        const h = {...headers};
        if (body !== undefined)
            h['Content-Length'] = Buffer.byteLength(body);
        let done = false;
        const req = http.request({host, port, method, path, headers : h, agent : false, localAddress},
                                 (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('error', (e) => {
                if (!done)
                    reject(e);
                done = true;
            });
            res.on('end', () => {
                if (done)
                    return;
                done = true;
                clearTimeout(timer);
                const buf = Buffer.concat(chunks);
                const text = buf.toString('utf8');
                resolve({
                    status : res.statusCode,
                    headers : res.headers,
                    body : buf,
                    text,
                    json() {
                        try {
                            return JSON.parse(text);
                        } catch (e) {
                            throw new Error(`${method} ${path}: body is not JSON (${e.message}): ${
                                text.slice(0, 300)}`);
                        }
                    },
                });
            });
        });
        const timer = setTimeout(() => {
            req.destroy(
                new Error(`${method} ${path}: no complete response within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('error', (e) => {
            clearTimeout(timer);
            if (done)
                return;
            done = true;
            reject(new Error(`${method} ${path}: ${e.message}`));
        });
        if (body !== undefined)
            req.write(body);
        req.end();
    });
}

/**
 * Writes `request` verbatim on a new TCP connection and collects everything the server sends
 * until it closes the connection (send `Connection: close`) or timeoutMs passes.
 * @returns {Promise<{raw:Buffer, status:number|null, headers:Record<string,string>,
 *                    body:Buffer, closed:boolean}>} header names lower-cased; body = bytes after
 *          the first blank line.
 */
export function rawHttp(port, request, {host = '127.0.0.1', timeoutMs = 10000} = {}) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        const sock = net.connect({host, port});
        let closed = false;
        const finish = () => {
            clearTimeout(timer);
            const raw = Buffer.concat(chunks);
            const end = raw.indexOf('\r\n\r\n');
            const head = (end < 0 ? raw : raw.subarray(0, end)).toString('latin1');
            const [statusLine, ...headerLines] = head.split('\r\n');
            const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
            const headers = {};
            for (const l of headerLines) {
                const c = l.indexOf(':');
                if (c > 0)
                    headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
            }
            resolve({
                raw,
                status : m ? Number(m[1]) : null,
                headers,
                body : end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4),
                closed
            });
        };
        const timer = setTimeout(() => {
            sock.destroy();
            finish();
        }, timeoutMs);
        sock.on('data', (c) => chunks.push(c));
        sock.on('end', () => { closed = true; });
        sock.on('close', () => {
            closed = true;
            finish();
        });
        sock.on('error', (e) => {
            if (chunks.length === 0 && e.code === 'ECONNREFUSED') {
                clearTimeout(timer);
                reject(e);
            }
        });
        sock.write(request);
    });
}

/**
 * Connects to host:port, writes `chunks` one after the other (stopping quietly if the server
 * closes first), reads and discards what comes back, and waits for the server to close.
 * @returns {Promise<{closed:boolean, afterMs:number, received:number, error:string|null}>}
 *          closed=false when the connection was still open after timeoutMs (then destroyed).
 */
export function sendAndAwaitClose(port, chunks, {host = '127.0.0.1', timeoutMs = 10000} = {}) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        const sock = net.connect({host, port});
        let received = 0;
        let error = null;
        let settled = false;
        const settle = (closed) => {
            if (settled)
                return;
            settled = true;
            clearTimeout(timer);
            resolve({closed, afterMs : Date.now() - t0, received, error});
        };
        const timer = setTimeout(() => {
            settle(false);
            sock.destroy();
        }, timeoutMs);
        sock.on('data', (c) => { received += c.length; });
        sock.on('error', (e) => { error = e.code ?? e.message; });
        sock.on('close', () => settle(true));
        sock.on('connect', async () => {
            for (const c of chunks) {
                if (sock.destroyed || sock.writableEnded)
                    break;
                // Respect back-pressure so a large garbage stream is really sent, not buffered.
                if (!sock.write(c))
                    await new Promise((r) => sock.once('drain', r).once('close', r));
            }
        });
    });
}

/**
 * A client-side RTMP plain handshake (RTMP spec §5.2): sends C0 (version 3) + C1 (time 0, zero,
 * 1528 random bytes), reads S0+S1+S2, sends C2 echoing S1 (§5.2.4). Resolves with the connected
 * socket, ready for chunk data; the caller owns it.
 * @returns {Promise<{socket: net.Socket, s0: number, extra: Buffer}>}
 */
export function rtmpHandshake(port,
                              {host = '127.0.0.1', timeoutMs = 10000, random = Math.random} = {}) {
    return new Promise((resolve, reject) => {
        const sock = net.connect({host, port});
        const timer = setTimeout(() => {
            sock.destroy();
            reject(
                new Error(`RTMP handshake with port ${port}: no S0+S1+S2 within ${timeoutMs} ms`));
        }, timeoutMs);
        let buf = Buffer.alloc(0);
        const onData = (c) => {
            buf = Buffer.concat([ buf, c ]);
            if (buf.length < 1 + 1536 + 1536)
                return;
            clearTimeout(timer);
            sock.off('data', onData);
            sock.off('close', onClose);
            const s1 = buf.subarray(1, 1 + 1536);
            sock.write(Buffer.from(s1)); // C2 echoes S1 (RTMP spec §5.2.4)
            resolve({socket : sock, s0 : buf[0], extra : buf.subarray(1 + 1536 + 1536)});
        };
        const onClose = () => {
            clearTimeout(timer);
            reject(new Error(`RTMP handshake with port ${port}: closed after ${buf.length} bytes`));
        };
        sock.on('data', onData);
        sock.on('close', onClose);
        sock.on('error', () => {});
        sock.on('connect', () => {
            const c0c1 = Buffer.alloc(1 + 1536);
            c0c1[0] = 3;
            for (let i = 9; i < c0c1.length; i++)
                c0c1[i] = Math.floor(random() * 256);
            sock.write(c0c1);
        });
    });
}

/**
 * Waits until `sock` is closed by the peer (reading and discarding data meanwhile).
 * @returns {Promise<{closed:boolean, afterMs:number}>} closed=false after timeoutMs, and then
 *          the socket is destroyed.
 */
export function awaitClose(sock, timeoutMs) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        if (sock.destroyed) {
            resolve({closed : true, afterMs : 0});
            return;
        }
        const timer = setTimeout(() => {
            resolve({closed : false, afterMs : Date.now() - t0});
            sock.destroy(); // ours to clean up now
        }, timeoutMs);
        sock.on('data', () => {});
        sock.on('close', () => {
            clearTimeout(timer);
            resolve({closed : true, afterMs : Date.now() - t0});
        });
        sock.on('error', () => {});
        sock.resume();
    });
}

/** A small seeded PRNG (mulberry32) so a failing garbage test can be replayed from its seed. */
export function seededRandom(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** `n` bytes from a seeded PRNG. */
export function randomBytesFrom(random, n) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++)
        b[i] = Math.floor(random() * 256);
    return b;
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(
    `^(${METRIC_NAME})(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*\\})?` +
    ' ([-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))( -?[0-9]+)?$');
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses Prometheus text exposition format 0.0.4, strictly: every line must be a # HELP,
 * # TYPE, comment or well-formed sample line, else it is listed in `errors`.
 * @returns {{samples: Array<{name:string, labels:Record<string,string>, value:number}>,
 *            types: Map<string,string>, errors: string[]}}
 */
export function parsePrometheus(text) {
    const samples = [];
    const types = new Map();
    const errors = [];
    // Exposition format 0.0.4: "Each line must end with a line feed character".
    if (text.length > 0 && !text.endsWith('\n'))
        errors.push('the text does not end with a line feed');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
        if (line === '')
            return;
        if (line.startsWith('#')) {
            const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
            if (m && m[1] === 'TYPE') {
                if (!/^(counter|gauge|histogram|summary|untyped)$/.test(m[3] ?? '')) {
                    errors.push(`line ${i + 1}: bad TYPE: ${line}`);
                }
                if (types.has(m[2]))
                    errors.push(`line ${i + 1}: second TYPE line for ${m[2]}`);
                types.set(m[2], m[3]);
            }
            return;
        }
        const m = SAMPLE_LINE.exec(line);
        if (!m) {
            errors.push(`line ${i + 1}: not a sample line: ${line}`);
            return;
        }
        const labels = {};
        for (const l of (m[2] ?? '').matchAll(LABEL))
            labels[l[1]] = l[2];
        const v = m[3].replace(/Inf$/, 'Infinity');
        samples.push({name : m[1], labels, value : Number(v)});
    });
    return {samples, types, errors};
}
