// A flash crowd for bench/edge_bench.sh: N clients GET one URL at the same moment, each on its
// own connection. Prints "ms=<time to the last complete body> ok=<200s with the same body>
// bad=<others>".
//
// Usage: node bench/edge_crowd.mjs <url> <clients>
import crypto from 'node:crypto';
import http from 'node:http';

const [url, n] = [process.argv[2], Number(process.argv[3] ?? 1000)];
const agent = new http.Agent({keepAlive: false, maxSockets: Infinity});
const one = () => new Promise((resolve) => {
    const req = http.get(url, {agent}, (res) => {
        const hash = crypto.createHash('sha256');
        res.on('data', (c) => hash.update(c));
        res.on('end', () => resolve({status: res.statusCode, sha: hash.digest('hex')}));
        res.on('error', () => resolve({status: 0}));
    });
    req.setTimeout(30000, () => req.destroy());
    req.on('error', () => resolve({status: 0}));
});
const started = process.hrtime.bigint();
const results = await Promise.all(Array.from({length: n}, one));
const ms = Number(process.hrtime.bigint() - started) / 1e6;
agent.destroy();
const first = results.find((r) => r.status === 200)?.sha;
const ok = results.filter((r) => r.status === 200 && r.sha === first).length;
console.log(`ms=${ms.toFixed(0)} ok=${ok} bad=${n - ok}`);
