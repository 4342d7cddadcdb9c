// A private PostgreSQL 15 server for an integration test (Debian's postgresql-15 binaries), the
// JavaScript twin of tests/support/livehouse_test/postgres_server.hpp: a fresh cluster (initdb)
// in a temporary directory, listening on a free loopback port. initdb and postgres refuse to
// run as root, and the tests run as root here and in CI: as root the server runs as Debian's
// `postgres` user (runuser), owning the directory. stop() shuts it down immediately and removes
// the directory; the harness's exit handlers do not know this server, so call stop() in after().

import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {freePort} from './chat.mjs';

const BIN = '/usr/lib/postgresql/15/bin';

export async function startPostgres() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'livehouse-pg-'));
    const root = process.getuid?.() === 0;
    if (root) {
        const id = (flag) => Number(execFileSync('id', [ flag, 'postgres' ]).toString().trim());
        fs.chownSync(dir, id('-u'), id('-g'));
    }
    const run = (tool, args) => {
        const cmd = root ? 'runuser' : path.join(BIN, tool);
        const argv = root ? [ '-u', 'postgres', '--', path.join(BIN, tool), ...args ] : args;
        return execFileSync(cmd, argv, {cwd : '/', stdio : [ 'ignore', 'pipe', 'pipe' ]});
    };
    const data = path.join(dir, 'data');
    run('initdb', [ '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C',
                    '--no-sync', '--no-instructions' ]);
    const port = await freePort();
    run('pg_ctl', [ '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o',
                    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir}`,
                    'start' ]);
    let stopped = false;
    return {
        port,
        conninfo : `host=127.0.0.1 port=${port} user=postgres dbname=postgres`,
        stop : async () => {
            if (stopped)
                return;
            stopped = true;
            try {
                run('pg_ctl', [ '-D', data, '-m', 'immediate', '-w', 'stop' ]);
            } finally {
                fs.rmSync(dir, {recursive : true, force : true});
            }
        },
    };
}
