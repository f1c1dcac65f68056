// The zoo resumes: killed at a random moment and run again, it trains only the missing models and
// ends with every model of the grid exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { gridCells, cellId, readGrid, runZoo } from '../src/experiments/zoo.js';
import { openStore } from '../src/store/runs.js';
import { noGrad } from '../src/engine/autograd.js';
import { scope } from '../src/engine/memory.js';
import type { Module } from '../src/nn/module.js';
import type { Dataset } from '../src/data/dataset.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'dltheory.js');

function runs(dir: string): { id: string; created: string; epochs: number }[] {
  const db = new Database(join(dir, 'runs.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT id, created, (SELECT COUNT(*) FROM epochs WHERE run_id = runs.id) AS epochs FROM runs ORDER BY id').all() as {
      id: string;
      created: string;
      epochs: number;
    }[];
  } finally {
    db.close();
  }
}

test('a zoo killed at a random moment resumes with every model exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-zoo-'));
  try {
    const gridFile = join(dir, 'grid.json');
    writeFileSync(gridFile, JSON.stringify({
      name: 'killtest',
      epochs: 60,
      targetTrainAccuracy: 1.01,
      axes: { width: [32], trainSize: [300, 600], labelNoise: [0, 0.2], seed: [0, 1] },
    }));
    const grid = readGrid(gridFile);
    const expected = gridCells(grid).map((c) => cellId(grid, c)).sort();
    assert.equal(expected.length, 8);
    const env = { ...process.env, DLTHEORY_RUNS: join(dir, 'runs'), DLTHEORY_THREADS: '1' };

    // Kill at a random moment once training has started (the models take ~0.3 s each here).
    const child = spawn(process.execPath, [bin, 'zoo', '--grid', gridFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      if (!timer && /8 models, 0 already done/.test(chunk.toString())) timer = setTimeout(() => child.kill('SIGKILL'), Math.random() * 2000);
    });
    await new Promise((done) => child.on('exit', done));
    clearTimeout(timer);
    const before = runs(join(dir, 'runs'));
    for (const r of before) assert.ok(r.epochs > 0, `run ${r.id} was committed with its epochs`);

    const again = spawnSync(process.execPath, [bin, 'zoo', '--grid', gridFile, '--json'], { env, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`8 models, ${before.length} already done`));
    const after = runs(join(dir, 'runs'));
    assert.deepEqual(after.map((r) => r.id), expected, 'every model once');
    for (const r of before) assert.equal(after.find((a) => a.id === r.id)!.created, r.created, `${r.id} was not trained twice`);
    const listed = JSON.parse(again.stdout) as { id: string }[];
    assert.deepEqual(listed.map((r) => r.id).sort(), expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad grids exit 2 with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-zoo-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "name": "x", "axes": { "width": [] } }');
    const r = spawnSync(process.execPath, [bin, 'zoo', '--grid', bad], { encoding: 'utf8', env: { ...process.env, DLTHEORY_RUNS: join(dir, 'runs') } });
    assert.equal(r.status, 2);
    assert.match(r.stderr.trim(), /^dltheory: .*bad\.json: axis "width" must be a non-empty list$/);
    const missing = spawnSync(process.execPath, [bin, 'zoo', '--grid', 'nonesuch'], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /neither a built-in grid/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a measure group added later is taken from the saved weights of the stored models, which are not trained again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-zoo-'));
  try {
    const gridFile = join(dir, 'grid.json');
    writeFileSync(gridFile, JSON.stringify({ name: 'remeasure', epochs: 2, axes: { width: [16], trainSize: [200, 300] } }));
    const grid = readGrid(gridFile);
    using store = openStore(join(dir, 'runs'));
    // A measure whose value depends on the weights and the cell's training set: the mean logit over it.
    const meanLogit = (model: Module, train: Dataset): number => noGrad(() => scope(() => model.forward(train.x).mean().item()));
    const first = runZoo(grid, { store, measures: [{ marker: 'a', measure: (m, train) => ({ a: meanLogit(m, train) }) }] });
    const second = runZoo(grid, {
      store,
      measures: [
        { marker: 'a', measure: () => assert.fail('group a is stored already') },
        { marker: 'b', measure: (m, train) => ({ b: meanLogit(m, train) }) },
      ],
    });
    for (const [i, run] of second.entries()) {
      assert.equal(run.created, first[i].created, 'not trained again');
      // The model trained and measured in memory, and the one reloaded from its safetensors file, agree on the same points.
      assert.ok(Math.abs(run.final.b - first[i].final.a) <= 1e-6 * Math.max(1, Math.abs(run.final.a)), `${run.id}: ${run.final.b} vs ${run.final.a}`);
      assert.equal(run.final.a, first[i].final.a);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
