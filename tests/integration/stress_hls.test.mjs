// `livehouse stress` as an audience (issue 7): ffmpeg publishes to a livehouse node, and 500
// hls-viewers (scenarios/hls_viewers.toml) watch its live playlist for 20 s. Every viewer must
// start, none may stall, no request may fail — and the server must have seen the requests.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {startRedis} from './lib/chat.mjs';
import * as h from './lib/harness.mjs';
import {startPostgres} from './lib/postgres.mjs';
import {runStress} from './lib/stress.mjs';

/** A livehouse node with ffmpeg publishing one broadcast, once its playlist lists `segments`. */
async function liveNode(title, serverOptions = {}, segments = 3) {
    const server = await h.startServer(serverOptions);
    let publisher;
    try {
        const broadcast = await server.createBroadcast(title);
        publisher = h.publish({rtmpUrl: server.rtmpUrl, key: broadcast.stream_key});
        await server.waitForPlaylist(broadcast.id, (p) => p.segments.length >= segments,
                                     {timeoutMs: 30000});
        return {server, broadcast, publisher};
    } catch (e) {
        await stopNode({publisher, server});
        throw e;
    }
}

async function stopNode({publisher, server}) {
    await publisher?.stop();
    await server?.stop();
}


describe('livehouse stress: hls viewers', {timeout: 180000}, () => {
    let server;
    let publisher;
    let broadcast;

    before(async () => {
        ({server, broadcast, publisher} = await liveNode('audience'));
    });
    after(async () => {
        await stopNode({publisher, server});
    });

    it('500 viewers watch for 20 s with zero stalls', async () => {
        const json = path.join(h.makeTempDir('livehouse-stress-hls-'), 'report.json');
        const scenario = path.join(h.SOURCE_DIR, 'scenarios', 'hls_viewers.toml');
        const before = await h.metricValue(server, 'http_requests_total', {route: 'origin.hls'});
        const args = ['stress', scenario, '--quiet', '--json', json, '--threads', '2',
                      '--set', `target=${server.baseUrl}`, '--set', `broadcast=${broadcast.id}`,
                      '--set', 'viewers=500', '--set', 'duration=20s', '--set', 'ramp=5s'];
        const r = await runStress(args);
        const report = JSON.parse(fs.readFileSync(json, 'utf8'));
        const v = report.viewers;
        assert.equal(v.joined, 500, r.out);
        assert.equal(v.started, 500, r.out);
        assert.equal(v.stalls, 0, `stalls:\n${r.out}\n${server.context()}`);
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /^PASSED$/m);
        // 1 s segments for ~17 s of watching each: about 17 segments per viewer.
        assert.ok(v.segments >= 500 * 12, `${v.segments} segments downloaded`);
        assert.equal(report.steps.segment.failed, 0);
        assert.equal(report.steps.playlist.failed, 0);
        // The server's side, scraped from its /metrics once a second during the run.
        const samples = report.server.samples;
        assert.ok(samples.length >= 15, `${samples.length} server samples`);
        assert.ok(samples.some((x) => x.cpu_percent > 0), 'the server used CPU');
        assert.ok(samples.every((x) => x.rss_bytes > 0), 'and memory');
        assert.ok(Math.max(...samples.map((x) => x.connections)) >= 400,
                  'the viewers\' connections show on the server');
        assert.match(r.out, /^server: cpu avg \d+% max \d+%/m);
        // The server's own answer times (its request-duration histogram), second by second.
        const timed = samples.filter((x) => x.latency_p99_ms >= 0);
        assert.ok(timed.length >= 10, `${timed.length} samples with the server's latency`);
        assert.ok(timed.every((x) => x.latency_p50_ms > 0 && x.latency_p50_ms <= x.latency_p99_ms));
        assert.match(r.out, /^server latency \(its http_request_duration_seconds\): p99 per second max [\d.]+ ms/m);
        const after = await h.metricValue(server, 'http_requests_total', {route: 'origin.hls'});
        const sent = report.steps.segment.requests + report.steps.playlist.requests;
        assert.ok(after - before >= sent, `the server saw ${after - before} of ${sent} requests`);
    });
});

describe('livehouse stress: a broadcast start (viewers + love + chat + status at once)', {timeout: 180000}, () => {
    const secret = 'stress-test-secret-0123456789abcdef0123456789';
    let server;
    let publisher;
    let broadcast;

    before(async () => {
        ({server, broadcast, publisher} =
             await liveNode('spike', {config: {auth: {token_secret: secret}}}));
    });
    after(async () => {
        await stopNode({publisher, server});
    });

    it('passes, and the love the tappers were told was accepted is the broadcast\'s total', async () => {
        const json = path.join(h.makeTempDir('livehouse-stress-spike-'), 'report.json');
        const scenario = path.join(h.SOURCE_DIR, 'scenarios', 'broadcast_start_spike.toml');
        const args = ['stress', scenario, '--quiet', '--json', json, '--threads', '2',
                      '--set', `target=${server.baseUrl}`, '--set', `broadcast=${broadcast.id}`,
                      '--set', `token_secret=${secret}`, '--set', 'viewers=200', '--set', 'tappers=100',
                      '--set', 'rate=500', '--set', 'ramp=2s', '--set', 'duration=10s',
                      // Latency on a shared two-core CI box measures the box; the thresholds
                      // are tested against the tiny server (stress.test.mjs).
                      '--set', 'status_p99=1s', '--set', 'love_p99=1s', '--set', 'delivery_p99=2s'];
        const r = await runStress(args);
        const report = JSON.parse(fs.readFileSync(json, 'utf8'));
        assert.equal(r.code, 0, `${r.out}\n${server.context()}`);
        assert.equal(report.viewers.started, 200);
        assert.equal(report.love.tappers, 100);
        assert.ok(report.love.batches >= 300, `${report.love.batches} love batches`);
        assert.ok(report.love.accepted > 0 && report.love.accepted <= report.love.sent);
        assert.ok(report.steps.status.requests >= 3000, `${report.steps.status.requests} status polls`);
        // Exactness (issue 5): every tap the server answered as accepted is in its total.
        const total = (await server.get(`/api/v1/broadcasts/${broadcast.id}/love`)).json().total;
        assert.equal(total, report.love.accepted);
        // The chat room (200 clients, 20 senders): every acknowledged message reached everyone.
        assert.equal(report.chat.joined, 200);
        assert.ok(report.chat.acked > 0);
        assert.equal(report.chat.delivered, report.chat.acked * 200);
    });
});

