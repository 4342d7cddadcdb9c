// The watch page in a real browser: Debian's Chromium (driven by playwright-core) opens
// /watch/<id> on the real server while ffmpeg publishes, and the page must
//   1. say live and actually play: video.currentTime advances by more than 2 s;
//   2. say suspended ("Broadcast paused — waiting for the streamer") once the publisher is
//      killed, well inside the 60 s grace period, by polling the status endpoint;
//   3. play again when the publisher comes back (a fresh player at the live edge);
//   4. say ended and switch to the recording (vod_url) when the broadcast is ended.
//
// Environment: LIVEHOUSE_BIN, LIVEHOUSE_SOURCE_DIR (see tests/integration/lib/harness.mjs);
// CHROMIUM_PATH overrides /usr/bin/chromium. The test is skipped, not failed, when Chromium or
// playwright-core (`npm ci` in the repository root) is missing.
//
// Every child (server, ffmpeg, Chromium) is killed in after(), and by the harness at exit.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {after, before, describe, test} from 'node:test';

import {launchPersistentChromium, missing} from './browser.mjs';
import {makeTempDir, startServer} from '../integration/lib/harness.mjs';

/** ffmpeg publishing 640x360@25 H.264 (2 s GOP) + AAC in real time. Killed in after(). */
function startFfmpeg(url, children) {
    const args = [
        '-hide_banner', '-loglevel', 'error', '-nostdin',
        '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25',
        '-f', 'lavfi', '-i', 'sine=frequency=440',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '50',
        '-pix_fmt', 'yuv420p', '-b:v', '800k', '-c:a', 'aac', '-b:a', '96k',
        '-f', 'flv', url,
    ];
    const proc = spawn('ffmpeg', args, {stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    proc.stderr.on('data', (d) => {
        stderr = (stderr + d.toString()).slice(-8000);
    });
    const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({code, signal})));
    const child = {proc, exited, output: () => stderr};
    children.add(child);
    return child;
}

async function killChild(child) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
    await child.exited;
}

describe('watch page', {skip: missing ?? false}, () => {
    const children = new Set();
    let server;
    let context;
    let page;
    let broadcast;
    let ffmpeg;
    const consoleLines = [];

    const diagnostics = () => `--- page console ---\n${consoleLines.slice(-40).join('\n')}\n` +
        `--- ffmpeg ---\n${ffmpeg?.output() ?? ''}\n${server?.context() ?? ''}`;

    const pageState = () => page.evaluate(() => {
        const v = document.getElementById('player');
        const s = document.getElementById('status');
        return {
            status: s.dataset.status, mode: s.dataset.mode, text: s.textContent,
            currentTime: v.currentTime, paused: v.paused, readyState: v.readyState,
            src: v.currentSrc,
        };
    });

    /** Waits until the status element says `status`; fails with the page state otherwise. */
    async function waitForStatus(status, timeoutMs) {
        try {
            await page.waitForFunction(
                (want) => document.getElementById('status')?.dataset.status === want, status,
                {timeout: timeoutMs, polling: 200});
        } catch (e) {
            assert.fail(`page did not show ${status} within ${timeoutMs} ms: ${e.message}\n` +
                `state: ${JSON.stringify(await pageState())}\n${diagnostics()}`);
        }
    }

    /**
     * Waits until the video has played more than `seconds` of media from now on. Progress is
     * summed from timeupdate steps under 1 s, so a seek (hls.js jumping to the live edge, a
     * new player) does not count as playback. @returns the seconds played
     */
    async function waitForProgress(seconds, timeoutMs) {
        await page.evaluate(() => {
            const v = document.getElementById('player');
            window.__played = {seconds: 0, last: v.currentTime};
            if (!window.__playedHooked) {
                window.__playedHooked = true;
                v.addEventListener('timeupdate', () => {
                    const step = v.currentTime - window.__played.last;
                    if (step > 0 && step < 1) window.__played.seconds += step;
                    window.__played.last = v.currentTime;
                });
            }
        });
        try {
            await page.waitForFunction((by) => window.__played.seconds > by, seconds,
                {timeout: timeoutMs, polling: 250});
        } catch (e) {
            assert.fail(`the video did not play ${seconds} s within ${timeoutMs} ms: ${e.message}\n` +
                `played: ${JSON.stringify(await page.evaluate(() => window.__played))}\n` +
                `state: ${JSON.stringify(await pageState())}\n${diagnostics()}`);
        }
        return page.evaluate(() => window.__played.seconds);
    }

    before(async () => {
        // A long grace period: the suspended state must be observed, not skipped to ended.
        server = await startServer({config: {hls: {grace_period_s: 60}}});
        broadcast = await server.createBroadcast('e2e watch page');
        context = await launchPersistentChromium(makeTempDir('livehouse-chromium-'));
        page = await context.newPage();
        page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
        page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    });

    after(async () => {
        await context?.close().catch(() => {});
        for (const c of children) await killChild(c);
        await server?.stop();
    });

    test('plays live and reports the live status', async () => {
        ffmpeg = startFfmpeg(`${server.rtmpUrl}/${broadcast.stream_key}`, children);
        await server.waitForPlaylist(broadcast.id, (p) => p.segments.length >= 2, {timeoutMs: 30000});

        await page.goto(server.url(`/watch/${broadcast.id}`));
        assert.equal(await page.textContent('#title'), 'e2e watch page');
        await waitForStatus('live', 20000);
        // More than 2 s of media actually played (not just a position jump).
        await waitForProgress(2, 20000);
        const state = await pageState();
        assert.equal(state.mode, 'live');
        assert.equal(state.text, 'Live');
    });

    test('shows suspended when the publisher goes away', async () => {
        const killedAt = Date.now();
        await killChild(ffmpeg);
        children.delete(ffmpeg);
        await waitForStatus('suspended', 30000);
        const state = await pageState();
        assert.equal(state.text, 'Broadcast paused — waiting for the streamer');
        assert.ok(Date.now() - killedAt < 60000, 'suspended seen inside the grace period');
        // The server agrees, and the playlist is still served (no 404 while suspended).
        assert.equal((await server.getStatus(broadcast.id)).status, 'suspended');
        assert.equal((await server.getPlaylist(broadcast.id)).status, 200);
    });

    test('plays again when the publisher comes back', async () => {
        ffmpeg = startFfmpeg(`${server.rtmpUrl}/${broadcast.stream_key}`, children);
        await waitForStatus('live', 30000);
        await waitForProgress(2, 30000);
    });

    test('switches to the recording when the broadcast ends', async () => {
        const r = await server.deleteBroadcast(broadcast.id);
        assert.equal(r.status, 200, r.text);
        await waitForStatus('ended', 20000);
        try {
            await page.waitForFunction(() => document.getElementById('status').dataset.mode === 'vod',
                null, {timeout: 20000, polling: 250});
        } catch (e) {
            assert.fail(`the page did not switch to the VOD: ${e.message}\n` +
                `${JSON.stringify(await pageState())}\n${diagnostics()}`);
        }
        const state = await pageState();
        assert.equal(state.text, 'Broadcast ended — playing the recording');
        // The recording plays.
        await waitForProgress(1, 20000);
    });
});
