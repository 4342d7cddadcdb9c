// `livehouse stress --workers`: one coordinator driving several `livehouse stress --worker`
// processes (issue 7, "Scale"). Against a tiny HTTP server that counts what it receives: the
// shares together send what the scenario says, once (the server's count equals the merged
// report's), latency merges into the same percentiles one process would have measured, a
// worker's token is enforced, an unreachable worker stops the run before anything is sent,
// and a worker lost mid-run fails the verdict.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import * as h from './lib/harness.mjs';
import {stressRun} from './lib/stress.mjs';

function tinyServer() {
    const state = {requests: 0, peers: new Set(), delayMs: 0};
    const server = http.createServer((req, res) => {
        state.requests += 1;
        state.peers.add(req.socket.remotePort);
        const answer = () => res.writeHead(200, {'Content-Type': 'text/plain'}).end('ok');
        if (state.delayMs > 0) setTimeout(answer, state.delayMs); else answer();
    });
    server.keepAliveTimeout = 30000;
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({server, state})));
}

/** Starts `livehouse stress --worker` on a free port; resolves {proc, address, log()}. */
function startWorker(token) {
    const args = ['stress', '--worker', '--listen', '127.0.0.1:0'];
    if (token) args.push('--token', token);
    const proc = spawn(h.serverBinary(), args, {stdio: ['ignore', 'ignore', 'pipe']});
    let log = '';
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker did not listen: ${log}`)), 10000);
        proc.stderr.on('data', (d) => {
            log += d;
            const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
            if (m && timer) {
                clearTimeout(timer);
                resolve({proc, address: m[1], log: () => log});
            }
        });
        proc.on('exit', (code) => reject(new Error(`worker exited ${code}: ${log}`)));
    });
}

const scenario = `
name = "shared"
[vars]
rate = 400
[[phases]]
executor = "constant-arrival-rate"
rate = "\${rate}"
duration = "\${duration}"
max_vus = 1000
flow = "f"
[[flows.f]]
name = "get"
path = "/x"
[thresholds]
http_req_failed = ["rate == 0"]
"http_req_duration{step=get}" = ["p99 < 1s"]
`;

/** The coordinator: `livehouse stress <file> --workers ...`, with its progress line. */
function coordinate(file, workers, sets, {token, threads = 1} = {}) {
    const extra = ['--workers', workers.join(',')];
    if (token) extra.push('--token', token);
    return stressRun(file, sets, {threads, quiet: false, extra});
}

describe('livehouse stress --workers', {timeout: 120000}, () => {
    let tiny;
    let target;
    let file;
    const workers = [];

    before(async () => {
        tiny = await tinyServer();
        target = `http://127.0.0.1:${tiny.server.address().port}`;
        file = path.join(h.makeTempDir('livehouse-stress-workers-'), 'shared.toml');
        fs.writeFileSync(file, scenario);
        workers.push(await startWorker(), await startWorker(), await startWorker('s3cret-token'));
    });
    after(() => {
        for (const w of workers) w.proc.kill('SIGKILL');
        tiny?.server.close();
    });

    it('two workers run the scenario once between them, merged exactly', async () => {
        Object.assign(tiny.state, {requests: 0, peers: new Set(), delayMs: 30});
        const r = await coordinate(file, [workers[0].address, workers[1].address],
                                   {target, duration: '3s', rate: 400}, {threads: 2});
        tiny.state.delayMs = 0;
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /2 worker\(s\) x 2 thread\(s\)/);
        assert.match(r.out, /^PASSED$/m);
        const get = r.report.steps.get;
        // 400/s for 3 s across both workers: once, not twice.
        assert.equal(get.requests, tiny.state.requests, 'the merged count is the server\'s');
        assert.ok(get.requests >= 1140 && get.requests <= 1260, `${get.requests} requests`);
        // Each worker ran its own share.
        assert.match(workers[0].log(), /share 1 of 2/);
        assert.match(workers[1].log(), /share 2 of 2/);
        // The merged histogram holds every request; the 30 ms server shows in it.
        assert.equal(get.latency.count, get.requests);
        assert.ok(get.latency.p50_us >= 30000 && get.latency.p50_us < 45000, JSON.stringify(get.latency));
        const perSecond = r.report.timeline.reduce((n, s) => n + s.requests, 0);
        assert.equal(perSecond, get.requests, 'the merged timeline adds up');
        // The progress line summed the workers' counters while it ran.
        assert.match(r.out, /\[ +[12]s\] +\d+ req\/s +\d+ requests/);
    });

    it('a worker with a token refuses a job without it, and runs one with it', async () => {
        tiny.state.requests = 0;
        const refused = await coordinate(file, [workers[2].address], {target, duration: '1s'});
        assert.equal(refused.code, 2, refused.out);
        assert.match(refused.out, /refused the job: wrong or missing token/);
        assert.equal(tiny.state.requests, 0, 'nothing was sent');
        assert.doesNotMatch(workers[2].log(), /s3cret-token/, 'the token is never logged');
        const ok = await coordinate(file, [workers[2].address], {target, duration: '1s', rate: 100},
                                    {token: 's3cret-token'});
        assert.equal(ok.code, 0, ok.out);
        assert.equal(ok.report.steps.get.requests, tiny.state.requests);
    });

    it('an unreachable worker stops the run before anything is sent', async () => {
        tiny.state.requests = 0;
        const r = await coordinate(file, [workers[0].address, '127.0.0.1:1'], {target, duration: '1s'});
        assert.equal(r.code, 2, r.out);
        assert.match(r.out, /worker 127\.0\.0\.1:1: cannot connect/);
        assert.equal(tiny.state.requests, 0);
    });

    it('a worker lost mid-run fails the verdict, and the others\' figures stay', async () => {
        const doomed = await startWorker();
        const run = coordinate(file, [workers[0].address, doomed.address],
                               {target, duration: '3s', rate: 200});
        setTimeout(() => doomed.proc.kill('SIGKILL'), 1500);
        const r = await run;
        assert.equal(r.code, 1, r.out);
        assert.match(r.out, new RegExp(`worker ${doomed.address} lost`));
        assert.equal(r.report.steps.worker.failed, 1);
        assert.ok(r.report.steps.get.requests >= 250, 'the surviving share is reported');
    });
});
