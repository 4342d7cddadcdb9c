// The watch page's heart button in a real browser (Debian's Chromium via playwright-core): two
// viewers open /watch/<id> while ffmpeg publishes; Ann joins the chat with a name (her guest
// token) and taps the heart; the taps go out in batches stamped with the broadcast's media time,
// and Bob's page — anonymous, never tapping — shows the total rising to exactly what Ann tapped,
// and Ann at the top of the ranking. The server's own total must agree.
//
// Environment and skipping as chat.test.mjs (CHROMIUM_PATH, playwright-core from `npm ci`).

import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {launchChromium, missing} from './browser.mjs';
import {publish, startServer} from '../integration/lib/harness.mjs';

describe('heart button', {skip: missing ?? false}, () => {
    let server;
    let browser;
    let broadcast;
    let publisher;
    const pages = {};
    const logs = {};

    const state = async () => {
        let s = '';
        for (const [name, page] of Object.entries(pages)) {
            const st = await page.evaluate(() => ({
                love: {...document.getElementById('love')?.dataset},
                hidden: document.getElementById('love')?.hidden,
                total: document.getElementById('love-total')?.textContent,
                status: document.getElementById('status')?.dataset.status,
            })).catch((e) => `unavailable: ${e.message}`);
            s += `--- ${name}: ${JSON.stringify(st)}\n${(logs[name] ?? []).slice(-15).join('\n')}\n`;
        }
        return `${s}${server?.context() ?? ''}`;
    };
    async function waitInPage(page, what, fn, arg, timeoutMs = 15000) {
        try {
            await page.waitForFunction(fn, arg, {timeout: timeoutMs, polling: 100});
        } catch (e) {
            assert.fail(`${what}: ${e.message}\n${await state()}`);
        }
    }
    async function open(name) {
        const context = await browser.newContext({viewport: {width: 1200, height: 800}});
        const page = await context.newPage();
        logs[name] = [];
        page.on('console', (m) => logs[name].push(`[${m.type()}] ${m.text()}`));
        page.on('pageerror', (e) => logs[name].push(`[pageerror] ${e.message}`));
        pages[name] = page;
        await page.goto(server.url(`/watch/${broadcast.id}`));
        await waitInPage(page, `${name}: playing live`,
            () => document.getElementById('status').dataset.status === 'live');
        return page;
    }

    before(async () => {
        server = await startServer({
            config: {auth: {token_secret: 'e2e-love-secret-0123456789abcdef0123456789'}},
        });
        broadcast = await server.createBroadcast('e2e love');
        publisher = publish({rtmpUrl: server.rtmpUrl, key: broadcast.stream_key});
        await server.waitForPlaylist(broadcast.id, (p) => p.segments.length >= 2, {timeoutMs: 30000});
        browser = await launchChromium();
    });
    after(async () => {
        await browser?.close().catch(() => {});
        await publisher?.stop();
        await server?.stop();
    });

    test('taps on one page raise the total another page shows', async () => {
        const a = await open('Ann');
        const b = await open('Bob');
        // Without a name the button asks for one.
        await a.click('#love-button');
        await waitInPage(a, 'asks for a name', () =>
            document.getElementById('love').dataset.state === 'no-user' &&
            !document.getElementById('love-note').hidden);
        await a.fill('#chat-name', 'Ann');
        await a.press('#chat-name', 'Enter');
        await waitInPage(a, 'joined', () => !document.getElementById('chat-send-form').hidden);

        const taps = 12; // under the burst (50): every one counts
        for (let i = 0; i < taps; i++) {
            await a.click('#love-button');
            await a.waitForTimeout(60);
        }
        await waitInPage(a, 'the batch answered', () =>
            document.getElementById('love').dataset.state === 'idle', undefined, 10000);
        await waitInPage(b, 'Bob sees the total', (n) =>
            document.getElementById('love-total').textContent === String(n), taps, 15000);
        const api = await (await fetch(server.url(`/api/v1/broadcasts/${broadcast.id}/love`))).json();
        assert.equal(api.total, taps, await state());
        await waitInPage(b, 'Ann tops the ranking', () => {
            const first = document.querySelector('#love-ranking li.love-viewer');
            return first && first.textContent.includes('Ann') && first.textContent.includes('12');
        }, undefined, 15000);
        await a.screenshot({path: '/tmp/love-panel.png'}).catch(() => {});
    });
});
