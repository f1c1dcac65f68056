/**
 * Shape retrieval baselines (src/measures/shape-baselines.ts):
 * - a voxelised ball's volume and surface area against 4/3·πr³ and 4πr²;
 * - a box on anisotropic voxels against its exact volume and (2/3 of) its face area;
 * - PCA against numpy's SVD (Debian python3-numpy at /usr/bin/python3);
 * - top-1 retrieval on points whose nearest neighbours are known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, scope, tensor } from '../src/engine/index.js';
import { Rng } from '../src/data/rng.js';
import { writeNpy } from '../src/data/npy.js';
import { toRaw } from '../src/nn/serialize.js';
import { fitPca, nearestOther, pcaFeatures, standardizeColumns, topOneAccuracy, volumeAndSurface } from '../src/measures/shape-baselines.js';
import { PYTHON, pythonUnavailable } from './python.js';

const unavailable = pythonUnavailable('numpy');

/** A 0/1 volume [1, n, n, n] of the voxels whose centres satisfy inside(x, y, z). */
function voxelise(n: number, inside: (x: number, y: number, z: number) => boolean): Float32Array {
  const out = new Float32Array(n ** 3);
  for (let z = 0, i = 0; z < n; z++) for (let y = 0; y < n; y++) for (let x = 0; x < n; x++, i++) out[i] = inside(x, y, z) ? 1 : 0;
  return out;
}

test("a voxelised ball's volume and surface area are close to 4/3·πr³ and 4πr²", () => {
  const before = liveTensors();
  for (const r of [8, 13.5]) {
    const c = 15.5;
    const ball = voxelise(32, (x, y, z) => (x - c) ** 2 + (y - c) ** 2 + (z - c) ** 2 <= r * r);
    const { volume, surface } = scope(() => volumeAndSurface(tensor(ball, [1, 32, 32, 32])));
    const [v, a] = [(4 / 3) * Math.PI * r ** 3, 4 * Math.PI * r * r];
    assert.ok(Math.abs(volume[0] / v - 1) < 0.02, `r ${r}: volume ${volume[0]} vs ${v}`);
    assert.ok(Math.abs(surface[0] / a - 1) < 0.05, `r ${r}: surface ${surface[0]} vs ${a}`);
  }
  assert.equal(liveTensors(), before);
});

test('a box on anisotropic voxels: exact volume and 2/3 of its face area; a box at the border counts the border faces', () => {
  const box = voxelise(10, (x, y, z) => x >= 2 && x < 7 && y >= 1 && y < 4 && z >= 3 && z < 5);
  const border = voxelise(10, (x, y, z) => x < 3 && y < 2 && z < 4);
  const [vx, vy, vz] = [0.5, 1.5, 2];
  const { volume, surface } = scope(() => volumeAndSurface(tensor([...box, ...border], [2, 1, 10, 10, 10]), [vx, vy, vz]));
  const faces = (a: number, b: number, c: number) => 2 * (b * vy * c * vz + a * vx * c * vz + a * vx * b * vy);
  assert.deepEqual(volume, [5 * vx * 3 * vy * 2 * vz, 3 * vx * 2 * vy * 4 * vz]);
  [faces(5, 3, 2), faces(3, 2, 4)].forEach((f, i) => assert.ok(Math.abs(surface[i] - (2 / 3) * f) < 1e-9, `${surface[i]} vs ${(2 / 3) * f}`));
  assert.throws(() => volumeAndSurface(tensor(box, [10, 10, 10])), /masks must be/);
});

test('PCA matches numpy SVD: singular values and the projections up to sign', (t) => {
  if (unavailable) return t.skip(unavailable);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-pca-'));
  const rng = new Rng(4);
  try {
    const [n, d, k] = [20, 30, 5];
    const x = tensor(Float64Array.from({ length: n * d }, (_, i) => rng.normal() * (1 + (i % d) / 5)), [n, d], 'float64');
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    const script = `import json, sys, numpy as np
x = np.load(sys.argv[1]); c = x - x.mean(0); u, s, vt = np.linalg.svd(c, full_matrices=False)
print(json.dumps({"s": s[:${k}].tolist(), "f": (c @ vt[:${k}].T).tolist()}))`;
    const r = spawnSync(PYTHON, ['-c', script, join(dir, 'x.npy')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as { s: number[]; f: number[][] };
    scope(() => {
      const pca = fitPca(x, k);
      pca.singularValues.toNumbers().forEach((s, j) => assert.ok(Math.abs(s - ref.s[j]) < 1e-9 * ref.s[0], `σ${j} ${s} vs ${ref.s[j]}`));
      const f = pcaFeatures(pca, x).toNumbers();
      for (let j = 0; j < k; j++) {
        const sign = Math.sign(f[j]) * Math.sign(ref.f[0][j]);
        for (let i = 0; i < n; i++) assert.ok(Math.abs(sign * f[i * k + j] - ref.f[i][j]) < 1e-9, `row ${i}, component ${j}`);
      }
    });
    x.dispose();
    assert.throws(() => fitPca(x, 0), /components/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('top-1 retrieval: nearest other rows and the fraction that share a subject', () => {
  scope(() => {
    const f = tensor([0, 0, 0.1, 0, 5, 5, 5.3, 5, 7.5, 2, 12, 0], [6, 2], 'float64');
    assert.deepEqual(nearestOther(f), [1, 0, 3, 2, 3, 4]);
    assert.equal(topOneAccuracy(f, [0, 0, 1, 1, 2, 2]), 5 / 6);
    assert.equal(topOneAccuracy(f, [0, 1, 2, 3, 4, 5]), 0);
    const z = standardizeColumns(tensor([1, 7, 3, 7, 5, 7], [3, 2], 'float64')).toNumbers();
    [-Math.sqrt(1.5), 0, 0, 0, Math.sqrt(1.5), 0].forEach((v, i) => assert.ok(Math.abs(z[i] - v) < 1e-12, `${z}`));
  });
});
