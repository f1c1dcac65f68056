// `reproduce --jobs`: claims run in child processes give the same results and the same report as in
// one process (both on one intra-op thread), and the groups that share an experiment share a child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schedulingUnits } from '../src/cli/reproduce-jobs.js';
import { CLAIMS } from '../src/claims/registry.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-jobs-'));
const { cli, rejects } = cliRunner();
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('scheduling units: one per group, margins and train-size together, in registry order', () => {
  const units = schedulingUnits(CLAIMS);
  const groups = units.map((u) => [...new Set(u.map((c) => c.group))].join('+'));
  assert.deepEqual(groups, ['random-labels', 'margins+train-size', 'gdv', 'converge', 'shapes']);
  assert.equal(units.flat().length, CLAIMS.length);
});

interface SavedRow {
  id: string;
  verdict: string;
  reason: string;
}

const results = (out: string): SavedRow[] => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SavedRow[];

test('two claim groups on two processes: same verdicts and numbers as one process, one report', () => {
  const claims = ['gdv-closed-forms', 'du-two-layer-width'];
  const one = join(dir, 'one');
  const two = join(dir, 'two');
  const a = cli('reproduce', ...claims, '--quick', '--jobs', '1', '--out', one, '--runs', join(one, 'runs'));
  assert.equal(a.code, 0, a.stderr);
  assert.doesNotMatch(a.stderr, /processes/);
  const b = cli('reproduce', ...claims, '--quick', '--jobs', '2', '--out', two, '--runs', join(two, 'runs'));
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /2 groups of claims on 2 processes, 1 thread each/);
  assert.match(b.stderr, /^\[[12]\] du-two-layer-width: running \(quick\)$/m);
  const strip = (rows: SavedRow[]) => rows.map(({ id, verdict, reason }) => ({ id, verdict, reason }));
  assert.deepEqual(strip(results(two)), strip(results(one)));
  assert.deepEqual(results(two).map((r) => r.id), claims);
  for (const f of ['report.md', 'report.html', 'claims/gdv-closed-forms.json', 'claims/du-two-layer-width.json']) assert.ok(existsSync(join(two, f)), f);
  // Run again: every result is reused, no child is started.
  const c = cli('reproduce', ...claims, '--quick', '--jobs', '2', '--out', two, '--runs', join(two, 'runs'));
  assert.equal(c.code, 0, c.stderr);
  assert.doesNotMatch(c.stderr, /processes/);
  assert.match(c.stderr, /du-two-layer-width: reusing the result/);
});

test('bad --jobs exits 2', () => {
  rejects(['reproduce', 'gdv-closed-forms', '--jobs', '0'], /--jobs/);
  rejects(['reproduce', 'gdv-closed-forms', '--jobs', 'two'], /--jobs/);
});
