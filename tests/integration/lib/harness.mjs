// The integration-test harness: starts the real livehouse binary in a fresh temp dir, talks to
// its HTTP API, publishes with real ffmpeg, probes media with ffprobe, and cleans up.
//
// Environment: LIVEHOUSE_BIN (the server binary; default <source>/build/src/server/livehouse),
// LIVEHOUSE_SOURCE_DIR (default: three folders above this file), LIVEHOUSE_KEEP_TMP=1 keeps the
// temp dirs for debugging, LIVEHOUSE_IT_VERBOSE=1 echoes server output to stderr.
//
// Every child process started here is registered and killed (SIGKILL) when the test process
// exits, whatever the reason; temp dirs are removed at exit too. Every wait is bounded.
//
// Re-exports the playlist checks (hls.mjs) and network helpers (net.mjs), so a test imports
// everything from here.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';

import {parsePlaylist, validateLivePlaylist} from './hls.mjs';
import {httpRequest, parsePrometheus} from './net.mjs';

export * from './hls.mjs';
export * from './net.mjs';
export {delay};

export const SOURCE_DIR = process.env.LIVEHOUSE_SOURCE_DIR ??
                          path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The server binary under test. Throws a clear message when it does not exist. */
export function serverBinary() {
    const bin = process.env.LIVEHOUSE_BIN ?? path.join(SOURCE_DIR, 'build/src/server/livehouse');
    if (!fs.existsSync(bin)) {
        throw new Error(`livehouse binary not found at ${bin} (set LIVEHOUSE_BIN)`);
    }
    return bin;
}

/** Test defaults: short segments and grace period so the suite stays fast. */
export const DEFAULT_CONFIG = Object.freeze({
    hls : {segment_target_ms : 1000, window_segments : 6, grace_period_s : 4},
    // Loopback only: test servers must not be reachable from the network.
    server : {threads : 2, bind : '127.0.0.1'},
});

// ---------------------------------------------------------------------------------------------
// Process and temp-dir bookkeeping

const children = new Set();
const tempDirs = new Set();
const keepTmp = process.env.LIVEHOUSE_KEEP_TMP === '1';
const verbose = process.env.LIVEHOUSE_IT_VERBOSE === '1';

function cleanupAtExit() {
    for (const c of children) {
        try {
            c.kill('SIGKILL');
        } catch {
            // already gone
        }
    }
    children.clear();
    if (!keepTmp) {
        for (const d of tempDirs)
            fs.rmSync(d, {recursive : true, force : true});
    }
}
process.on('exit', cleanupAtExit);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
        cleanupAtExit();
        process.exit(128 + os.constants.signals[sig]);
    });
}

/** A fresh temp dir, removed when the test process exits (unless LIVEHOUSE_KEEP_TMP=1). */
export function makeTempDir(prefix = 'livehouse-it-') {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    tempDirs.add(d);
    return d;
}

/** Spawns a tracked child. Output is kept (the last `keep` characters) for failure messages. */
export function spawnTracked(cmd, args, {env, keep = 256 * 1024, logFile, label} = {}) {
    const proc = spawn(cmd, args, {env, stdio : [ 'ignore', 'pipe', 'pipe' ]});
    children.add(proc);
    let out = '';
    const log = logFile ? fs.createWriteStream(logFile) : null;
    const collect = (chunk) => {
        const s = chunk.toString('utf8');
        out += s;
        if (out.length > keep)
            out = out.slice(out.length - keep);
        log?.write(chunk);
        if (verbose)
            process.stderr.write(`[${label}] ${s}`);
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    const exited = new Promise((resolve) => {
        proc.on('error', (e) => { out += `\n[spawn error: ${e.message}]`; });
        proc.on('close', (code, signal) => {
            children.delete(proc);
            log?.end();
            resolve({code, signal});
        });
    });
    return {proc, exited, output : () => out};
}

/** Races `promise` against a timeout; resolves to `onTimeout` when the time is up. */
async function withTimeout(promise, ms, onTimeout) {
    let timer;
    const t = new Promise((resolve) => { timer = setTimeout(() => resolve(onTimeout), ms); });
    try {
        return await Promise.race([ promise, t ]);
    } finally {
        clearTimeout(timer);
    }
}

/**
 * Polls `fn` (sync or async) every intervalMs until it returns a truthy value, which is returned.
 * Exceptions from fn propagate at once. Throws after timeoutMs, naming `what` and the last value.
 */
export async function waitFor(
    fn, {timeoutMs = 15000, intervalMs = 200, what = 'condition', context} = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        last = await fn();
        if (last)
            return last;
        if (Date.now() >= deadline) {
            const ctx = typeof context === 'function' ? context() : context;
            throw new assert.AssertionError({
                message : `timed out after ${timeoutMs} ms waiting for ${what}` +
                              (last !== undefined ? ` (last: ${JSON.stringify(last)})` : '') +
                              (ctx ? `\n${ctx}` : ''),
            });
        }
        await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
    }
}

