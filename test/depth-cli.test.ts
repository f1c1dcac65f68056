// `dltheory depth` end to end on tiny MNIST runs: the DBN and MLP JSON, the table with its
// recommendation, the chart, determinism, and bad arguments exiting with code 2 and one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-depth-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const { cli, rejects } = cliRunner(['depth']);
const tiny = ['--train-size', '400', '--gdv-points', '200'];
const dbn = ['--dbn', '--layers', '3', '--width', '16', '--epochs', '1', ...tiny];
const mlp = ['--mlp', '--depths', '1,3', '--width', '16', '--epochs', '1', '--runs', join(dir, 'runs'), ...tiny];

interface Layer {
  layer: number;
  name: string;
  relativeDepth: number;
  gdv: number;
  intra: number;
  inter: number;
  n: number;
  dims: number;
}

test('--dbn --json: the input and every layer, the lowest named as best; the same seed gives the same curve', () => {
  const r = cli(...dbn, '--json', '--chart', join(dir, 'dbn.svg'));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { model: string; layers: (Layer & { reconstructionError: number | null; saturation: { saturated: number } | null })[];
    best: { layer: number; gdv: number } };
  assert.equal(out.model, 'dbn');
  assert.deepEqual(out.layers.map((l) => [l.layer, l.name, l.dims, l.n]), [[0, 'input', 784, 200], [1, 'rbm 1', 16, 200], [2, 'rbm 2', 16, 200], [3, 'rbm 3',
    16, 200]]);
  assert.equal(out.layers[0].reconstructionError, null);
  assert.equal(out.layers[0].saturation, null);
  assert.ok(out.layers.slice(1).every((l) => l.saturation!.saturated >= 0 && l.saturation!.saturated <= 1));
  assert.ok(out.layers.slice(1).every((l) => l.reconstructionError! > 0));
  for (const l of out.layers) assert.ok(Math.abs(l.gdv - (l.intra - l.inter)) < 1e-12);
  assert.equal(out.best.gdv, Math.min(...out.layers.map((l) => l.gdv)));
  assert.equal(out.layers[out.best.layer].gdv, out.best.gdv);
  assert.match(readFileSync(join(dir, 'dbn.svg'), 'utf8'), /^<svg/);
  assert.deepEqual(JSON.parse(cli(...dbn, '--json').stdout), out);
  assert.notDeepEqual(JSON.parse(cli(...dbn, '--json', '--seed', '1').stdout).layers[1], out.layers[1]);

  const text = cli(...dbn);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /rbm 3/);
  assert.match(text.stdout, new RegExp(`lowest GDV ${out.best.gdv.toFixed(4)} at layer ${out.best.layer}: recommended depth ${out.best.layer}`));
});

test('--mlp --json: one curve per depth from input (relative depth 0) to logits (1), the best over all', () => {
  const r = cli(...mlp, '--json', '--chart', join(dir, 'mlp.svg'));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { model: string; curves: { depth: number; spec: string; runId: string; testAccuracy: number; layers: Layer[] }[];
    best: { depth: number; name: string; gdv: number } };
  assert.equal(out.model, 'mlp');
  assert.deepEqual(out.curves.map((c) => c.spec), ['mlp:784-16-10:init=he', 'mlp:784-16-16-16-10:init=he']);
  const deep = out.curves[1].layers;
  assert.deepEqual(deep.map((l) => l.name), ['input', 'layers.0', 'layers.1', 'layers.2', 'logits']);
  assert.deepEqual(deep.map((l) => l.relativeDepth), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(deep.map((l) => l.dims), [784, 16, 16, 16, 10]);
  assert.ok(out.curves.every((c) => c.testAccuracy >= 0 && c.testAccuracy <= 1 && /^\S+$/.test(c.runId)));
  const all = out.curves.flatMap((c) => c.layers.map((l) => l.gdv));
  assert.equal(out.best.gdv, Math.min(...all));
  assert.match(readFileSync(join(dir, 'mlp.svg'), 'utf8'), /^<svg/);
  const text = cli(...mlp);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /recommended depth [13] hidden layers/);
});

test('bad arguments exit with 2 and one line', () => {
  rejects(['--layers', '3'], /give --dbn or --mlp/);
  rejects(['--dbn', '--mlp'], /give --dbn or --mlp/);
  rejects(['--mlp', '--depths', '2,0'], /--depths must be integers ≥ 1 and ≤ 200/);
  rejects(['--mlp', '--k', '2'], /--k applies to --dbn only/);
  rejects(['--dbn', '--depths', '2'], /--depths applies to --mlp only/);
  rejects(['--dbn', '--visible', 'ternary'], /--visible must be one of binary, gaussian/);
  rejects(['--dbn', '--propagate', 'means'], /--propagate must be one of probabilities, samples/);
  rejects(['--dbn', '--statistics', 'mean-field'], /--statistics must be one of probabilities, samples/);
  rejects(['--mlp', '--pcd'], /--pcd applies to --dbn only/);
  rejects(['--dbn', '--layers', '0'], /--layers must be an integer ≥ 1/);
  rejects(['--dbn', '--gdv-points', '2'], /--gdv-points must be an integer ≥ 4/);
  rejects(['--dbn', 'extra'], /unexpected argument 'extra'/);
  rejects(['--dbn', '--lr=-1'], /--lr must be a number ≥ 0/);
  rejects(['--dbn', '--data', join(dir, 'missing')], /missing/);
});
