// The watch page through two edge tiers (issue 6): Chromium opens /watch/<id> on edge2, which
// is in front of edge1, which is in front of the origin ffmpeg publishes to. The page must say
// live and play more than 2 s of media, and its playlist and segment requests must have been
// answered by the edges (the origin sees a fraction of them).
//
// Skipped, not failed, when Chromium or playwright-core is missing (see browser.mjs).

import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {launchPersistentChromium, missing} from './browser.mjs';
import * as h from '../integration/lib/harness.mjs';

describe('watch page through two edge tiers', {skip: missing ?? false}, () => {
    let origin;
    let edge1;
    let edge2;
    let publisher;
    let context;
    let page;
    const consoleLines = [];

    const diagnostics = () => `--- page console ---\n${consoleLines.slice(-40).join('\n')}\n` +
        `${edge2?.context(2000) ?? ''}\n${edge1?.context(2000) ?? ''}\n${origin?.context(2000) ?? ''}`;

    before(async () => {
        origin = await h.startServer();
        edge1 = await h.startEdge(origin.baseUrl);
        edge2 = await h.startEdge(edge1.baseUrl);
        context = await launchPersistentChromium(h.makeTempDir('livehouse-chromium-'));
        page = await context.newPage();
        page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
        page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    });

    after(async () => {
        await context?.close().catch(() => {});
        await publisher?.stop();
        await Promise.all([edge2?.stop(), edge1?.stop(), origin?.stop()]);
    });

    test('plays live from edge2, the edges absorbing the player\'s requests', async () => {
        const broadcast = await origin.createBroadcast('through the edges');
        publisher = h.publish({rtmpUrl: origin.rtmpUrl, key: broadcast.stream_key});
        await origin.waitForPlaylist(broadcast.id, (p) => p.segments.length >= 2, {timeoutMs: 30000});

        await page.goto(edge2.url(`/watch/${broadcast.id}`));
        assert.equal(await page.textContent('#title'), 'through the edges');
        try {
            await page.waitForFunction(
                () => document.getElementById('status')?.dataset.status === 'live', null,
                {timeout: 20000, polling: 200});
            await page.evaluate(() => {
                const v = document.getElementById('player');
                window.__played = {seconds: 0, last: v.currentTime};
                v.addEventListener('timeupdate', () => {
                    const step = v.currentTime - window.__played.last;
                    if (step > 0 && step < 1) window.__played.seconds += step;
                    window.__played.last = v.currentTime;
                });
            });
            await page.waitForFunction(() => window.__played.seconds > 2, null,
                {timeout: 30000, polling: 250});
        } catch (e) {
            assert.fail(`the page did not play through the edges: ${e.message}\n${diagnostics()}`);
        }
        const src = await page.evaluate(() => document.getElementById('player').currentSrc);
        assert.ok(!src.includes(`:${origin.httpPort}/`), `the player went to the origin: ${src}`);

        // Every media request of the page went to edge2; the origin saw only the edges' fills.
        const atEdge2 = await h.metricValue(edge2, 'edge_requests_total');
        const fills = await h.metricValue(edge1, 'edge_upstream_requests_total');
        assert.ok(atEdge2 >= 5, `edge2 answered ${atEdge2} requests`);
        assert.ok(fills >= 1, 'edge1 filled from the origin');
        assert.ok(await h.metricValue(edge2, 'edge_upstream_requests_total') >= 1);
    });
});
