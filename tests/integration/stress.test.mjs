// `livehouse stress` against a tiny HTTP server started here, which counts what it receives and
// can answer late or stall: the tester's counts and percentiles must match what the server did,
// a stall must show at a constant arrival rate (no coordinated omission), thresholds must pass
// and fail with the right exit code, and --set must reach the run.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import http from 'node:http';
import {after, before, describe, it} from 'node:test';

import * as h from './lib/harness.mjs';
// Without server metrics (stressRun's default): the tiny server must count only the load.
import {scenarioFile, stressRun as stress} from './lib/stress.mjs';

/** A server whose answers wait `delayMs`, and everything `stallMs` long from `stallAt`. */
function tinyServer() {
    const state = {requests: 0, paths: new Map(), hosts: new Map(), sources: new Map(),
                   delayMs: 0, stallFrom: 0,
                   stallUntil: 0, reservations: 0, issued: new Set(), purchased: 0};
    const server = http.createServer((req, res) => {
        const now = Date.now();
        if (req.url === '/__stall') { // a fault a scenario event injects: 1 s of stalled answers
            state.stallFrom = now;
            state.stallUntil = now + 1000;
            res.end('stalling');
            return;
        }
        state.requests += 1;
        state.paths.set(req.url, (state.paths.get(req.url) ?? 0) + 1);
        state.hosts.set(req.headers.host, (state.hosts.get(req.headers.host) ?? 0) + 1);
        const from = req.socket.remoteAddress;
        state.sources.set(from, (state.sources.get(from) ?? 0) + 1);
        if (req.url === '/hang') return; // never answers: the tester's timeout must end it
        if (req.url === '/reserve') { // seed 000's ticket flow: an id the next step must send
            const id = `r${++state.reservations}`;
            state.issued.add(id);
            res.writeHead(200, {'Content-Type': 'application/json'});
            res.end(JSON.stringify({reservation: {id, seats: [12, 13]}}));
            return;
        }
        if (req.url.startsWith('/purchase/')) {
            const id = req.url.slice('/purchase/'.length);
            const known = state.issued.delete(id);
            if (known) state.purchased += 1;
            res.writeHead(known ? 200 : 404).end();
            return;
        }
        const wait = Math.max(state.delayMs,
                              now >= state.stallFrom && now < state.stallUntil ? state.stallUntil - now : 0);
        const answer = () => {
            res.writeHead(req.url.startsWith('/missing') ? 404 : 200,
                          {'Content-Type': 'application/json', 'Connection': 'keep-alive'});
            res.end('{"status":"live"}');
        };
        if (wait > 0) setTimeout(answer, wait); else answer();
    });
    server.keepAliveTimeout = 30000;
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({server, state})));
}


const basic = `
name = "tiny"
[vars]
rate = 200
path = "/status"
p99 = "1s"
[[phases]]
executor = "constant-arrival-rate"
rate = "\${rate}"
duration = "\${duration}"
max_vus = 2000
flow = "f"
[[flows.f]]
name = "get"
path = "\${path}"
[thresholds]
"http_req_duration{step=get}" = ["p99 < \${p99}"]
http_req_failed = ["rate == 0"]
`;


