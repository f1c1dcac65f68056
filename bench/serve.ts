/**
 * The dashboard's Runs page on a large store: a synthetic store of N runs (bench/serve-store.ts; 20,000
 * by default) in a temp folder, and the time of each query the page makes through fastify's inject
 * (the server's own work, no network): the first request, and the median of the 5 after it.
 *
 *   node dist/bench/serve.js [N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from '../src/serve/server.js';
import { openStore } from '../src/store/runs.js';
import { median } from './python.js';
import { fillStore } from './serve-store.js';

const QUERIES: [what: string, url: string][] = [
  ['first page (50 runs, newest first)', '/api/runs?limit=50&sort=created&desc=1'],
  ['last page (offset N − 50)', '/api/runs?limit=50&offset=OFFSET'],
  ['sorted by a metric (final.gap)', '/api/runs?limit=50&sort=final.gap&desc=1'],
  ['two filters, sorted by a metric', '/api/runs?limit=50&f=hparams.width>=256&f=final.gap<0.05&sort=final.gap'],
  ['substring filter (tag~synthetic-1)', '/api/runs?limit=50&f=tag~synthetic-1'],
  ['grouped by all but the seed (all runs)', '/api/groups?limit=50'],
  ['grouped, one filter', '/api/groups?limit=50&f=hparams.depth=2'],
  ['field names (filter and column lists)', '/api/fields'],
];

export async function runServeBench(n: number): Promise<{ what: string; first: number; ms: number }[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dltheory-serve-bench-'));
  try {
    {
      using store = openStore(path.join(dir, 'runs'));
      fillStore(store, n);
    }
    const app = await createServer({ runs: path.join(dir, 'runs') });
    try {
      const out: { what: string; first: number; ms: number }[] = [];
      for (const [what, url] of QUERIES) {
        const u = url.replace('OFFSET', String(Math.max(0, n - 50)));
        const times: number[] = [];
        for (let i = 0; i < 6; i++) {
          const t = performance.now();
          const r = await app.inject(u);
          if (r.statusCode !== 200) throw new Error(`${u}: ${r.statusCode} ${r.body}`);
          times.push(performance.now() - t);
        }
        out.push({ what, first: times[0], ms: median(times.slice(1)) });
      }
      return out;
    } finally {
      await app.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('serve.js')) {
  const n = Number(process.argv[2] ?? 20000);
  const t = performance.now();
  const rows = await runServeBench(n);
  console.log(`${n} runs (store written and queried in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  console.log('   first   median  query');
  for (const r of rows) console.log(`${r.first.toFixed(1).padStart(8)} ${r.ms.toFixed(1).padStart(8)}  ${r.what}`);
}
