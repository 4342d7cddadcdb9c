// The server process itself: start-up failures that must name their cause (unknown config key,
// port taken) and exit 1, SIGTERM during a live publish (exit 0, VOD finalized on disk, ended
// after a restart), and the generated admin token (written once to <data_dir>/admin.token,
// printed on the first start only).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {describe, it} from 'node:test';

import * as h from './lib/harness.mjs';

/** Holds a TCP port on 127.0.0.1 until close() is called. */
async function occupyPort() {
    const srv = net.createServer(() => {});
    await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
    });
    return {port : srv.address().port, close : () => new Promise((r) => srv.close(r))};
}

describe('server process', {concurrency : true, timeout : 180000}, () => {
    it('refuses an unknown config key, naming it, with exit code 1', async () => {
        const cases = [
            [ '[hls]\nsegment_targt_ms = 1000\n', 'segment_targt_ms' ],
            [ '[server]\nhost = "127.0.0.1"\n\n[bogus_section]\nx = 1\n', 'bogus_section' ],
        ];
        for (const [rawConfig, key] of cases) {
            const r = await h.runServerToExit({rawConfig});
            assert.ok(!r.timedOut,
                      `the server kept running with an unknown key ${key}:\n${r.output}`);
            assert.equal(r.code, 1, `exit code with unknown key ${key}:\n${r.output}`);
            assert.ok(r.output.includes(key), `the message does not name ${key}:\n${r.output}`);
            assert.ok(!fs.existsSync(r.readyFile), 'no ready file for a server that did not start');
        }
    });

    for (const which of ['http', 'rtmp']) {
        it(`exits 1 naming the port when the ${which} port is taken`, async () => {
            const blocker = await occupyPort();
            try {
                const r = await h.runServerToExit({[`${which}Port`] : blocker.port});
                assert.ok(!r.timedOut,
                          `the server kept running with its ${which} port taken:\n${r.output}`);
                assert.equal(r.code, 1, `exit code:\n${r.output}`);
                assert.ok(r.output.includes(String(blocker.port)),
                          `the message does not name port ${blocker.port}:\n${r.output}`);
                assert.ok(!fs.existsSync(r.readyFile),
                          'no ready file for a server that did not start');
            } finally {
                await blocker.close();
            }
        });
    }

    it('on SIGTERM during a live publish finalizes the VOD and exits 0; a restart shows it ended',
       async () => {
           const server = await h.startServer();
           const b = await server.createBroadcast('sigterm');
           const pub = h.publish({rtmpUrl : server.rtmpUrl, key : b.stream_key});
           let restarted;
           try {
               await server.waitForStatus(b.id, 'live', 20000, {publisher : pub});
               await server.waitForPlaylist(b.id, (p) => p.segments.length >= 2);
               const r = await server.stop({signal : 'SIGTERM', timeoutMs : 15000});
               assert.ok(!r.timedOut, `no exit within 15 s of SIGTERM:\n${server.context()}`);
               assert.equal(r.signal, null, `killed by ${r.signal}`);
               assert.equal(r.code, 0, `exit code after SIGTERM:\n${server.context()}`);

               const vodDir = path.join(server.dataDir, 'vod', b.id);
               const vodFile = path.join(vodDir, 'index.m3u8');
               assert.ok(fs.existsSync(vodFile), `no VOD playlist at ${vodFile}`);
               const vod = h.validateVodPlaylist(fs.readFileSync(vodFile, 'utf8'));
               assert.ok(vod.segments.length >= 2, 'the VOD holds the published segments');
               for (const s of vod.segments) {
                   assert.ok(fs.existsSync(path.join(vodDir, s.uri)),
                             `VOD segment ${s.uri} is missing on disk`);
               }
               const decode = await h.ffmpegDecode(vodFile);
               assert.equal(decode.code, 0, `ffmpeg decode of the VOD: ${decode.stderr}`);
               assert.equal(decode.stderr, '', 'ffmpeg printed errors decoding the VOD');

               // The state survives: after a restart the broadcast is ended and its VOD served.
               restarted = await h.startServer({dataDir : server.dataDir});
               assert.equal((await restarted.getStatus(b.id)).status, 'ended');
               const served = await restarted.get(`/vod/${b.id}/index.m3u8`);
               assert.equal(served.status, 200);
               h.validateVodPlaylist(served.text);
           } finally {
               await pub.stop();
               await server.stop();
               await restarted?.stop();
           }
       });

    it('generates the admin token into <data_dir>/admin.token, printed on the first start only',
       async () => {
           const create = (server, token) =>
               server.request('POST', '/api/v1/broadcasts', {token, json : {title : 't'}});
           const first = await h.startServer({adminToken : null});
           let second;
           try {
               const file = path.join(first.dataDir, 'admin.token');
               assert.ok(fs.existsSync(file), `no ${file}`);
               const token = fs.readFileSync(file, 'utf8').trim();
               assert.ok(token.length >= 32, `generated token "${token}" is too short`);
               const mode = fs.statSync(file).mode;
               assert.equal(mode & 0o077, 0, 'admin.token must be readable by its owner only');
               // The ready file can beat the server's stderr through the pipe: wait for the line.
               await h.waitFor(() => first.output().includes(token),
                               {timeoutMs : 3000, what : 'the generated token on stderr'});
               assert.equal((await create(first, token)).status, 201);
               assert.equal((await create(first, 'x')).status, 401);
               assert.equal((await first.stop()).code, 0);

               second = await h.startServer({adminToken : null, dataDir : first.dataDir});
               assert.equal(fs.readFileSync(file, 'utf8').trim(), token, 'the token file is kept');
               // Both go to stderr, a token line before "listening": once that line is in, a
               // token line would be too.
               await h.waitFor(() => second.output().includes('listening'),
                               {timeoutMs : 3000, what : 'the "listening" log line'});
               assert.ok(!second.output().includes(token), 'the second start printed the token');
               assert.equal((await create(second, token)).status, 201);
           } finally {
               await first.stop();
               await second?.stop();
           }
       });
});
