// `dltheory gap` on a small zoo: evaluate ranks every feature set (table, CSV, JSON, SVG chart), fit
// prints the regression, predict applies a fit; bad input exits 2 with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliRunner } from './cli-run.js';
import { FEATURE_SETS } from '../src/measures/population.js';

interface Ranked {
  measure: string;
  features: number;
  cvR2: number | null;
  kendallTau: number | null;
  psi: number | null;
  cmi: number | null;
  adjustedR2: number | null;
  psiByAxis: { axis: string; psi: number | null }[];
}
interface Ranking {
  models: number;
  excluded: string[];
  sort: string;
  axes: { axis: string; groups: number; models: number; pairs: number }[];
  rows: Ranked[];
}

const dir = mkdtempSync(join(tmpdir(), 'dltheory-gap-'));
const env = { ...process.env, DLTHEORY_RUNS: join(dir, 'runs'), DLTHEORY_THREADS: '1' };
const { cli, rejects } = cliRunner([], env);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('gap evaluate, fit and predict on a small zoo', (t) => {
  const grid = join(dir, 'grid.json');
  writeFileSync(grid, JSON.stringify({ name: 'gaptest', epochs: 15, axes: { width: [32, 64], trainSize: [300, 600, 1200], weightDecay: [0, 1e-3] } }));
  const zoo = cli('zoo', '--grid', grid);
  assert.equal(zoo.code, 0, zoo.stderr);

  const [csv, json, svg] = ['rank.csv', 'rank.json', 'rank.svg'].map((f) => join(dir, f));
  const ev = cli('gap', 'evaluate', '--grid', grid, '--folds', '4', '--sort', 'psi', '--csv', csv, '--out', json, '--chart', svg, '--json');
  assert.equal(ev.code, 0, ev.stderr);
  const table = JSON.parse(ev.stdout) as Ranking;
  assert.deepEqual(JSON.parse(readFileSync(json, 'utf8')), table, '--out writes what --json prints');
  assert.equal(table.models, 12 - table.excluded.length);
  // Every feature set, whatever FEATURE_SETS holds, sorted by Ψ (an undefined one last).
  assert.deepEqual(table.rows.map((r) => r.measure).sort(), Object.keys(FEATURE_SETS).sort());
  const psi = table.rows.map((r) => r.psi ?? -Infinity);
  assert.deepEqual(psi, [...psi].sort((a, b) => b - a));
  // The grid is a full product of three axes (one seed): each ψ_i rests on the groups of models that differ in it alone.
  const axes = Object.fromEntries(table.axes.map((a) => [a.axis, [a.groups, a.models, a.pairs]]));
  assert.deepEqual(Object.keys(axes).sort(), ['trainSize', 'weightDecay', 'width']);
  if (table.excluded.length === 0) assert.deepEqual(axes, { width: [6, 12, 6], trainSize: [4, 12, 12], weightDecay: [6, 12, 6] });
  else t.diagnostic(`${table.excluded.length} models left out: group counts not checked`);
  for (const r of table.rows) {
    assert.ok(r.kendallTau! >= -1 && r.kendallTau! <= 1 && r.psi! >= -1 && r.psi! <= 1, JSON.stringify(r));
    const defined = r.psiByAxis.filter((a) => a.psi !== null).map((a) => a.psi!);
    assert.ok(Math.abs(r.psi! - defined.reduce((x, y) => x + y, 0) / defined.length) < 1e-15, `${r.measure}: Ψ is the mean of its ψ_i`);
  }
  // The CSV holds the same rows at full precision; an undefined score is an empty cell.
  const lines = readFileSync(csv, 'utf8').trimEnd().split('\r\n');
  assert.equal(lines[0], 'measure,features,cv_r2,kendall_tau,psi,cmi,adjusted_r2');
  const field = (x: string | number | null): string => (x === null ? '' : typeof x === 'string' && x.includes(',') ? `"${x}"` : String(x));
  assert.deepEqual(lines.slice(1), table.rows.map((r) => [r.measure, r.features, r.cvR2, r.kendallTau, r.psi, r.cmi, r.adjustedR2].map(field).join(',')));
  const chart = readFileSync(svg, 'utf8');
  assert.match(chart, /^<svg/);
  for (const r of table.rows) assert.ok(chart.includes(`>${r.measure}<`), `the chart labels ${r.measure}`);
  const text = cli('gap', 'evaluate', '--grid', grid, '--folds', '4', '--sort', 'tau');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /sorted by Kendall τ\nmeasure +features +CV R² +Kendall τ +Ψ +CMI +adjusted R²\n/);
  assert.match(text.stdout, /Ψ rests on \w+: \d+ groups, \d+ models, \d+ pairs; \w+: /);

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
  rejects(['gap', 'evaluate', '--grid', 'paper'], /no zoo 'paper'.*dltheory zoo --grid paper/);
  rejects(['gap', 'fit', '--features', 'nonsense'], /--features must be one of/);
  rejects(['gap', 'evaluate', '--sort', 'r2'], /--sort must be one of cvR2, tau, psi, cmi, got 'r2'/);
  rejects(['gap', 'evaluate', '--chart', 'chart.png'], /--chart is written as \.svg/);
  rejects(['gap', 'fit', '--sort', 'psi'], /gap fit: --sort is an option of gap evaluate/);
  const bad = join(dir, 'bad-fit.json');
  writeFileSync(bad, '{"hello": 1}');
  rejects(['gap', 'predict', '--fit', bad, '--model', 'x', '--data', 'mnist'], /bad-fit\.json: not a gap fit/);
});
