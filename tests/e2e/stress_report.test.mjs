// The load tester's HTML report in a real browser (issue 7): `livehouse stress --html` against
// a small HTTP server started here; Chromium opens the file, which must render its verdict,
// tables and uPlot charts with no page error, and a screenshot is taken.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';

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
    });
});
