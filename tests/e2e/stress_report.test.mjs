// The load tester's HTML report in a real browser (issue 7): `livehouse stress --html` against
// a small HTTP server started here; Chromium opens the file, which must render its verdict,
// tables and uPlot charts with no page error, and a screenshot is taken. A second run with
// chat clients (readers of a tiny WebSocket room) must render the Chat section.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {WebSocketServer} from 'ws';

import {launchChromium, missing} from './browser.mjs';
import * as h from '../integration/lib/harness.mjs';

const scenario = `
name = "report <check>"
[[phases]]
executor = "constant-arrival-rate"
rate = 100
duration = "\${duration}"
flow = "f"
[[flows.f]]
name = "get"
path = "/x"
[thresholds]
"http_req_duration{step=get}" = ["p99 < 1s"]
"http_req_duration" = ["p50 < 1us"]
`;

describe('stress HTML report', {skip: missing ?? false}, () => {
    let server;
    let browser;
    let dir;

    before(async () => {
        server = http.createServer((req, res) => res.end('ok'));
        // A chat room that gives every reader a history and one stamped message a second.
        const wss = new WebSocketServer({noServer: true, perMessageDeflate: false});
        server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
            ws.send(JSON.stringify({type: 'history', messages: [], next_offset: 1, resumed: false}));
            let offset = 0;
            const t = setInterval(() => ws.send(JSON.stringify({
                type: 'message', offset: ++offset, id: `m${offset}`, user: {id: 'u', name: 'u'},
                text: `lh 1 ${offset} ${Date.now() * 1000 - 20000} x`, time: Date.now(), position: 0,
            })), 1000);
            ws.on('close', () => clearInterval(t));
        }));
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
        dir = h.makeTempDir('livehouse-stress-report-');
        browser = await launchChromium();
    });
    after(async () => {
        await browser?.close();
        server?.close();
    });

    test('renders the verdict, the tables and the charts without errors', async () => {
        const file = path.join(dir, 's.toml');
        fs.writeFileSync(file, scenario);
        const html = path.join(dir, 'report.html');
        const code = await new Promise((resolve) => {
            const p = spawn(h.serverBinary(), ['stress', file, '--quiet', '--no-server-metrics',
                                               '--html', html, '--set',
                                               `target=http://127.0.0.1:${server.address().port}`,
                                               '--set', 'duration=2s'], {stdio: 'ignore'});
            p.on('close', resolve);
        });
        assert.equal(code, 1, 'the p50 < 1us threshold fails');
        const text = fs.readFileSync(html, 'utf8');
        assert.ok(!/<script[^>]+src=/.test(text), 'self-contained: no external script');
        assert.ok(text.includes('&lt;check&gt;'), 'the title is escaped');

        const page = await browser.newPage();
        const problems = [];
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
        await page.goto(`file://${html}`);
        await page.waitForSelector('body[data-rendered="yes"]', {timeout: 10000});
        assert.deepEqual(problems, []);
        assert.equal(await page.textContent('#verdict'), 'FAILED');
        assert.equal(await page.locator('#steps tr').count(), 2, 'a header and the one step');
        assert.equal(await page.locator('#thresholds tr.failed').count(), 1);
        assert.equal(await page.locator('#thresholds tr.passed').count(), 1);
        assert.ok(await page.locator('.chart canvas').count() >= 2, 'uPlot drew the charts');
        const shot = path.join(dir, 'report.png');
        await page.screenshot({path: shot, fullPage: true});
        assert.ok(fs.statSync(shot).size > 10000, 'a screenshot with something in it');
        assert.equal(await page.locator('#chat').count(), 0, 'no chat section without chat');
    });

    test('renders the Chat section of a run with chat clients', async () => {
        const file = path.join(dir, 'chat.toml');
        fs.writeFileSync(file, `
name = "chat report"
[[phases]]
executor = "chat-clients"
viewers = 3
senders = 0
ramp = "100ms"
duration = "\${duration}"
broadcast = "room"
`);
        const html = path.join(dir, 'chat.html');
        const code = await new Promise((resolve) => {
            const p = spawn(h.serverBinary(), ['stress', file, '--quiet', '--no-server-metrics',
                                               '--html', html, '--set',
                                               `target=http://127.0.0.1:${server.address().port}`,
                                               '--set', 'duration=3s'], {stdio: 'ignore'});
            p.on('close', resolve);
        });
        assert.equal(code, 0, 'no thresholds: passes');
        const page = await browser.newPage();
        const problems = [];
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        await page.goto(`file://${html}`);
        await page.waitForSelector('body[data-rendered="yes"]', {timeout: 10000});
        assert.deepEqual(problems, []);
        // 3 readers, each getting the room's message of every second (2 or 3 in 3 s).
        const text = await page.textContent('#chat');
        assert.match(text, /^3 clients, 3 joined; 0 sent, 0 acked; (\d+) received, \1 stamped/);
        const received = Number(/; (\d+) received/.exec(text)[1]);
        assert.ok(received >= 6 && received <= 9, text);
        await page.screenshot({path: path.join(dir, 'chat.png'), fullPage: true});
    });
});
