import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { InputError } from '../src/errors.js';
import { type EpochRecord, type RunRecord, newRunId, openStore } from '../src/store/runs.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dltheory-store-'));
  tempDirs.push(dir);
  return dir;
}

function sampleRun(id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    kind: 'train',
    created: new Date().toISOString(),
    spec: 'mlp:784-64-10',
    data: 'mnist',
    hparams: { lr: 0.01, optimizer: 'adam', batch: 128 },
    seed: 7,
    final: { loss: 0.25, acc: 0.93 },
    weights: `weights/${id}.bin`,
    seconds: 1.5,
    tag: null,
    ...overrides,
  };
}

function sampleEpochs(n: number): EpochRecord[] {
  return Array.from({ length: n }, (_, i) => ({ epoch: i + 1, metrics: { loss: 1 / (i + 1), acc: i / n } }));
}

test('newRunId sorts by time and differs within a second', () => {
  const a = newRunId(new Date('2026-11-25T12:03:01Z'));
  const b = newRunId(new Date('2026-11-25T12:03:02Z'));
  assert.match(a, /^20261125-120301-[0-9a-f]{6}$/);
  assert.ok(a < b);
  assert.notEqual(newRunId(), newRunId());
});

test('a run and its epochs round-trip, including non-finite metrics', () => {
  const dir = tempDir();
  const store = openStore(dir);
  assert.ok(fs.existsSync(path.join(dir, 'runs.sqlite')));
  assert.ok(fs.statSync(store.weightsDir).isDirectory());
  const run = sampleRun('r1', { final: { loss: NaN, grad: Infinity, acc: 0.1 }, tag: 'grid-a/w=64' });
  const epochs = sampleEpochs(5);
  store.saveRun(run, epochs);
  assert.ok(store.hasRun('r1'));
  assert.ok(!store.hasRun('r2'));
  const got = store.getRun('r1');
  assert.deepEqual(got, { run, epochs });
  assert.equal(store.weightsPath(run), path.join(dir, 'weights', 'r1.bin'));
  assert.equal(store.getRun('missing'), undefined);
  store.close();

  // A second open of the same folder sees the same data and keeps the schema.
  const again = openStore(dir);
  assert.deepEqual(again.getRun('r1')?.run, run);
  again.close();
});

test('DLTHEORY_RUNS picks the folder when none is given', () => {
  const dir = path.join(tempDir(), 'nested', 'runs');
  const saved = process.env.DLTHEORY_RUNS;
  process.env.DLTHEORY_RUNS = dir;
  try {
    openStore().close();
  } finally {
    if (saved === undefined) delete process.env.DLTHEORY_RUNS;
    else process.env.DLTHEORY_RUNS = saved;
  }
  assert.ok(fs.existsSync(path.join(dir, 'runs.sqlite')));
});

test('listRuns is newest first and filters; findByTag matches a literal prefix', () => {
  const store = openStore(tempDir());
  store.saveRun(sampleRun('a', { created: '2026-01-01T00:00:00.000Z', kind: 'zoo', tag: 'grid_1/a' }), []);
  store.saveRun(sampleRun('b', { created: '2026-01-03T00:00:00.000Z', kind: 'zoo', tag: 'grid_1/b' }), []);
  store.saveRun(sampleRun('c', { created: '2026-01-02T00:00:00.000Z', kind: 'train', tag: 'gridX1/c' }), []);
  store.saveRun(sampleRun('d', { created: '2026-01-04T00:00:00.000Z', kind: 'train', tag: 'GRID_1/d' }), []);
  assert.deepEqual(store.listRuns().map((r) => r.id), ['d', 'b', 'c', 'a']);
  assert.deepEqual(store.listRuns({ kind: 'zoo' }).map((r) => r.id), ['b', 'a']);
  assert.deepEqual(store.listRuns({ limit: 2 }).map((r) => r.id), ['d', 'b']);
  assert.deepEqual(store.listRuns({ tag: 'gridX1/c' }).map((r) => r.id), ['c']);
  // '_' is no wildcard and case matters.
  assert.deepEqual(store.findByTag('grid_1/').map((r) => r.id), ['a', 'b']);
  store.close();
});

