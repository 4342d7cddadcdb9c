// The watch page's chat panel in a real browser: Debian's Chromium (driven by playwright-core)
// opens /watch/<id> on the real server in two browser contexts (two viewers, each with its own
// guest token in its own localStorage) while ffmpeg publishes, and
//   1. both viewers enter a name and chat: what one sends, both show, in the same order, as
//      text (markup in a message stays text);
//   2. a refusal (a 600-character message; the server takes 500) shows inline, only to the
//      sender, who gets the text back;
//   3. a paid message (POST .../paid-messages with the viewer's token) is highlighted with its
//      amount; a moderator's delete removes a message from both;
//   4. a dropped connection reconnects with ?since=<last offset>: what was sent meanwhile
//      arrives once, in the resumed history (the reconnect is held until it was sent);
//   5. a muted viewer's send box is switched off and the others are told;
//   6. once the broadcast ends, a reloaded page plays the recording and the chat replays in
//      time with it: at currentTime 0 nothing later is shown; a message appears only once the
//      playhead passed its position; seeking back takes it away again; deleted messages never
//      come back.
// Screenshots go to the server's temp dir, and the live one also to /tmp/chat-panel.png.
//
// Environment: LIVEHOUSE_BIN, LIVEHOUSE_SOURCE_DIR (see tests/integration/lib/harness.mjs);
// CHROMIUM_PATH overrides /usr/bin/chromium. The test is skipped, not failed, when Chromium or
// playwright-core (`npm ci` in the repository root) is missing.
//
// Every child (server, ffmpeg, Chromium) is stopped in after(), and by the harness at exit.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';

import {launchChromium, missing} from './browser.mjs';
import {publish, startServer, waitFor} from '../integration/lib/harness.mjs';

const REVIEW_SCREENSHOT = '/tmp/chat-panel.png';

/** Runs in every page before its scripts: records each chat message as it is added. */
function recordChatInsertions() {
    window.__chatLog = [];
    new MutationObserver((records) => {
        const v = document.getElementById('player');
        const mode = document.getElementById('chat')?.dataset.mode ?? '';
        for (const r of records) {
            for (const n of r.addedNodes) {
                if (n.nodeType !== 1 || !n.matches('li.chat-message')) continue;
                window.__chatLog.push({
                    offset: Number(n.dataset.offset), position: Number(n.dataset.position),
                    currentTime: v ? v.currentTime : -1, mode,
                });
            }
        }
    }).observe(document, {childList: true, subtree: true});
}

function deferred() {
    let resolve;
    const promise = new Promise((r) => {
        resolve = r;
    });
    return {promise, resolve};
}

