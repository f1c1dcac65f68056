// The dashboard's server without a browser (fastify inject): queries against what the synthetic
// store must return, and the bad requests it refuses: path traversal, symbolic links out of the
// reports folder, absurd sizes, a missing or wrong token, writes to the read-only store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from '../src/serve/server.js';
import { openStore } from '../src/store/runs.js';
import { InputError } from '../src/errors.js';
import { cliRunner } from './cli-run.js';
import { fillStore, syntheticRun } from '../bench/serve-store.js';

const N = 240;

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dltheory-serve-'));
  const runs = path.join(dir, 'runs');
  {
    using store = openStore(runs);
    fillStore(store, N);
  }
  const reports = path.join(dir, 'reports');
  fs.mkdirSync(path.join(reports, 'r1'), { recursive: true });
  fs.writeFileSync(path.join(reports, 'r1', 'results.json'), JSON.stringify([{ id: 'c', verdict: 'holds' }]));
  fs.writeFileSync(path.join(reports, 'r1', 'chart.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  fs.writeFileSync(path.join(dir, 'secret.json'), '{"secret": 1}');
  return { dir, runs, reports, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const json = (r: { body: string }) => JSON.parse(r.body);

test('runs are filtered, sorted, paged and grouped as the synthetic store says', async () => {
  const s = setup();
  const app = await createServer({ runs: s.runs });
  try {
    const all = Array.from({ length: N }, (_, i) => syntheticRun(i));
    const page = json(await app.inject('/api/runs?f=hparams.width>=256&f=final.gap<0.05&sort=final.gap&desc=1&offset=3&limit=7'));
    const expected = all.filter((r) => (r.hparams.width as number) >= 256 && r.final.gap < 0.05).sort((a, b) =>
      b.final.gap - a.final.gap || (a.id < b.id ? 1 : -1)
    );
    assert.equal(page.total, expected.length);
    assert.deepEqual(page.runs.map((r: { id: string }) => r.id), expected.slice(3, 10).map((r) => r.id));
    // A NaN metric is stored as text; a numeric filter must not count it as larger than every number.
    const loss = json(await app.inject('/api/runs?f=final.testLoss>-1&limit=1'));
    assert.equal(loss.total, all.filter((r) => Number.isFinite(r.final.testLoss)).length);
    const tag = json(await app.inject(`/api/runs?f=${encodeURIComponent('tag~SYNTHETIC-1')}&limit=1`));
    assert.equal(tag.total, N / 3);
    const groups = json(await app.inject('/api/groups?limit=500'));
    assert.equal(groups.total, 24, '4 widths × 3 depths × 2 lr');
    const g = groups.groups.find((x: { key: Record<string, unknown> }) => x.key.width === 512 && x.key.depth === 2 && x.key.lr === 0.01);
    const members = all.filter((r) => r.hparams.width === 512 && r.hparams.depth === 2 && r.hparams.lr === 0.01);
    const gaps = members.map((r) => r.final.gap);
    const mean = gaps.reduce((a, b) => a + b) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (gaps.length - 1));
    assert.deepEqual(g.ids, members.map((r) => r.id));
    // Summation order differs from this loop's by at most a few ulps of values near 0.06.
    assert.ok(Math.abs(g.metrics.gap.mean - mean) <= 8 * Number.EPSILON * Math.abs(mean), `${g.metrics.gap.mean} vs ${mean}`);
    assert.ok(Math.abs(g.metrics.gap.sd - sd) <= 1e-12, `${g.metrics.gap.sd} vs ${sd}`);
    const cmp = json(await app.inject('/api/compare?ids=syn-000000,syn-000004'));
    assert.deepEqual(cmp.differing.sort(), ['final.gap', 'final.testAccuracy', 'final.testLoss', 'hparams.depth', 'spec', 'tag'].sort());
    const run = json(await app.inject('/api/run/syn-000005?log=1&smooth=0.5'));
    assert.deepEqual(run.curves.map((c: { name: string }) => c.name), ['loss', 'learning rate']);
    assert.equal(run.summary.total, (20 * 128 + 128) + (128 * 128 + 128) + (128 * 3 + 3));
    for (const [url, status] of [['/api/runs?f=nonsense=1', 400], ['/api/runs?f=final.gap<abc', 400], ['/api/runs?limit=100000', 400], [
      '/api/runs?sort=hparams.a%22b',
      400,
    ], ['/api/run/nope', 404], ['/api/run/syn-000001?smooth=1', 400], ['/api/compare?ids=syn-000001', 400]] as const) {
      const r = await app.inject(url);
      assert.equal(r.statusCode, status, `${url}: ${r.body}`);
      assert.match(json(r).error, /\S/);
    }
  } finally {
    await app.close();
    s.cleanup();
  }
});

test('report files: traversal, symbolic links out, other types and absurd sizes are refused', async () => {
  const s = setup();
  fs.symlinkSync(path.join(s.dir, 'secret.json'), path.join(s.reports, 'r1', 'link.json'));
  fs.symlinkSync(s.dir, path.join(s.reports, 'r1', 'up'));
  fs.writeFileSync(path.join(s.reports, 'r1', 'key.pem'), 'x');
  // Sparse: 65 MiB of size without 65 MiB of disk.
  fs.writeFileSync(path.join(s.reports, 'r1', 'huge.json'), '');
  fs.truncateSync(path.join(s.reports, 'r1', 'huge.json'), 65 * 1024 * 1024);
  const app = await createServer({ runs: s.runs, reports: s.reports });
  try {
    const ok = await app.inject('/files/r1/chart.svg');
    assert.equal(ok.statusCode, 200);
    assert.match(ok.headers['content-type'] as string, /^image\/svg\+xml/);
    for (const [url, status] of [
      ['/files/r1/..%2f..%2fsecret.json', 400],
      // Dot segments of the path itself are resolved before routing: this one asks for /secret.json, no route.
      ['/files/%2e%2e/secret.json', 404],
      ['/files/r1%2f..%2f..%2fsecret.json', 400],
      ['/files/r1/link.json', 403],
      ['/files/r1/up/secret.json', 403],
      ['/files/r1/key.pem', 403],
      ['/files/r1/huge.json', 413],
      ['/files/r1/missing.svg', 404],
      ['/files/r1', 404],
      ['/vendor/..%2fpackage.json', 404],
      ['/..%2fapi.ts', 404],
      ['/views/..%2f..%2fserver.ts', 404],
      ['/vendor/vega.js', 404],
    ] as const) {
      const r = await app.inject(url);
      assert.equal(r.statusCode, status, `${url}: ${r.body}`);
      assert.doesNotMatch(r.body, /"secret": 1/, `${url} leaked the file`);
    }
    const claims = json(await app.inject('/api/claims'));
    assert.deepEqual(claims.history, [{ id: 'c', verdicts: ['holds'] }]);
    assert.equal((await app.inject('/api/claims?report=..')).statusCode, 404);
  } finally {
    await app.close();
    s.cleanup();
  }
});

test('a token is required beyond loopback, and then on every request', async () => {
  const s = setup();
  try {
    await assert.rejects(createServer({ runs: s.runs, host: '0.0.0.0' }), (e) => e instanceof InputError && /--token/.test(e.message));
    await assert.rejects(createServer({ runs: s.runs, host: '0.0.0.0', token: 'short' }), /at least 8/);
    const token = crypto.randomBytes(12).toString('hex');
    const app = await createServer({ runs: s.runs, host: '0.0.0.0', token });
    try {
      for (const url of ['/', '/app.js', '/vendor/vega.min.js', '/api/runs', '/api/live']) {
        assert.equal((await app.inject(url)).statusCode, 401, url);
        assert.equal((await app.inject({ url, headers: { authorization: 'Bearer wrong-token' } })).statusCode, 401, url);
        assert.equal((await app.inject(`${url}?token=${token}x`)).statusCode, 401, url);
      }
      assert.equal((await app.inject({ url: '/api/runs', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
      const viaQuery = await app.inject(`/?token=${token}`);
      assert.equal(viaQuery.statusCode, 200);
      const cookie = String(viaQuery.headers['set-cookie']).split(';')[0];
      assert.match(String(viaQuery.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
      assert.equal((await app.inject({ url: '/app.js', headers: { cookie } })).statusCode, 200, 'the page loads its scripts with the cookie');
    } finally {
      await app.close();
    }
  } finally {
    s.cleanup();
  }
});

test('the store is opened read-only: nothing created, nothing written', async () => {
  const s = setup();
  try {
    const empty = path.join(s.dir, 'empty');
    fs.mkdirSync(empty);
    await assert.rejects(createServer({ runs: empty }), (e) => e instanceof InputError && /no run store here/.test(e.message));
    assert.deepEqual(fs.readdirSync(empty), [], 'no store created');
    const file = path.join(s.runs, 'runs.sqlite');
    const before = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const app = await createServer({ runs: s.runs });
    for (const url of ['/api/runs', '/api/groups', '/api/fields', '/api/run/syn-000001', '/api/population?tag=zoo/synthetic-0']) {
      assert.equal((await app.inject(url)).statusCode, 200, url);
    }
    await app.close();
    assert.equal(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), before);
    using ro = openStore(s.runs, { readonly: true });
    assert.throws(() => ro.saveRun(syntheticRun(N), []), /readonly/i);
  } finally {
    s.cleanup();
  }
});

test('new runs reach the live stream as they are committed', async () => {
  const s = setup();
  const app = await createServer({ runs: s.runs, liveIntervalMs: 50 });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${url}/api/live`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: hello')) text += (await reader.read()).value;
    {
      using store = openStore(s.runs);
      fillStore(store, N + 2, N);
    }
    while ((text.match(/event: run/g) ?? []).length < 2) text += (await reader.read()).value;
    const ids = [...text.matchAll(/event: run\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]).id);
    assert.deepEqual(ids, [syntheticRun(N).id, syntheticRun(N + 1).id]);
    await reader.cancel();
  } finally {
    await app.close();
    s.cleanup();
  }
});

// Each call starts a process that loads libtorch (seconds): three cases, the rest of the checks are createServer's, tested above.
test('dltheory serve: bad arguments exit 2 with one line', () => {
  const s = setup();
  try {
    const { rejects } = cliRunner(['serve']);
    rejects(['--port', 'abc', '--runs', s.runs], /--port must be an integer/);
    rejects(['--host', '0.0.0.0', '--runs', s.runs], /give --token/);
    rejects(['--runs', path.join(s.dir, 'nowhere')], /no run store here/);
  } finally {
    s.cleanup();
  }
});