test('a duplicate id is rejected unless replace is asked for', () => {
  const store = openStore(tempDir());
  store.saveRun(sampleRun('dup'), sampleEpochs(3));
  assert.throws(() => store.saveRun(sampleRun('dup'), sampleEpochs(2)), InputError);
  assert.equal(store.getRun('dup')?.epochs.length, 3);
  store.saveRun(sampleRun('dup', { seed: 9 }), sampleEpochs(2), { replace: true });
  const got = store.getRun('dup');
  assert.equal(got?.run.seed, 9);
  assert.equal(got?.epochs.length, 2);
  store.close();
});

test('a save that fails midway leaves nothing behind', () => {
  const store = openStore(tempDir());
  // Epoch 2 twice violates the primary key after the run row and epochs 1-2 were inserted.
  const epochs = [...sampleEpochs(2), { epoch: 2, metrics: { loss: 0 } }, ...sampleEpochs(4).slice(2)];
  assert.throws(() => store.saveRun(sampleRun('half'), epochs));
  assert.equal(store.hasRun('half'), false);
  assert.equal(store.getRun('half'), undefined);
  // A failed replace keeps the old run whole.
  store.saveRun(sampleRun('old'), sampleEpochs(3));
  assert.throws(() => store.saveRun(sampleRun('old', { seed: 1 }), epochs, { replace: true }));
  assert.equal(store.getRun('old')?.run.seed, 7);
  assert.equal(store.getRun('old')?.epochs.length, 3);
  store.close();
});

test('bad run ids are rejected', () => {
  const store = openStore(tempDir());
  assert.throws(() => store.saveRun(sampleRun('../escape'), []), InputError);
  assert.throws(() => store.saveRun(sampleRun(''), []), InputError);
  store.close();
});

test('a file that is not a database gives an InputError naming it', () => {
  const dir = tempDir();
  const file = path.join(dir, 'runs.sqlite');
  fs.writeFileSync(file, 'this is certainly not an SQLite database file\n'.repeat(200));
  assert.throws(
    () => openStore(dir),
    (err: unknown) => err instanceof InputError && err.message.includes(file),
  );
});

test('a store written by a newer schema is refused', () => {
  const dir = tempDir();
  openStore(dir).close();
  const db = new Database(path.join(dir, 'runs.sqlite'));
  db.pragma('user_version = 99');
  db.close();
  assert.throws(() => openStore(dir), (err: unknown) => err instanceof InputError && /version 99/.test(err.message));
});

test('SIGKILL during a stream of saves leaves only complete runs', async () => {
  const dir = tempDir();
  const EPOCHS = 400;
  const storeUrl = new URL('../src/store/runs.js', import.meta.url).href;
  const child = `
    import { openStore } from ${JSON.stringify(storeUrl)};
    const store = openStore(${JSON.stringify(dir)});
    const epochs = Array.from({ length: ${EPOCHS} }, (_, i) => ({ epoch: i, metrics: { loss: Math.random(), acc: i } }));
    for (let i = 0; ; i++) {
      store.saveRun({ id: 'run-' + i, kind: 'zoo', created: new Date().toISOString(), spec: 's', data: 'd',
        hparams: {}, seed: i, final: { epochs: ${EPOCHS} }, weights: null, seconds: 0, tag: 'kill' }, epochs);
      if (i === 5) process.stdout.write('saving\\n');
    }
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.once('data', () => resolve());
    proc.once('exit', () => reject(new Error(`child exited before saving: ${stderr}`)));
  });
  // Let it run a little longer so the kill lands at an arbitrary point, most likely mid-transaction.
  await new Promise((r) => setTimeout(r, 150 + Math.random() * 100));
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;

  const store = openStore(dir);
  const runs = store.findByTag('kill');
  assert.ok(runs.length >= 6, `expected at least 6 runs, found ${runs.length}`);
  for (const run of runs) {
    const got = store.getRun(run.id);
    assert.equal(got?.epochs.length, EPOCHS, `run ${run.id} is incomplete`);
  }
  // Run ids are consecutive: nothing was lost before the last complete save.
  const ids = new Set(runs.map((r) => r.id));
  for (let i = 0; i < runs.length; i++) assert.ok(ids.has(`run-${i}`));
  store.close();
});
