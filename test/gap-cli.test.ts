// `dltheory gap` on a small zoo: evaluate and fit print the regression; predict applies a fit;
// bad input exits 2 with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-gap-'));
const env = { ...process.env, DLTHEORY_RUNS: join(dir, 'runs'), DLTHEORY_THREADS: '1' };
const { cli, rejects } = cliRunner([], env);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('gap evaluate, fit and predict on a small zoo', () => {
  const grid = join(dir, 'grid.json');
  writeFileSync(grid, JSON.stringify({ name: 'gaptest', epochs: 15, axes: { width: [32, 64], trainSize: [300, 600, 1200], weightDecay: [0, 1e-3] } }));
  const zoo = cli('zoo', '--grid', grid);
  assert.equal(zoo.code, 0, zoo.stderr);

  const ev = cli('gap', 'evaluate', '--grid', grid, '--folds', '4', '--json');
  assert.equal(ev.code, 0, ev.stderr);
  const table = JSON.parse(ev.stdout) as { models: number; rows: { measure: string; cvR2: number; kendallTau: number }[] };
  assert.equal(table.models + 0, 12 - (JSON.parse(ev.stdout).excluded as string[]).length);
  const names = table.rows.map((r) => r.measure);
  for (const n of ['signature', 'signature, output layer only', 'baseline: spectral', 'baseline: sharpness']) assert.ok(names.includes(n), n);
  for (const r of table.rows) assert.ok(r.kendallTau >= -1 && r.kendallTau <= 1);

  const fitFile = join(dir, 'fit.json');
  const fit = cli('gap', 'fit', '--grid', grid, '--features', 'signature, output layer only', '--out', fitFile, '--json');
  assert.equal(fit.code, 0, fit.stderr);
  const saved = JSON.parse(readFileSync(fitFile, 'utf8')) as { coefficients: number[]; names: string[]; cvRmse: number };
  assert.equal(saved.coefficients.length, 6);
  assert.deepEqual(saved.names, ['output.q1', 'output.median', 'output.q3', 'output.lowerFence', 'output.upperFence']);

  const model = join(dir, 'm.safetensors');
  assert.equal(cli('train', '--model', 'mlp:784-32-10', '--data', 'mnist', '--train-size', '600', '--epochs', '8', '--save', model).code, 0);
  const pred = cli('gap', 'predict', '--fit', fitFile, '--model', model, '--data', 'mnist', '--train-size', '600', '--json');
  assert.equal(pred.code, 0, pred.stderr);
  const p = JSON.parse(pred.stdout) as { predictedGap: number; cvRmse: number };
  assert.ok(Number.isFinite(p.predictedGap));
  assert.equal(p.cvRmse, saved.cvRmse);
});

test('gap rejects bad input with exit code 2 and one line', () => {
  rejects(['gap'], /expected fit, predict or evaluate/);
  rejects(['gap', 'evaluate', '--grid', 'full'], /no zoo 'full'.*dltheory zoo --grid full/);
  rejects(['gap', 'fit', '--features', 'nonsense'], /--features must be one of/);
  const bad = join(dir, 'bad-fit.json');
  writeFileSync(bad, '{"hello": 1}');
  rejects(['gap', 'predict', '--fit', bad, '--model', 'x', '--data', 'mnist'], /bad-fit\.json: not a gap fit/);
});
