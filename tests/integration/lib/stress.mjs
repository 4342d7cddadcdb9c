// Running `livehouse stress` from the tests: one spawn helper for every stress test file.

import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {serverBinary} from './harness.mjs';

/** Runs `livehouse <args>`; resolves {code, stdout, stderr, out} (out: both, interleaved). */
export function runStress(args) {
    return new Promise((resolve) => {
        const p = spawn(serverBinary(), args, {stdio: ['ignore', 'pipe', 'pipe']});
        let stdout = '';
        let stderr = '';
        let out = '';
        p.stdout.on('data', (d) => { stdout += d; out += d; });
        p.stderr.on('data', (d) => { stderr += d; out += d; });
        p.on('close', (code) => resolve({code, stdout, stderr, out}));
    });
}

/**
 * `livehouse stress <file> --json <json> --set k=v ...`; resolves runStress's fields and
 * `report` (the parsed JSON report, null when none was written). Options: threads (1), quiet
 * (true: no progress line), scrape (false: --no-server-metrics, so a tiny server counts only
 * the load), json (default `<file>.json`), html (a path for --html), extra (more arguments).
 */
export async function stressRun(file, sets, {threads = 1, quiet = true, scrape = false,
                                             json = `${file}.json`, html, extra = []} = {}) {
    const args = ['stress', file, '--json', json, '--threads', String(threads), ...extra];
    if (quiet) args.push('--quiet');
    if (!scrape) args.push('--no-server-metrics');
    if (html) args.push('--html', html);
    for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
    fs.rmSync(json, {force: true});
    const r = await runStress(args);
    let report = null;
    try { report = JSON.parse(fs.readFileSync(json, 'utf8')); } catch { /* none written */ }
    return {...r, report};
}

/** Writes a scenario's TOML under `dir` with a fresh name; returns its path. */
export function scenarioFile(dir, text) {
    const p = path.join(dir, `s-${Math.random().toString(36).slice(2)}.toml`);
    fs.writeFileSync(p, text);
    return p;
}
