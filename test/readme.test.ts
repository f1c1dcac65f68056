// The README's "Your own model, in ten lines" runs as written: the code block is taken from the
// README, `from 'dltheory'` pointed at this build, and run in a folder holding a model file and
// NumPy-style inputs and labels, so the first example a newcomer copies cannot go stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { manualSeed } from '../src/engine/index.js';
import { writeNpy } from '../src/data/npy.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel } from '../src/nn/serialize.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

test("README: 'Your own model, in ten lines' runs and prints each measure", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Your own model'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the section has a ts code block');
  assert.ok(block.split('\n').filter((l) => l.trim() !== '').length <= 10, 'ten lines at most');
  const index = pathToFileURL(join(root, 'dist', 'src', 'index.js')).href;
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-readme-'));
  try {
    manualSeed(0);
    const model = buildModel('mlp:20-16-16-3');
    saveModel(model, join(dir, 'model.safetensors'));
    model.dispose();
    const n = 30;
    writeNpy(join(dir, 'X.npy'), { dtype: 'float32', shape: [n, 20], data: Float32Array.from({ length: n * 20 }, (_, i) => Math.sin(i * 0.37) + (i % 3)) });
    writeNpy(join(dir, 'y.npy'), { dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)) });
    // The example is TypeScript without type annotations, so it also runs as a module as it stands.
    writeFileSync(join(dir, 'example.mjs'), block.replace(`from 'dltheory'`, `from '${index}'`));
    const r = spawnSync(process.execPath, ['example.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, DLTHEORY_THREADS: '1' } });
    assert.equal(r.status, 0, r.stderr);
    for (const probe of ['input', 'layers.0', 'layers.1']) assert.match(r.stdout, new RegExp(`^${probe.replace('.', '\\.')} `, 'm'), probe);
    assert.match(r.stdout, /lambdaMin/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