describe('chat panel', {skip: missing ?? false}, () => {
    let server;
    let browser;
    let broadcast;
    let publisher;
    const viewers = {}; // name -> {context, page, consoleLines}
    // Page A's WebSockets, routed through playwright so the test can drop and hold them.
    const routes = []; // {url, ws, frames: [server -> page texts]}
    let holdNextConnection = null;
    let deletedOffset = -1; // the message the moderator removed

    const diagnostics = async () => {
        let s = '';
        for (const [name, v] of Object.entries(viewers)) {
            const state = await v.page.evaluate(() => ({
                chat: {...document.getElementById('chat')?.dataset},
                status: {...document.getElementById('status')?.dataset},
                items: [...document.querySelectorAll('#chat-messages li')].map((li) => li.textContent),
                error: document.getElementById('chat-send-error')?.textContent,
            })).catch((e) => `unavailable: ${e.message}`);
            s += `--- ${name}: ${JSON.stringify(state)}\n${v.consoleLines.slice(-20).join('\n')}\n`;
        }
        return `${s}--- ffmpeg ---\n${publisher?.output() ?? ''}\n${server?.context() ?? ''}`;
    };

    /** Waits for `fn(arg)` to be truthy in `page`; fails with both pages' state otherwise. */
    async function waitInPage(page, what, fn, arg, timeoutMs = 10000) {
        try {
            await page.waitForFunction(fn, arg, {timeout: timeoutMs, polling: 100});
        } catch (e) {
            assert.fail(`${what}: ${e.message}\n${await diagnostics()}`);
        }
    }

    /** The messages a page shows, top to bottom. */
    const shown = (page) => page.$$eval('#chat-messages li.chat-message', (lis) => lis.map((li) => ({
        offset: Number(li.dataset.offset),
        position: Number(li.dataset.position),
        user: li.querySelector('.chat-user')?.textContent,
        text: li.querySelector('.chat-text')?.textContent,
        paid: li.classList.contains('chat-paid'),
        amount: li.querySelector('.chat-amount')?.textContent ?? null,
    })));

    const waitForText = (page, text, what, timeoutMs) => waitInPage(page, what, (t) =>
        [...document.querySelectorAll('#chat-messages .chat-text')].some((e) => e.textContent === t),
        text, timeoutMs);

    async function openViewer(name) {
        const context = await browser.newContext({viewport: {width: 1200, height: 760}});
        await context.addInitScript(recordChatInsertions);
        const page = await context.newPage();
        const consoleLines = [];
        page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
        page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
        viewers[name] = {context, page, consoleLines};
        return page;
    }

    async function join(page, name) {
        await waitInPage(page, `${name}: the name box`,
            () => !document.getElementById('chat-name-form').hidden);
        await page.fill('#chat-name', name);
        await page.press('#chat-name', 'Enter');
        await waitInPage(page, `${name}: connected with a token`, () => {
            const c = document.getElementById('chat').dataset;
            return c.state === 'connected' && c.auth === 'user' &&
                !document.getElementById('chat-send-form').hidden;
        });
        assert.equal(await page.textContent('#chat-who'), name);
    }

    /** Seeks the player to `t` and waits for "seeked" (the chat reacts on "seeking"). */
    const seek = (page, t, {play}) => page.evaluate(([to, andPlay]) => new Promise((resolve) => {
        const v = document.getElementById('player');
        if (!andPlay) v.pause();
        const timer = setTimeout(resolve, 5000);
        v.addEventListener('seeked', () => {
            clearTimeout(timer);
            resolve();
        }, {once: true});
        v.currentTime = to;
        if (andPlay) v.play().catch(() => {});
    }), [t, play]);

    async function say(page, text) {
        await page.fill('#chat-text', text);
        await page.press('#chat-text', 'Enter');
    }

    before(async () => {
        server = await startServer({
            config: {
                auth: {token_secret: 'e2e-chat-secret-0123456789abcdef0123456789'},
                chat: {user_burst: 20},
            },
        });
        broadcast = await server.createBroadcast('e2e chat');
        // Published from the start: messages get media positions, and the VOD covers them.
        publisher = publish({rtmpUrl: server.rtmpUrl, key: broadcast.stream_key});
        await server.waitForPlaylist(broadcast.id, (p) => p.segments.length >= 2, {timeoutMs: 30000});
        browser = await launchChromium();
        const a = await openViewer('Ann');
        await a.routeWebSocket(/\/ws\/broadcasts\//, async (ws) => {
            const route = {url: ws.url(), ws, frames: []};
            routes.push(route);
            if (holdNextConnection) await holdNextConnection.promise;
            const upstream = ws.connectToServer();
            upstream.onMessage((m) => {
                route.frames.push(String(m));
                ws.send(m);
            });
        });
        await openViewer('Bob');
    });

    after(async () => {
        await browser?.close().catch(() => {});
        await publisher?.stop();
        await server?.stop();
    });

    test('two viewers chat with guest names', async () => {
        const {Ann: {page: a}, Bob: {page: b}} = viewers;
        for (const page of [a, b]) {
            await page.goto(server.url(`/watch/${broadcast.id}`));
            await waitInPage(page, 'the anonymous chat connection',
                () => document.getElementById('chat').dataset.state === 'connected');
        }
        await join(a, 'Ann');
        await join(b, 'Bob');
        const guest = await a.evaluate(() => JSON.parse(localStorage.getItem('livehouse.guest')));
        assert.equal(guest.user.name, 'Ann', 'the guest token is kept in localStorage');
        assert.match(guest.user.id, /^g-/);

        await say(a, 'hello from Ann');
        await waitForText(b, 'hello from Ann', 'Bob shows Ann\'s message');
        await waitForText(a, 'hello from Ann', 'Ann shows her own message');
        await say(b, 'hi Ann, Bob here');
        await waitForText(a, 'hi Ann, Bob here', 'Ann shows Bob\'s reply');

        // Markup is text: shown literally, never parsed.
        const markup = '<img src=x onerror="window.__xss=1"> & <b>bold</b>';
        await say(a, markup);
        await waitForText(b, markup, 'Bob shows the markup as text');
        assert.equal(await b.$$eval('#chat-messages img, #chat-messages b', (e) => e.length), 0);
        assert.equal(await b.evaluate(() => window.__xss), undefined);

        const onA = await shown(a);
        const onB = await shown(b);
        assert.deepEqual(onA.map((m) => [m.user, m.text]), [
            ['Ann', 'hello from Ann'], ['Bob', 'hi Ann, Bob here'], ['Ann', markup],
        ]);
        assert.deepEqual(onB, onA, 'both viewers show the same messages in the same order');
        assert.ok(onA[0].offset < onA[1].offset && onA[1].offset < onA[2].offset);
        assert.ok(await a.$('#chat-messages li.chat-own'), 'Ann\'s own messages are marked');
    });

    test('a refusal shows inline, to the sender only', async () => {
        const {Ann: {page: a}, Bob: {page: b}} = viewers;
        const long = 'x'.repeat(600);
        await say(a, long);
        await waitInPage(a, 'the inline refusal', () => {
            const e = document.getElementById('chat-send-error');
            return !e.hidden && e.dataset.code === 'text_too_long';
        });
        assert.match(await a.textContent('#chat-send-error'), /600/);
        assert.equal(await a.inputValue('#chat-text'), long, 'the refused text is given back');

        await say(a, 'after the refusal');
        await waitForText(b, 'after the refusal', 'Bob shows the next message');
        assert.ok(!(await shown(b)).some((m) => m.text === long), 'the refused text reached nobody');
        assert.ok(!(await shown(a)).some((m) => m.text === long));
        assert.equal(await a.isHidden('#chat-send-error'), true, 'the refusal is cleared');
    });

    test('paid messages are highlighted; a moderator delete removes a message', async () => {
        const {Ann: {page: a}, Bob: {page: b}} = viewers;
        const guest = await a.evaluate(() => JSON.parse(localStorage.getItem('livehouse.guest')));
        const r = await server.request('POST', `/api/v1/broadcasts/${broadcast.id}/paid-messages`, {
            token: guest.token, headers: {'Idempotency-Key': 'e2e-paid-1'},
            json: {text: 'thanks for the stream', amount: 500, currency: 'JPY'},
        });
        assert.equal(r.status, 201, r.text);
        for (const page of [a, b]) {
            await waitForText(page, 'thanks for the stream', 'the paid message');
            const paid = (await shown(page)).find((m) => m.text === 'thanks for the stream');
            assert.equal(paid.paid, true, 'highlighted');
            assert.match(paid.amount, /500/);
            assert.equal(paid.user, 'Ann');
        }

        const reply = (await shown(b)).find((m) => m.text === 'hi Ann, Bob here');
        deletedOffset = reply.offset;
        const d = await server.request(
            'DELETE', `/api/v1/broadcasts/${broadcast.id}/chat/messages/${reply.offset}`, {admin: true});
        assert.equal(d.status, 200, d.text);
        for (const page of [a, b]) {
            await waitInPage(page, 'the deleted message to go', (offset) =>
                !document.querySelector(`#chat-messages li[data-offset="${offset}"]`), reply.offset);
        }
        assert.ok((await shown(a)).some((m) => m.text === 'hello from Ann'), 'the others stay');
    });

    test('a dropped connection resumes with ?since and shows the missed message once', async () => {
        const {Ann: {page: a}, Bob: {page: b}} = viewers;
        const before = await shown(a);
        const dropped = routes.at(-1);
        holdNextConnection = deferred();
        await dropped.ws.close({code: 1001, reason: 'test drops the connection'});
        await waitInPage(a, 'Ann to notice the drop',
            () => document.getElementById('chat').dataset.state === 'reconnecting');
        await waitFor(() => routes.at(-1) !== dropped, {timeoutMs: 10000, what: 'Ann to reconnect'});
        const resumed = routes.at(-1);

        await say(b, 'while Ann was away');
        await waitForText(b, 'while Ann was away', 'Bob shows his message');
        holdNextConnection.resolve();
        holdNextConnection = null;
        await waitForText(a, 'while Ann was away', 'Ann gets the missed message');

        const since = Number(new URL(resumed.url).searchParams.get('since'));
        assert.ok(since >= Math.max(...before.map((m) => m.offset)), `since=${since}`);
        assert.ok(new URL(resumed.url).searchParams.get('token'), 'the token is sent again');
        const history = JSON.parse(resumed.frames[0]);
        assert.equal(history.type, 'history');
        assert.equal(history.resumed, true);
        assert.ok(history.messages.some((m) => m.text === 'while Ann was away'),
            'the missed message came in the resumed history');
        assert.ok(history.messages.every((m) => m.offset > since), 'only what was missed');

        const after = await shown(a);
        assert.equal(after.filter((m) => m.text === 'while Ann was away').length, 1);
        assert.equal(new Set(after.map((m) => m.offset)).size, after.length, 'nothing twice');
        assert.deepEqual(after, await shown(b), 'Ann shows what Bob shows');
    });

    test('a muted viewer cannot send; the others are told', async () => {
        const {Ann: {page: a}, Bob: {page: b}} = viewers;
        const bob = await b.evaluate(() => JSON.parse(localStorage.getItem('livehouse.guest')));
        const r = await server.request('POST', `/api/v1/broadcasts/${broadcast.id}/chat/mutes`,
            {admin: true, json: {user_id: bob.user.id}});
        assert.equal(r.status, 200, r.text);
        await waitInPage(b, 'Bob\'s send box to switch off', () =>
            document.getElementById('chat-text').disabled &&
            document.getElementById('chat-send-error').dataset.code === 'muted');
        await waitInPage(a, 'Ann to be told', () => [...document.querySelectorAll('.chat-system')]
            .some((e) => e.textContent === 'Bob was muted by a moderator'));

        const file = path.join(server.tmpDir, 'chat-live.png');
        await a.screenshot({path: file});
        fs.copyFileSync(file, REVIEW_SCREENSHOT);
    });

    test('after the broadcast, the chat replays in time with the recording', async () => {
        const {Ann: {page: a}, Bob: {page: b}} = viewers;
        await say(a, 'late message');
        await waitForText(a, 'late message', 'Ann shows her last message');
        const late = (await shown(a)).find((m) => m.text === 'late message');
        assert.ok(late.position > 2, `the late message's position ${late.position} is past 2 s`);
        // Some more media after it, so the recording reaches well past its position.
        const seq = (await server.getStatus(broadcast.id)).media_sequence;
        await waitFor(async () => (await server.getStatus(broadcast.id)).media_sequence >= seq + 3,
            {timeoutMs: 20000, what: 'three more segments'});
        const end = await server.deleteBroadcast(broadcast.id);
        assert.equal(end.status, 200, end.text);
        await publisher.stop();

        await b.reload();
        await waitInPage(b, 'the recording and the chat replay', () =>
            document.getElementById('status').dataset.mode === 'vod' &&
            document.getElementById('chat').dataset.mode === 'replay', null, 30000);
        assert.equal(await b.isHidden('#chat-send-form'), true, 'no sending in a replay');
        assert.equal(await b.isHidden('#chat-name-form'), true);

        // At the start: nothing from later on is shown.
        await seek(b, 0, {play: false});
        await waitInPage(b, 'the first replay window', () =>
            Number(document.getElementById('chat').dataset.fetchedTo) >= 30, null, 15000);
        const atStart = await b.evaluate(() => document.getElementById('player').currentTime);
        assert.ok(atStart < 0.5, `currentTime ${atStart}`);
        const early = await shown(b);
        assert.ok(!early.some((m) => m.text === 'late message'), 'not shown before its time');
        assert.ok(early.every((m) => m.position <= atStart + 0.5), JSON.stringify(early));

        // Play from just before it: it appears once the playhead passes its position.
        await seek(b, Math.max(0, late.position - 1.5), {play: true});
        await waitForText(b, 'late message', 'the late message in the replay', 20000);
        const log = await b.evaluate(() => window.__chatLog.filter((e) => e.mode === 'replay'));
        const shownAt = log.find((e) => e.offset === late.offset);
        assert.ok(shownAt.currentTime >= late.position - 0.05,
            `shown at currentTime ${shownAt.currentTime}, position ${late.position}`);
        for (const e of log) {
            assert.ok(e.currentTime >= e.position - 0.05, `shown early: ${JSON.stringify(e)}`);
        }
        const replayed = await shown(b);
        assert.ok(replayed.some((m) => m.text === 'late message' && m.user === 'Ann'));
        assert.ok(!log.some((e) => e.offset === deletedOffset), 'the deleted message is not replayed');
        await b.screenshot({path: path.join(server.tmpDir, 'chat-replay.png')});

        // Seeking back starts over: the late message goes until the playhead comes back. (The
        // pause before the seek fires a "timeupdate" that already reads the new time.)
        await seek(b, 0, {play: false});
        await waitInPage(b, 'the late message to go after seeking back', () =>
            ![...document.querySelectorAll('#chat-messages .chat-text')]
                .some((e) => e.textContent === 'late message'));
        assert.deepEqual(await shown(b), [], 'nothing is shown at 0 after seeking back');
    });
});