describe('livehouse stress', {timeout: 120000}, () => {
    let tiny;
    let dir;
    let target;

    before(async () => {
        tiny = await tinyServer();
        dir = h.makeTempDir('livehouse-stress-');
        target = `http://127.0.0.1:${tiny.server.address().port}`;
    });
    after(() => tiny?.server.close());

    it('sends what the rate says, and counts what the server received', async () => {
        tiny.state.requests = 0;
        const r = await stress(scenarioFile(dir, basic), {target, duration: '2s', rate: 300},
                               {threads: 2});
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /^PASSED$/m);
        const sent = r.report.steps.get.requests;
        assert.equal(sent, tiny.state.requests, 'the tester and the server agree on the count');
        assert.ok(sent >= 570 && sent <= 630, `300/s for 2 s: ${sent}`);
        assert.equal(r.report.steps.get.statuses['200'], sent);
        assert.equal(r.report.vars.rate, '300', '--set reached the run');
        assert.equal(r.report.dropped_iterations, 0);
    });

    it('latency percentiles match the server\'s answer time', async () => {
        tiny.state.delayMs = 40;
        const r = await stress(scenarioFile(dir, basic), {target, duration: '2s', rate: 100});
        tiny.state.delayMs = 0;
        assert.equal(r.code, 0, r.stdout);
        const l = r.report.steps.get.latency;
        assert.ok(l.p50_us >= 40000 && l.p50_us < 60000, `p50 ${l.p50_us} µs for a 40 ms server`);
        assert.ok(l.min_us >= 38000, `min ${l.min_us} (node's timers may fire ~1 ms early)`);
    });

    it('a one-second stall shows in p99 at a constant arrival rate', async () => {
        const file = scenarioFile(dir, basic);
        const run = stress(file, {target, duration: '4s', rate: 200});
        // Stall every answer for 1 s, starting 1.5 s into the run.
        tiny.state.stallFrom = Date.now() + 1500;
        tiny.state.stallUntil = tiny.state.stallFrom + 1000;
        const r = await run;
        const l = r.report.steps.get.latency;
        // 200/s for 1 s of 4: a quarter of the iterations meant to start in the stall waited
        // up to 1 s. Coordinated omission would report one slow request per connection.
        assert.ok(l.p99_us >= 800000, `p99 ${l.p99_us} µs after a 1 s stall`);
        assert.ok(l.p50_us < 100000, `p50 ${l.p50_us} µs: most were fast`);
        const slowSeconds = r.report.timeline.filter((s) => s.max_us >= 500000);
        assert.ok(slowSeconds.length >= 1, 'the timeline shows when it happened');
    });

    it('connect_to spreads the VUs over several servers; requests still name the target', async () => {
        const other = await tinyServer();
        try {
            tiny.state.requests = 0;
            tiny.state.hosts.clear();
            const ports = [tiny.server.address().port, other.server.address().port];
            // A name that does not resolve: with connect_to only the addresses are dialled.
            const r = await stress(scenarioFile(dir, basic),
                                   {target: 'http://live.example.invalid:8443', duration: '2s',
                                    rate: 200, connect_to: ports.map((p) => `127.0.0.1:${p}`).join(',')},
                                   {threads: 2});
            assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stderr, /connecting to 2 address\(es\) in turn/);
            const sent = r.report.steps.get.requests;
            assert.equal(tiny.state.requests + other.state.requests, sent);
            // Two loops, VU i to server i mod 2: each loop's VUs go to one of them, and the
            // arrivals are split evenly between the loops.
            for (const s of [tiny.state, other.state]) {
                assert.ok(s.requests >= sent * 0.4, `${s.requests} of ${sent}`);
                assert.deepEqual([...s.hosts.keys()], ['live.example.invalid:8443']);
            }
            const bad = await stress(scenarioFile(dir, basic),
                                     {target, duration: '1s', connect_to: '127.0.0.1'});
            assert.equal(bad.code, 2, 'a connect_to address without a port is refused');
            assert.match(bad.stderr, /vars\.connect_to "127\.0\.0\.1"/);
        } finally {
            other.server.close();
        }
    });

    it('local_ips binds the connections to those source addresses, in turn', async () => {
        tiny.state.requests = 0;
        tiny.state.sources.clear();
        // 127.0.0.0/8 is all loopback on Linux: three source addresses without any set-up.
        const r = await stress(scenarioFile(dir, basic),
                               {target, duration: '2s', rate: 200,
                                local_ips: '127.0.0.2-127.0.0.3, 127.0.0.5'}, {threads: 3});
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /connecting from 3 source address\(es\)/);
        const sources = Object.fromEntries(tiny.state.sources);
        assert.deepEqual(Object.keys(sources).sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.5']);
        assert.equal(tiny.state.requests, r.report.steps.get.requests);
        for (const n of Object.values(sources)) {
            assert.ok(n >= r.report.steps.get.requests * 0.2, JSON.stringify(sources));
        }
        for (const [bad, why] of [['127.0.0.9-127.0.0.1', /first <= last/],
                                  ['localhost', /not an IP address/]]) {
            const b = await stress(scenarioFile(dir, basic), {target, duration: '1s', local_ips: bad});
            assert.equal(b.code, 2, bad);
            assert.match(b.stderr, new RegExp(`vars\\.local_ips: .*${why.source}`));
        }
    });

    it('thresholds fail with exit code 1 and name what failed', async () => {
        tiny.state.delayMs = 20;
        const r = await stress(scenarioFile(dir, basic), {target, duration: '1s', rate: 50, p99: '5ms'});
        tiny.state.delayMs = 0;
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stdout, /^FAILED: http_req_duration\{step=get\} p99 < 5ms$/m);
        assert.equal(r.report.passed, false);
        const failing = r.report.thresholds.filter((t) => !t.passed);
        assert.equal(failing.length, 1);
        assert.ok(failing[0].observed >= 20000);

        const missing = await stress(scenarioFile(dir, basic),
                                     {target, duration: '1s', rate: 50, path: '/missing'});
        assert.equal(missing.code, 1, 'a 404 where 200 is expected fails http_req_failed');
        assert.match(missing.stdout, /FAILED: http_req_failed rate == 0/);
        assert.equal(missing.report.steps.get.errors.status, missing.report.steps.get.requests);
    });

    it('posts the verdict to a webhook (Slack-compatible {"text"})', async () => {
        const received = [];
        const hook = http.createServer((req, res) => {
            let body = '';
            req.on('data', (d) => { body += d; });
            req.on('end', () => {
                received.push({method: req.method, type: req.headers['content-type'], body});
                res.writeHead(200).end('ok');
            });
        });
        await new Promise((resolve) => hook.listen(0, '127.0.0.1', resolve));
        try {
            const file = scenarioFile(dir, basic);
            const args = ['stress', file, '--quiet', '--no-server-metrics', '--set', `target=${target}`, '--set',
                          'duration=1s', '--set', 'rate=20', '--set', 'p99=1ms', '--webhook',
                          `http://127.0.0.1:${hook.address().port}/hooks/ci`];
            tiny.state.delayMs = 5;
            const code = await new Promise((resolve) => {
                const p = spawn(h.serverBinary(), args, {stdio: 'ignore'});
                p.on('close', resolve);
            });
            tiny.state.delayMs = 0;
            assert.equal(code, 1, 'p99 < 1ms against a 5 ms server fails');
            assert.equal(received.length, 1);
            assert.equal(received[0].method, 'POST');
            assert.equal(received[0].type, 'application/json');
            const {text} = JSON.parse(received[0].body);
            assert.match(text, /livehouse stress: \*tiny\* FAILED/);
            assert.match(text, /failed: http_req_duration\{step=get\} p99 < 1ms/);
        } finally {
            hook.close();
        }
    });

    it('runs scenario events at their time, and the report shows their effect', async () => {
        const port = tiny.server.address().port;
        const withEvent = `${basic}
[[events]]
name = "stall the server"
at = "1s"
run = "node -e \\"require('http').get('http://127.0.0.1:${port}/__stall', (r) => r.resume())\\""
`;
        const r = await stress(scenarioFile(dir, withEvent), {target, duration: '3s', rate: 100});
        assert.equal(r.report.events.length, 1, r.stdout);
        const e = r.report.events[0];
        assert.equal(e.exit_code, 0, JSON.stringify(e));
        assert.ok(e.ran_at_s >= 0.95 && e.ran_at_s < 1.5, `ran at ${e.ran_at_s} s`);
        assert.match(r.stdout, /^event: stall the server at 1\.\d s/m);
        const stalled = r.report.timeline.filter((s) => s.max_us >= 500000).map((s) => s.second);
        assert.ok(stalled.length >= 1 && stalled.every((sec) => sec >= 1 && sec <= 3),
                  `the stall shows after the event: seconds ${stalled}`);
        assert.ok(r.report.timeline[0].max_us < 500000, 'and not before it');
    });

    it('a flow carries values from one response into the next step', async () => {
        const flow = `
name = "tickets"
[[phases]]
executor = "constant-arrival-rate"
rate = 50
duration = "\${duration}"
flow = "buy"
[[flows.buy]]
name = "home"
path = "/home"
[[flows.buy]]
name = "reserve"
method = "POST"
path = "/reserve"
extract = { reservation = "$.reservation.id", seat = "$.reservation.seats[1]" }
[[flows.buy]]
name = "purchase"
method = "POST"
path = "/purchase/\${reservation}"
headers = { X-Seat = "\${seat}", X-Vu = "\${__vu}" }
[[flows.broken]]
name = "reserve"
method = "POST"
path = "/reserve"
extract = { missing = "$.reservation.nope" }
[[flows.broken]]
name = "never"
path = "/never/\${missing}"
`;
        tiny.state.purchased = 0;
        const r = await stress(scenarioFile(dir, flow), {target, duration: '2s'});
        assert.equal(r.code, 0, r.stdout);
        const steps = r.report.steps;
        assert.equal(steps.purchase.failed, 0, JSON.stringify(steps.purchase));
        assert.equal(steps.purchase.requests, steps.reserve.requests);
        assert.equal(tiny.state.purchased, steps.purchase.requests,
                     'every purchase sent the id its reservation got');
        assert.ok(steps.purchase.requests >= 90, `${steps.purchase.requests} purchases`);

        const broken = flow.replace('flow = "buy"', 'flow = "broken"');
        const b = await stress(scenarioFile(dir, broken), {target, duration: '1s'});
        assert.equal(b.report.steps.reserve.errors.extract, b.report.steps.reserve.requests);
        assert.equal(b.report.steps.never, undefined, 'the step that needed it was never sent');
        assert.equal(tiny.state.paths.get('/never/${missing}'), undefined);
    });

    it('phases with a start run beside each other', async () => {
        const twoTracks = `
name = "tracks"
[[phases]]
rate = 50
duration = "2s"
flow = "a"
[[phases]]
start = "0s"
rate = 50
duration = "2s"
flow = "b"
[[phases]]
rate = 100
duration = "1s"
flow = "b"
[[flows.a]]
name = "a"
path = "/a"
[[flows.b]]
name = "b"
path = "/b"
`;
        const r = await stress(scenarioFile(dir, twoTracks), {target});
        assert.equal(r.code, 0, r.stdout);
        assert.ok(r.report.elapsed_s < 3.8, `two tracks of 2 s + 1 s: ${r.report.elapsed_s} s`);
        const a = r.report.steps.a.requests;
        const b = r.report.steps.b.requests;
        assert.ok(a >= 95 && a <= 105, `a: ${a}`);
        assert.ok(b >= 190 && b <= 210, `b: 100 in the first 2 s, then 100 in 1 s: ${b}`);
        // Seconds 0 and 1 carry both tracks (~100/s); second 2 only b's second phase.
        assert.ok(r.report.timeline[0].requests >= 90, JSON.stringify(r.report.timeline));
    });

    it('ramping-vus: the closed model grows and shrinks its VUs over the phase', async () => {
        const ramp = `
name = "ramp"
[vars]
from = 0
to = 20
[[phases]]
executor = "ramping-vus"
start_vus = "\${from}"
vus = "\${to}"
duration = "\${duration}"
flow = "f"
[[flows.f]]
name = "get"
path = "/ramp"
`;
        tiny.state.delayMs = 50;
        const up = await stress(scenarioFile(dir, ramp), {target, duration: '3s'});
        const down = await stress(scenarioFile(dir, ramp), {target, duration: '3s', from: 20, to: 0});
        tiny.state.delayMs = 0;
        assert.equal(up.code, 0, up.stdout);
        assert.equal(down.code, 0, down.stdout);
        // Each VU makes ~20 requests/s against a 50 ms server; on average 10 VUs for 3 s.
        for (const r of [up, down]) {
            const n = r.report.steps.get.requests;
            assert.ok(n >= 400 && n <= 750, `${n} requests`);
        }
        const perSecond = (r) => r.report.timeline.slice(0, 3).map((x) => x.requests);
        const [u0, u1, u2] = perSecond(up);
        assert.ok(u0 < u1 && u1 < u2, `growing: ${perSecond(up)}`);
        const [d0, d1, d2] = perSecond(down);
        assert.ok(d0 > d1 && d1 > d2, `shrinking: ${perSecond(down)}`);
    });

    it('a request the server never answers fails with "timeout" after the step\'s timeout', async () => {
        const hang = `
name = "hang"
[[phases]]
executor = "constant-arrival-rate"
rate = 5
duration = "\${duration}"
flow = "f"
[[flows.f]]
name = "hang"
path = "/hang"
timeout = "1s"
[thresholds]
http_req_failed = ["rate == 0"]
`;
        const started = Date.now();
        const r = await stress(scenarioFile(dir, hang), {target, duration: '2s'});
        const took = Date.now() - started;
        assert.equal(r.code, 1, r.stdout);
        const s = r.report.steps.hang;
        assert.ok(s.requests >= 9 && s.requests <= 11, `${s.requests} requests`);
        assert.equal(s.errors.timeout, s.requests, JSON.stringify(s.errors));
        // Each ended between 1 s and 2 s after it was sent (the check runs once a second).
        assert.ok(s.latency.min_us >= 1000000 && s.latency.max_us < 2100000, JSON.stringify(s.latency));
        assert.ok(took < 6000, `the run ended ${took} ms after it began`);
    });

    it('a bad scenario or --set exits 2 without running, naming the problem', async () => {
        const before = tiny.state.requests;
        const r = await stress(scenarioFile(dir, basic), {target, rate: 'fast'});
        assert.equal(r.code, 2);
        assert.match(r.stderr, /phases\[0\]\.rate: not a number/);
        const u = await stress(scenarioFile(dir, basic), {target, speed: '1'});
        assert.equal(u.code, 2);
        assert.match(u.stderr, /no variable "speed"/);
        assert.equal(tiny.state.requests, before, 'nothing was sent');
    });
});
