// The HTTP API and the HTTP edges of the server, without a publisher: auth (401), validation
// (400), unknown resources (404), body limit (413), what the public may see (no stream_key),
// /healthz, /metrics exposition format, path traversal attempts against the file-serving
// routes (never a file's contents), and user tokens: a guest token minted over HTTP and checked
// here with node's own HMAC and the generated data/auth.secret, a token minted the way a site
// would, alg "none" refused, and bad guest bodies answered 400 naming the field.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import * as h from './lib/harness.mjs';

const MAX_BODY_BYTES = 4096;
const CANARY = `canary-${process.pid}-${Date.now()}-must-never-be-served`;

/** Asserts a JSON error response: the status, JSON content type and {"error": "<text>"}. */
function assertJsonError(r, status, what) {
    assert.equal(r.status, status, `${what}: status ${r.status} ${r.text}`);
    assert.match(r.headers['content-type'] ?? '', /^application\/json\b/, `${what}: Content-Type`);
    const body = r.json();
    assert.equal(typeof body.error, 'string', `${what}: body ${r.text}`);
    assert.ok(body.error.length > 0, `${what}: empty error message`);
    return body;
}

/** Cache-Control that does not let a 404 stick: no-store/no-cache or max-age <= 2. */
function assertShortCache(cc, what) {
    const m = /(?:^|[,\s])max-age=(\d+)/.exec(cc ?? '');
    assert.ok(/no-store|no-cache/.test(cc ?? '') || (m && Number(m[1]) <= 2),
              `${what}: Cache-Control ${cc}`);
}