describe('livehouse stress: the single-API scenarios pass against livehouse', {timeout: 120000}, () => {
    const secret = 'stress-test-secret-0123456789abcdef0123456789';
    let server;
    let publisher;
    let broadcast;

    before(async () => {
        ({server, broadcast, publisher} =
             await liveNode('single api', {config: {auth: {token_secret: secret}}}));
    });
    after(async () => {
        await stopNode({publisher, server});
    });

    for (const [file, sets, step, least] of [
        // p99: see the spike test above; these runs check what is sent and answered.
        ['status.toml', {rate: 1000, p99: '1s'}, 'status', 4500],
        ['playlist.toml', {rate: 1000, p99: '1s'}, 'playlist', 4500],
        ['love.toml', {viewers: 400, ramp: '1s', token_secret: secret, p99: '1s'}, 'love', 600],
    ]) {
        it(`${file} passes, and sends what it says`, async () => {
            const json = path.join(h.makeTempDir('livehouse-stress-api-'), 'report.json');
            const args = ['stress', path.join(h.SOURCE_DIR, 'scenarios', file), '--quiet',
                          '--no-server-metrics', '--json', json, '--set', `target=${server.baseUrl}`,
                          '--set', `broadcast=${broadcast.id}`, '--set', 'duration=5s'];
            for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
            const r = await runStress(args);
            assert.equal(r.code, 0, `${r.out}\n${server.context()}`);
            const report = JSON.parse(fs.readFileSync(json, 'utf8'));
            assert.ok(report.steps[step].requests >= least, `${report.steps[step].requests} ${step}`);
            assert.equal(report.steps[step].failed, 0);
        });
    }
});

describe('livehouse stress: a failure test (seed 004) — Redis stopped mid-run', {timeout: 120000}, () => {
    const secret = 'stress-test-secret-0123456789abcdef0123456789';
    let redis;
    let pg;
    let server;
    let publisher;
    let broadcast;

    before(async () => {
        redis = await startRedis();
        pg = await startPostgres();
        ({server, broadcast, publisher} = await liveNode(
            'fault', {config: {auth: {token_secret: secret}},
                      args: ['--redis', redis.address, '--postgres', pg.conninfo]}, 2));
    });
    after(async () => {
        await stopNode({publisher, server});
        await redis?.stop();
        await pg?.stop();
    });

    it('shows the event, the failures after it and the database connections going', async () => {
        const dir = h.makeTempDir('livehouse-stress-fault-');
        const json = path.join(dir, 'report.json');
        const file = path.join(dir, 'fault.toml');
        fs.writeFileSync(file, `
name = "redis down"
[vars]
broadcast = "${broadcast.id}"
token_secret = "${secret}"
redis_port = ${redis.port}
[[phases]]
executor = "love-tappers"
viewers = 40
ramp = "500ms"
duration = "\${duration}"
broadcast = "\${broadcast}"
token_secret = "\${token_secret}"
[[events]]
name = "redis down"
at = "4s"
run = "redis-cli -p \${redis_port} shutdown nosave"
[thresholds]
http_req_failed = ["rate == 0"]
`);
        const r = await runStress(['stress', file, '--quiet', '--json', json,
                                   '--set', `target=${server.baseUrl}`, '--set', 'duration=8s']);
        const report = JSON.parse(fs.readFileSync(json, 'utf8'));
        assert.equal(r.code, 1, `the failures fail the verdict:\n${r.out}`);
        assert.equal(report.events.length, 1);
        const at = report.events[0].ran_at_s;
        assert.ok(at >= 3.9 && at < 4.5, `the event ran at ${at} s`);
        assert.match(r.out, /^event: redis down at 4\.\d s/m);
        // Batches were answered before the event, and refused after it.
        const love = report.steps.love;
        assert.ok(love.statuses['200'] >= 40, JSON.stringify(love.statuses));
        assert.ok(love.failed > 0, JSON.stringify(love));
        const failedBefore = report.timeline.slice(0, 4).reduce((n, s) => n + s.failed, 0);
        assert.equal(failedBefore, 0, 'nothing failed before Redis went');
        // The server's database connections (Redis + the PostgreSQL pool) drop with Redis.
        const samples = report.server.samples;
        const before = Math.max(...samples.filter((x) => x.t_s < 3.5).map((x) => x.db_connections));
        const afterwards = Math.min(...samples.filter((x) => x.t_s > 5).map((x) => x.db_connections));
        assert.ok(before >= 2, `database connections before: ${before}`);
        assert.ok(afterwards < before, `database connections ${before} -> ${afterwards}`);
        assert.match(r.out, /database connections \d+\.\.\d+/);
    });
});