// ---------------------------------------------------------------------------------------------
// Config files

/** Renders {section: {key: value}} as TOML (strings, numbers, booleans, string arrays). */
export function toToml(config) {
    let s = '';
    for (const [section, keys] of Object.entries(config)) {
        s += `[${section}]\n`;
        for (const [k, v] of Object.entries(keys)) {
            if (typeof v === 'string')
                s += `${k} = ${JSON.stringify(v)}\n`;
            else if (typeof v === 'number' || typeof v === 'boolean')
                s += `${k} = ${v}\n`;
            else if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
                s += `${k} = [${v.map((x) => JSON.stringify(x)).join(', ')}]\n`;
            else
                throw new Error(`toToml: unsupported value for ${section}.${k}`);
        }
        s += '\n';
    }
    return s;
}

/** Deep-merges section maps: later sections' keys win. */
export function mergeConfig(...configs) {
    const out = {};
    for (const c of configs) {
        for (const [section, keys] of Object.entries(c ?? {}))
            out[section] = {...out[section], ...keys};
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The server

function serverEnv(token, extra) {
    const env = {};
    // Do not let the developer's LIVEHOUSE_* settings leak into the server under test.
    for (const [k, v] of Object.entries(process.env))
        if (!k.startsWith('LIVEHOUSE_'))
            env[k] = v;
    if (token !== null)
        env.LIVEHOUSE_ADMIN_TOKEN = token;
    return {...env, ...extra};
}

/**
 * Spawns `livehouse serve` without waiting for it to be ready. Most tests want startServer().
 * @param {object} [opts]
 * @param {object} [opts.config] TOML sections merged over DEFAULT_CONFIG (pass rawConfig to
 *        write a config file verbatim instead)
 * @param {string} [opts.rawConfig] exact config file text
 * @param {string|null} [opts.adminToken] LIVEHOUSE_ADMIN_TOKEN; null leaves it unset;
 *        default: a random token
 * @param {string} [opts.dataDir] default: <tmp>/data (created)
 * @param {number} [opts.httpPort] default 0; [opts.rtmpPort] default 0
 * @param {string[]} [opts.args] extra command-line arguments
 * @param {object} [opts.env] extra environment
 */
export function spawnServer(opts = {}) {
    const tmpDir = makeTempDir();
    const dataDir = opts.dataDir ?? path.join(tmpDir, 'data');
    fs.mkdirSync(dataDir, {recursive : true});
    const configPath = path.join(tmpDir, 'livehouse.toml');
    fs.writeFileSync(configPath,
                     opts.rawConfig ?? toToml(mergeConfig(DEFAULT_CONFIG, opts.config)));
    const readyFile = path.join(tmpDir, 'ready.json');
    const token =
        opts.adminToken === undefined ? crypto.randomBytes(16).toString('hex') : opts.adminToken;
    const args = [
        'serve',
        '--config',
        configPath,
        '--http-port',
        String(opts.httpPort ?? 0),
        '--rtmp-port',
        String(opts.rtmpPort ?? 0),
        '--data-dir',
        dataDir,
        '--host',
        '127.0.0.1',
        '--ready-file',
        readyFile,
        ...(opts.args ?? []),
    ];
    const child = spawnTracked(serverBinary(), args, {
        env : serverEnv(token, opts.env),
        logFile : path.join(tmpDir, 'server.log'),
        label : 'livehouse',
    });
    return {...child, tmpDir, dataDir, configPath, readyFile, token, args};
}

/**
 * Runs the server expecting it to exit by itself (bad config, port taken).
 * @returns {Promise<{code:number|null, signal:string|null, output:string, timedOut:boolean}>}
 */
export async function runServerToExit(opts = {}, timeoutMs = 15000) {
    const s = spawnServer(opts);
    const r = await withTimeout(s.exited, timeoutMs, null);
    if (r === null) {
        s.proc.kill('SIGKILL');
        const k = await s.exited;
        return {
            ...k,
            output : s.output(),
            timedOut : true,
            readyFile : s.readyFile,
            dataDir : s.dataDir
        };
    }
    return {
        ...r,
        output : s.output(),
        timedOut : false,
        readyFile : s.readyFile,
        dataDir : s.dataDir
    };
}

/**
 * Starts a server and waits (bounded by opts.readyTimeoutMs, default 20 s) for its ready file.
 * Takes the spawnServer() options.
 * @returns {Promise<LivehouseServer>} throws with the server output if it exits or times out.
 */
export async function startServer(opts = {}) {
    const s = spawnServer(opts);
    const server = new LivehouseServer(s);
    let exit = null;
    s.exited.then((r) => { exit = r; });
    const ready =
        await waitFor(() => {
            if (exit) {
                throw new Error(`livehouse exited (code ${exit.code}, signal ${
                                    exit.signal}) before it was ready\n` +
                                `args: ${s.args.join(' ')}\n--- output ---\n${s.output()}`);
            }
            try {
                return JSON.parse(fs.readFileSync(s.readyFile, 'utf8'));
            } catch {
                return null; // not there yet (the server writes it atomically; be lenient anyway)
            }
        }, {
            timeoutMs : opts.readyTimeoutMs ?? 20000,
            intervalMs : 50,
            what : 'the ready file',
            context : () => s.output()
        }).catch(async (e) => {
            s.proc.kill('SIGKILL');
            await s.exited;
            throw e;
        });
    // An edge has no RTMP listener: its ready file says rtmp_port 0.
    for (const k of opts.edge ? ['http_port', 'pid'] : ['http_port', 'rtmp_port', 'pid']) {
        assert.ok(Number.isInteger(ready[k]) && ready[k] > 0,
                  `ready file ${k} is not a positive integer: ${JSON.stringify(ready)}`);
    }
    assert.equal(ready.pid, s.proc.pid, 'ready file pid is the server process id');
    server.httpPort = ready.http_port;
    server.rtmpPort = ready.rtmp_port;
    return server;
}

/**
 * Starts `livehouse serve --role edge --upstream <upstreamUrl>` (an origin's or another edge's
 * baseUrl). opts: the startServer() options; opts.config gets an [edge] section merged in.
 * @returns {Promise<LivehouseServer>}
 */
export function startEdge(upstreamUrl, opts = {}) {
    return startServer({
        ...opts,
        edge : true,
        args : [ '--role', 'edge', '--upstream', upstreamUrl, ...(opts.args ?? []) ],
    });
}

/**
 * One sample of a /metrics scrape: the value of `name` whose labels include `labels`, summed
 * over the series that match (0 when none does).
 */
export async function metricValue(server, name, labels = {}) {
    const r = await server.get('/metrics');
    assert.equal(r.status, 200, `/metrics: ${r.status}`);
    const m = parsePrometheus(r.text);
    return m.samples
        .filter((s) => s.name === name &&
                       Object.entries(labels).every(([ k, v ]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
}

/** A running server and its API. Create with startServer(). */
export class LivehouseServer {
    constructor(spawned) {
        this.proc = spawned.proc;
        this.pid = spawned.proc.pid;
        this.exited = spawned.exited;
        this.tmpDir = spawned.tmpDir;
        this.dataDir = spawned.dataDir;
        this.configPath = spawned.configPath;
        this.token = spawned.token;
        this._output = spawned.output;
        this.httpPort = 0;
        this.rtmpPort = 0;
        this.exitInfo = null;
        this.exited.then((r) => { this.exitInfo = r; });
    }

    /** Everything the server printed (the last 256 KiB). */
    output() { return this._output(); }

    /** The output tail, for assertion messages. */
    context(chars = 4000) {
        const o = this.output();
        const state =
            this.exitInfo ? `server exited: ${JSON.stringify(this.exitInfo)}` : 'server running';
        return `[${state}] --- server output (tail) ---\n${o.slice(-chars)}\n--- end ---`;
    }

    get baseUrl() { return `http://127.0.0.1:${this.httpPort}`; }

    /** rtmp://127.0.0.1:<port>/live */
    get rtmpUrl() { return `rtmp://127.0.0.1:${this.rtmpPort}/live`; }

    url(p) { return `${this.baseUrl}${p}`; }

    /**
     * An HTTP request to this server. opts: headers, body (string|Buffer), json (serialized as
     * the body), admin (adds the Bearer token), token (a specific Bearer token), timeoutMs,
     * localAddress (the client's source address, e.g. '127.0.0.2').
     */
    request(method, p, opts = {}) {
        const headers = {...opts.headers};
        if (opts.admin)
            headers.Authorization = `Bearer ${this.token}`;
        if (opts.token !== undefined)
            headers.Authorization = `Bearer ${opts.token}`;
        let body = opts.body;
        if (opts.json !== undefined) {
            body = JSON.stringify(opts.json);
            headers['Content-Type'] ??= 'application/json';
        }
        return httpRequest(
            {port : this.httpPort, method, path : p, headers, body, timeoutMs : opts.timeoutMs,
             localAddress : opts.localAddress});
    }

    get(p, opts) { return this.request('GET', p, opts); }

    /** POST /api/v1/broadcasts as admin; asserts 201. @returns the broadcast object */
    async createBroadcast(title = 'integration test') {
        const r = await this.request('POST', '/api/v1/broadcasts', {admin : true, json : {title}});
        assert.equal(r.status, 201, `create broadcast: ${r.status} ${r.text}\n${this.context()}`);
        return r.json();
    }

    /** GET /api/v1/broadcasts/{id}; asserts 200. @returns the broadcast object */
    async getBroadcast(id, {admin = false} = {}) {
        const r = await this.get(`/api/v1/broadcasts/${id}`, {admin});
        assert.equal(r.status, 200, `get broadcast ${id}: ${r.status} ${r.text}`);
        return r.json();
    }

    /** GET /api/v1/broadcasts; asserts 200. @returns the broadcasts array */
    async listBroadcasts({admin = false} = {}) {
        const r = await this.get('/api/v1/broadcasts', {admin});
        assert.equal(r.status, 200, `list broadcasts: ${r.status} ${r.text}`);
        const body = r.json();
        assert.ok(Array.isArray(body.broadcasts), `list: no broadcasts array: ${r.text}`);
        return body.broadcasts;
    }

    /** DELETE /api/v1/broadcasts/{id} as admin. @returns the raw response */
    deleteBroadcast(id) {
        return this.request('DELETE', `/api/v1/broadcasts/${id}`, {admin : true});
    }

    /**
     * GET /api/v1/broadcasts/{id}/status; asserts 200. @returns {id, status, media_sequence, ...}
     */
    async getStatus(id) {
        const r = await this.get(`/api/v1/broadcasts/${id}/status`);
        assert.equal(r.status, 200, `status of ${id}: ${r.status} ${r.text}`);
        return r.json();
    }

    /**
     * Polls the status endpoint every 200 ms until it says `status`. With opts.publisher, fails
     * at once (with ffmpeg's output) if that publisher exits first. @returns that status body
     */
    waitForStatus(id, status, timeoutMs = 15000, {publisher} = {}) {
        let last = null;
        return waitFor(async () => {
            last = await this.getStatus(id);
            if (last.status === status)
                return last;
            if (publisher && !publisher.running) {
                throw new assert.AssertionError({
                    message :
                        `broadcast ${id} is ${last.status}, not ${status}, and its publisher ` +
                            `exited: ${JSON.stringify(publisher.exitInfo)}\n${this.context()}`,
                });
            }
            return null;
        }, {
            timeoutMs,
            what : `broadcast ${id} to be ${status}`,
            context : () => `last status: ${JSON.stringify(last)}\n${this.context()}`
        });
    }

    /** GET /hls/{id}/index.m3u8. @returns the raw response */
    getPlaylist(id, kind = 'hls') { return this.get(`/${kind}/${id}/index.m3u8`); }

    /**
     * Polls the live playlist every 200 ms until it is served (200) and, validated, satisfies
     * predicate(parsed). @returns {response, parsed}
     */
    waitForPlaylist(id, predicate = () => true,
                    {timeoutMs = 20000, what = 'the live playlist', validate = true} = {}) {
        let lastText = null;
        return waitFor(async () => {
            const r = await this.getPlaylist(id);
            if (r.status !== 200)
                return null;
            lastText = r.text;
            const parsed = validate ? validateLivePlaylist(r.text) : parsePlaylist(r.text);
            return predicate(parsed) ? {response : r, parsed} : null;
        }, {
            timeoutMs,
            what : `${what} of ${id}`,
            context : () => `last playlist:\n${lastText}\n${this.context()}`
        });
    }

    /**
     * Sends `signal` (default SIGTERM) and waits up to timeoutMs for the exit; then SIGKILL.
     * Idempotent. @returns {{code, signal, timedOut}}
     */
    async stop({signal = 'SIGTERM', timeoutMs = 15000} = {}) {
        if (this.exitInfo)
            return {...this.exitInfo, timedOut : false};
        this.proc.kill(signal);
        const r = await withTimeout(this.exited, timeoutMs, null);
        if (r)
            return {...r, timedOut : false};
        this.proc.kill('SIGKILL');
        return {...(await this.exited), timedOut : true};
    }
}

// ---------------------------------------------------------------------------------------------
// Publishing with ffmpeg

/**
 * Publishes a synthetic stream with ffmpeg: testsrc 320x240@25 (x264 ultrafast, zerolatency,
 * GOP 25 = 1 s) + a 440 Hz sine (AAC 64k), paced in real time (-re).
 * @param {object} o
 * @param {string} [o.rtmpUrl] e.g. server.rtmpUrl; with o.key -> <rtmpUrl>/<key>
 * @param {string} [o.key] stream key
 * @param {string} [o.url] full publish URL (instead of rtmpUrl + key)
 * @param {number} [o.seconds] media duration (-t); omitted = endless, stop with stop()/kill
 * @param {boolean} [o.audio=true] [o.video=true] tracks to send
 * @param {number} [o.gop=25] keyframe interval in frames
 * @param {string[]} [o.extraArgs] inserted before the output URL
 * @returns {Publisher}
 */
export function publish(o) { return new Publisher(o); }

export class Publisher {
    constructor(
        {rtmpUrl, key, url, seconds, audio = true, video = true, gop = 25, extraArgs = []}) {
        assert.ok(audio || video, 'publish: at least one track');
        this.url = url ?? `${rtmpUrl}/${key}`;
        const args = [ '-hide_banner', '-loglevel', 'error', '-nostdin' ];
        // -re is an input option: pace every input in real time.
        if (video)
            args.push('-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25');
        if (audio)
            args.push('-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
        if (seconds !== undefined)
            args.push('-t', String(seconds));
        if (video) {
            args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g',
                      String(gop), '-pix_fmt', 'yuv420p', '-b:v', '300k');
        }
        if (audio)
            args.push('-c:a', 'aac', '-b:a', '64k');
        args.push(...extraArgs, '-f', 'flv', this.url);
        this.args = args;
        this.startedAt = Date.now();
        const child = spawnTracked('ffmpeg', args, {label : 'ffmpeg'});
        this.proc = child.proc;
        this._output = child.output;
        this.exitInfo = null;
        this.exited = child.exited.then((r) => {
            this.exitInfo =
                {...r, elapsedMs : Date.now() - this.startedAt, output : child.output()};
            return this.exitInfo;
        });
    }

    get running() { return this.exitInfo === null; }

    output() { return this._output(); }

    /**
     * Waits for ffmpeg to exit by itself. @returns exit info {code, signal, elapsedMs, output},
     * or null after timeoutMs (ffmpeg still running).
     */
    waitExit(timeoutMs) { return withTimeout(this.exited, timeoutMs, null); }

    /**
     * Sends `signal` (default SIGKILL: the publisher vanishes, like a crashed encoder or a lost
     * network) and waits for the exit. Idempotent. @returns exit info
     */
    async stop(signal = 'SIGKILL') {
        if (this.exitInfo)
            return this.exitInfo;
        this.stoppedAt = Date.now();
        this.proc.kill(signal);
        const r = await withTimeout(this.exited, 10000, null);
        if (r)
            return r;
        this.proc.kill('SIGKILL');
        return this.exited;
    }
}

// ---------------------------------------------------------------------------------------------
// ffprobe / ffmpeg as checkers

function runTool(cmd, args, timeoutMs) {
    return new Promise((resolve) => {
        const c = spawnTracked(cmd, args, {label : cmd});
        let stdout = '';
        c.proc.stdout.removeAllListeners('data');
        c.proc.stdout.on('data', (d) => { stdout += d.toString('utf8'); });
        let stderr = '';
        c.proc.stderr.on('data', (d) => { stderr += d.toString('utf8'); });
        const timer = setTimeout(() => c.proc.kill('SIGKILL'), timeoutMs);
        c.exited.then(({code, signal}) => {
            clearTimeout(timer);
            resolve({code, signal, stdout, stderr});
        });
    });
}

/**
 * ffprobe -show_format -show_streams as JSON on a file path or URL.
 * @param {string} target
 * @param {{timeoutMs?:number, args?:string[]}} [opts] extra ffprobe args (e.g. -show_frames)
 * @returns {Promise<object>} throws with ffprobe's stderr when it fails.
 */
export async function ffprobeJson(target, {timeoutMs = 30000, args = []} = {}) {
    const r = await runTool(
        'ffprobe',
        [
            '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...args, target
        ],
        timeoutMs);
    if (r.code !== 0)
        throw new Error(
            `ffprobe ${target} failed (code ${r.code}, signal ${r.signal}): ${r.stderr}`);
    return JSON.parse(r.stdout);
}

/**
 * Decodes a file or URL end to end: `ffmpeg -v error -i <target> -f null -`.
 * @returns {Promise<{code:number|null, signal:string|null, stderr:string}>}
 */
export async function ffmpegDecode(target, {timeoutMs = 120000} = {}) {
    const r = await runTool(
        'ffmpeg', [ '-hide_banner', '-nostdin', '-v', 'error', '-i', target, '-f', 'null', '-' ],
        timeoutMs);
    return {code : r.code, signal : r.signal, stderr : r.stderr};
}

/** Resolves a segment URI from a playlist against the playlist's path ("/hls/<id>/index.m3u8"). */
export function resolveUri(playlistPath, uri) {
    return new URL(uri, `http://x${playlistPath}`).pathname;
}

/** Checks MPEG-TS framing: non-empty, a multiple of 188 bytes, 0x47 every 188, PAT first. */
export function assertTransportStream(buf, what = 'segment') {
    assert.ok(buf.length > 0, `${what} is empty`);
    assert.equal(buf.length % 188, 0, `${what}: length ${buf.length} is not a multiple of 188`);
    for (let i = 0; i < buf.length; i += 188) {
        if (buf[i] !== 0x47)
            assert.fail(`${what}: no sync byte at offset ${i}`);
    }
    // RFC 8216 §3.2: "Each Transport Stream Segment MUST contain a ... PAT and PMT at the start
    // of the segment" (when there is no EXT-X-MAP).
    const pid = ((buf[1] & 0x1f) << 8) | buf[2];
    assert.equal(pid, 0, `${what}: the first packet is PID ${pid}, not the PAT`);
}