describe('HTTP API', {timeout : 60000}, () => {
    let server;
    let root;
    let b;

    before(async () => {
        // Canary files where a traversal out of the data dir or the web dir would land.
        root = h.makeTempDir('livehouse-api-');
        const dataDir = path.join(root, 'data');
        fs.mkdirSync(dataDir);
        for (const p of [path.join(root, 'admin.token'), path.join(dataDir, 'admin.token'),
                         path.join(dataDir, 'secret.txt')]) {
            fs.writeFileSync(p, `${CANARY}\n`);
        }
        server =
            await h.startServer({dataDir, config : {http : {max_body_bytes : MAX_BODY_BYTES}}});
        b = await server.createBroadcast('api test');
    });

    after(async () => { await server?.stop(); });

    it('creates a broadcast with every documented field', async () => {
        const r = await server.request('POST', '/api/v1/broadcasts',
                                       {admin : true, json : {title : 'fields ✓'}});
        assert.equal(r.status, 201, r.text);
        assert.match(r.headers['content-type'] ?? '', /^application\/json\b/);
        const x = r.json();
        assert.equal(x.title, 'fields ✓');
        assert.equal(x.status, 'idle');
        assert.match(x.id, /^[A-Za-z0-9_-]+$/, 'id is URL-safe');
        assert.equal(typeof x.stream_key, 'string');
        assert.ok(x.stream_key.length >= 16,
                  `stream_key ${x.stream_key} is too short to be secret`);
        assert.notEqual(x.id, b.id);
        assert.notEqual(x.stream_key, b.stream_key);
        assert.equal(x.rtmp_url, server.rtmpUrl);
        assert.equal(x.hls_url, server.url(`/hls/${x.id}/index.m3u8`));
        assert.equal(x.vod_url, server.url(`/vod/${x.id}/index.m3u8`));
        assert.equal(x.status_url, server.url(`/api/v1/broadcasts/${x.id}/status`));
        assert.equal(typeof x.watch_url, 'string');
        assert.ok(x.watch_url.includes(x.id), `watch_url ${x.watch_url}`);
        assert.ok(!Number.isNaN(Date.parse(x.created_at)), `created_at ${x.created_at}`);
        assert.ok(Math.abs(Date.parse(x.created_at) - Date.now()) < 60000,
                  `created_at ${x.created_at} is now`);
    });

    it('refuses writes without the admin token (401)', async () => {
        const cases = [
            [ 'no Authorization', {} ],
            [ 'wrong token', {token : 'not-the-token'} ],
            [ 'token prefix', {token : server.token.slice(0, -1)} ],
            [ 'token plus a character', {token : `${server.token}0`} ],
            [
                'Basic scheme', {
                    headers : {
                        Authorization :
                            `Basic ${Buffer.from(`admin:${server.token}`).toString('base64')}`
                    }
                }
            ],
        ];
        for (const [what, opts] of cases) {
            const r =
                await server.request('POST', '/api/v1/broadcasts', {...opts, json : {title : 'x'}});
            assertJsonError(r, 401, `POST with ${what}`);
            // RFC 9110 §11.6.1: a 401 "MUST send a WWW-Authenticate header field".
            assert.match(r.headers['www-authenticate'] ?? '', /^Bearer\b/i,
                         `${what}: WWW-Authenticate`);
        }
        assertJsonError(await server.request('DELETE', `/api/v1/broadcasts/${b.id}`), 401,
                        'DELETE without token');
        assertJsonError(
            await server.request('DELETE', `/api/v1/broadcasts/${b.id}`, {token : 'nope'}), 401,
            'DELETE wrong token');
        assert.equal((await server.getStatus(b.id)).status, 'idle',
                     'the refused DELETE changed nothing');
    });

    it('rejects malformed create requests (400)', async () => {
        const cases = [
            [ 'truncated JSON', '{"title": ' ],
            [ 'not JSON', 'title=hello' ],
            [ 'empty body', '' ],
            [ 'a JSON array', '["title"]' ],
            [ 'missing title', '{}' ],
            [ 'title not a string', '{"title": 42}' ],
            [ 'title null', '{"title": null}' ],
            [ 'empty title', '{"title": ""}' ],
        ];
        for (const [what, body] of cases) {
            const r = await server.request('POST', '/api/v1/broadcasts', {
                admin : true,
                body,
                headers : {'Content-Type' : 'application/json'},
            });
            const err = assertJsonError(r, 400, what);
            if (/title/.test(what))
                assert.match(err.error, /title/,
                             `${what}: the error names the field: ${err.error}`);
        }
    });

    it('answers unknown resources with 404 and a JSON error', async () => {
        assertJsonError(await server.get('/api/v1/broadcasts/doesnotexist'), 404,
                        'GET unknown broadcast');
        assertJsonError(await server.get('/api/v1/broadcasts/doesnotexist/status'), 404,
                        'status of unknown broadcast');
        assertJsonError(
            await server.request('DELETE', '/api/v1/broadcasts/doesnotexist', {admin : true}), 404,
            'DELETE unknown');
        const hls = await server.get('/hls/doesnotexist/index.m3u8');
        assert.equal(hls.status, 404);
        assertShortCache(hls.headers['cache-control'], 'unknown broadcast playlist');
        assert.equal((await server.get(`/hls/${b.id}/seg-999999.ts`)).status, 404);
        assert.equal((await server.get(`/vod/${b.id}/index.m3u8`)).status, 404,
                     'no VOD for an idle broadcast');
    });

    it('answers an unknown path with 404 and a short Cache-Control', async () => {
        for (const p
                 of ['/nope', '/api/v1/nope', '/api/v2/broadcasts', '/hls', '/favicon.ico.bak']) {
            const r = await server.get(p);
            assert.equal(r.status, 404, `${p}: ${r.status}`);
            assertShortCache(r.headers['cache-control'], p);
        }
    });

    it('answers a wrong method with 405 and Allow', async () => {
        const r = await server.request('PUT', `/api/v1/broadcasts/${b.id}`,
                                       {admin : true, json : {title : 'y'}});
        assert.equal(r.status, 405, `PUT on a broadcast: ${r.status}`);
        // RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in a 405".
        assert.match(r.headers.allow ?? '', /\bGET\b/);
    });

    it('refuses an oversized body (413) and an oversized header', async () => {
        const body = JSON.stringify({title : 'x'.repeat(MAX_BODY_BYTES * 4)});
        const r = await server.request(
            'POST', '/api/v1/broadcasts',
            {admin : true, body, headers : {'Content-Type' : 'application/json'}});
        assertJsonError(r, 413,
                        `POST of ${body.length} bytes with max_body_bytes ${MAX_BODY_BYTES}`);
        const big = await server.get('/healthz', {headers : {'X-Filler' : 'y'.repeat(64 * 1024)}});
        assert.ok(big.status === 431 || big.status === 400, `64 KiB header: ${big.status}`);
        assert.equal((await server.get('/healthz')).status, 200, 'the server is still fine');
    });

    it('never shows the stream key to the public', async () => {
        const list = await server.get('/api/v1/broadcasts');
        assert.equal(list.status, 200);
        const items = list.json().broadcasts;
        assert.ok(items.some((x) => x.id === b.id), 'the broadcast is listed');
        for (const x of items)
            assert.ok(!('stream_key' in x), `public list shows a stream_key: ${JSON.stringify(x)}`);
        assert.ok(!list.text.includes(b.stream_key), 'the key appears in the public list');

        const one = await server.get(`/api/v1/broadcasts/${b.id}`);
        assert.equal(one.status, 200);
        assert.equal(one.json().id, b.id);
        assert.ok(!one.text.includes(b.stream_key), 'the key appears in the public broadcast');
        const st = await server.get(`/api/v1/broadcasts/${b.id}/status`);
        assert.ok(!st.text.includes(b.stream_key), 'the key appears in the status');

        const wrong = await server.get('/api/v1/broadcasts', {token : 'not-the-token'});
        assert.ok(!wrong.text.includes(b.stream_key), 'a wrong token sees the key');

        const adminList = await server.listBroadcasts({admin : true});
        assert.equal(adminList.find((x) => x.id === b.id)?.stream_key, b.stream_key,
                     'admin list shows the key');
        assert.equal((await server.getBroadcast(b.id, {admin : true})).stream_key, b.stream_key,
                     'admin GET shows the key');
    });

    it('serves /healthz', async () => {
        const r = await server.get('/healthz');
        assert.equal(r.status, 200);
    });

    it('serves /metrics in Prometheus text format', async () => {
        const r = await server.get('/metrics');
        assert.equal(r.status, 200);
        assert.match(r.headers['content-type'] ?? '', /^text\/plain\b/);
        const m = h.parsePrometheus(r.text);
        assert.deepEqual(m.errors, [], 'every line is valid exposition format');
        assert.ok(m.samples.length > 0, 'some samples');
        const counter = [...m.types ].find(
            ([ name, type ]) => type === 'counter' && /http/.test(name) && /request/.test(name));
        assert.ok(counter, 'an HTTP request counter is declared');
        for (const [name, type] of m.types) {
            if (type !== 'histogram')
                continue;
            assert.ok(
                m.samples.some((s) => s.name === `${name}_bucket` && s.labels.le === '+Inf') ||
                    !m.samples.some((s) => s.name === `${name}_count`),
                `histogram ${name} has a +Inf bucket`);
        }
    });

    it('never serves files outside its directories (path traversal)', async () => {
        const attempts = [
            '/vod/..%2f..%2fetc/passwd',
            '/hls/x/../../admin.token',
            '/static/../../admin.token',
            '/vod/../admin.token',
            '/vod/%2e%2e/%2e%2e/admin.token',
            `/vod/${b.id}/..%2f..%2fadmin.token`,
            `/vod/${b.id}/%2e%2e%2fsecret.txt`,
            `/vod/..%2f${b.id}/index.m3u8`,
            '/vod/%2e%2e/secret.txt',
            '/vod/..%5c..%5cadmin.token/index.m3u8',
            '/static/..%2f..%2f..%2fetc%2fpasswd',
            '/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
            '/static/..%00/admin.token',
            '/watch/..%2f..%2fadmin.token',
            '//etc/passwd',
        ];
        for (const p of attempts) {
            const r = await h.rawHttp(
                server.httpPort,
                `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
            const body = r.body.toString('latin1');
            assert.ok(!body.includes(CANARY), `${p} served a canary file`);
            assert.ok(!body.includes('root:x:0:0'), `${p} served /etc/passwd`);
            assert.ok(r.status === 400 || r.status === 404,
                      `${p}: expected 400 or 404, got ${r.status}`);
        }
        assert.equal((await server.get('/healthz')).status, 200, 'the server is still fine');
    });

    it('mints guest tokens that are HS256 JWTs under data/auth.secret', async () => {
        const r = await server.request('POST', '/api/v1/auth/guest', {json : {name : '  Ann ✓ '}});
        assert.equal(r.status, 201, r.text);
        assert.match(r.headers['content-type'] ?? '', /^application\/json\b/);
        assert.match(r.headers['cache-control'] ?? '', /no-store/);
        const g = r.json();
        assert.match(g.user.id, /^g-[0-9a-f]{24}$/);
        assert.equal(g.user.name, 'Ann ✓');
        const expires = Date.parse(g.expires_at);
        assert.ok(Math.abs(expires - (Date.now() + 86400e3)) < 60e3, `expires_at ${g.expires_at}`);

        // The token, taken apart and checked with node's crypto and the secret file.
        const parts = g.token.split('.');
        assert.equal(parts.length, 3, g.token);
        for (const p of parts)
            assert.match(p, /^[A-Za-z0-9_-]+$/, 'unpadded base64url');
        const decode = (p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
        assert.deepEqual(decode(parts[0]), {alg : 'HS256', typ : 'JWT'});
        const claims = decode(parts[1]);
        assert.equal(claims.sub, g.user.id);
        assert.equal(claims.name, 'Ann ✓');
        assert.equal(claims.exp, Math.floor(expires / 1000));
        assert.ok(Number.isInteger(claims.iat));
        const secretPath = path.join(server.dataDir, 'auth.secret');
        assert.equal(fs.statSync(secretPath).mode & 0o777, 0o600, 'auth.secret mode');
        const secret = fs.readFileSync(secretPath, 'utf8').trim();
        assert.match(secret, /^[0-9a-f]{64}$/);
        const mac = crypto.createHmac('sha256', secret)
                        .update(`${parts[0]}.${parts[1]}`)
                        .digest('base64url');
        assert.equal(parts[2], mac, 'signature = HMAC-SHA256(auth.secret, header.payload)');
        assert.ok(!server.output().includes(secret), 'the secret appears in the server output');

        const me = await server.get('/api/v1/auth/me', {token : g.token});
        assert.equal(me.status, 200, me.text);
        assert.deepEqual(me.json().user, {id : g.user.id, name : 'Ann ✓', role : 'user'});

        // A token minted the way a site would, with the same secret.
        const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const mint = (header, payload, key = secret) => {
            const input = `${b64u(header)}.${b64u(payload)}`;
            return `${input}.${crypto.createHmac('sha256', key).update(input).digest('base64url')}`;
        };
        const exp = Math.floor(Date.now() / 1000) + 600;
        const site = mint({alg : 'HS256', typ : 'JWT'},
                          {sub : 'member-1001', name : 'Mia', role : 'admin', exp});
        const siteMe = await server.get('/api/v1/auth/me', {token : site});
        assert.equal(siteMe.status, 200, siteMe.text);
        assert.deepEqual(siteMe.json().user, {id : 'member-1001', name : 'Mia', role : 'admin'});

        // Refusals name the reason.
        const none = `${b64u({alg : 'none'})}.${b64u({sub : 'x', name : 'x', exp})}.`;
        const cases = [
            [ 'alg none', none, /alg must be HS256/ ],
            [ 'another secret', mint({alg : 'HS256'}, {sub : 'x', name : 'x', exp}, 'k'.repeat(32)),
              /bad signature/ ],
            [ 'expired', mint({alg : 'HS256'}, {sub : 'x', name : 'x', exp : exp - 3600}),
              /token expired/ ],
            [ 'tampered', `${parts[0]}.${b64u({...claims, name : 'Eve'})}.${parts[2]}`,
              /bad signature/ ],
        ];
        for (const [what, token, reason] of cases) {
            const x = await server.get('/api/v1/auth/me', {token});
            const err = assertJsonError(x, 401, what);
            assert.match(err.error, reason, what);
        }
    });

    it('rejects malformed guest requests (400) with a message', async () => {
        const cases = [
            [ 'not JSON', 'name=Ann', /body/ ],
            [ 'empty body', '', /body/ ],
            [ 'a JSON array', '["Ann"]', /body/ ],
            [ 'missing name', '{}', /name/ ],
            [ 'name not a string', '{"name": 1}', /name/ ],
            [ 'blank name', '{"name": "   "}', /name/ ],
            [ 'name too long', JSON.stringify({name : 'n'.repeat(33)}), /name/ ],
            [ 'control character', JSON.stringify({name : 'a\u0007b'}), /name/ ],
        ];
        for (const [what, body, field] of cases) {
            const r = await server.request('POST', '/api/v1/auth/guest', {
                body,
                headers : {'Content-Type' : 'application/json'},
            });
            const err = assertJsonError(r, 400, what);
            assert.match(err.error, field, `${what}: the error names the field: ${err.error}`);
        }
    });
});

// The per-address bucket keys on the TCP peer (the socket, never a header): a second source
// address has a bucket of its own, and X-Forwarded-For changes nothing.
describe('guest tokens are rate limited per client address', {timeout : 60000}, () => {
    let server;
    after(async () => { await server?.stop(); });

    it('refuses an address past its minute, not its neighbour', async () => {
        server = await h.startServer({config : {auth : {guests_per_address_per_minute : 3}}});
        const guest = (opts = {}) =>
            server.request('POST', '/api/v1/auth/guest', {json : {name : 'Ann'}, ...opts});
        for (let i = 0; i < 3; i++)
            assert.equal((await guest()).status, 201, `guest ${i} from 127.0.0.1`);
        const refused = await guest({headers : {'X-Forwarded-For' : '203.0.113.9'}});
        assertJsonError(refused, 429, 'the fourth from 127.0.0.1');
        assert.match(refused.json().error, /too many guest accounts/);
        const retry = refused.headers['retry-after'];
        assert.ok(Number(retry) >= 1, `Retry-After ${retry}`);
        const other = await guest({localAddress : '127.0.0.2'});
        assert.equal(other.status, 201, `from 127.0.0.2: ${other.text}`);
    });
});
