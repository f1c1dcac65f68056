/**
 * Synthetic brain-structure shapes (src/data/shapes.ts):
 * - the same seed gives the same set; a subject does not change with the number of scans;
 * - every family non-empty and clear of the cube's faces under any rotation, shift and scaling;
 * - volume preserved by rigid poses and multiplied by det A under affine ones;
 * - unpose of a quarter turn is exact; after unposing, two scans of one subject overlap more than
 *   scans of different subjects of the same family;
 * - the NIfTI files and manifests written read back; bad options are InputErrors; no tensor leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, scope } from '../src/engine/index.js';
import { InputError } from '../src/errors.js';
import { readNifti } from '../src/data/nifti.js';
import { generateShapes, makePose, renderShape, SHAPE_FAMILIES, shapeBatch, unpose, writeShapeSet } from '../src/data/shapes.js';

const count = (mask: Uint8Array) => mask.reduce((a, v) => a + v, 0);

test('deterministic in the seed; a subject is the same whatever the number of scans', () => {
  const a = generateShapes({ seed: 3, subjects: 2, size: 16 });
  const b = generateShapes({ seed: 3, subjects: 2, size: 16 });
  assert.deepEqual(a, b);
  const c = generateShapes({ seed: 4, subjects: 2, size: 16 });
  assert.notDeepEqual(a.map((s) => s.params), c.map((s) => s.params));
  const three = generateShapes({ seed: 3, subjects: 2, scans: 3, size: 16 });
  assert.equal(three.length, 4 * 2 * 3);
  assert.deepEqual(three.filter((s) => s.scan < 2), a, 'the first two scans of three are the two scans');
  assert.deepEqual([...new Set(a.map((s) => s.family))], SHAPE_FAMILIES);
  assert.deepEqual(a.map((s) => s.subject), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
});

test('every family is non-empty and clear of the faces under any rotation, shift and scaling', () => {
  const size = 32;
  const scans = generateShapes({ seed: 11, subjects: 6, size, maxRotation: 180, maxShift: 0.05, scaleJitter: 0.1, noise: 0.03 });
  for (const s of scans) {
    assert.ok(count(s.mask) > 150, `${s.family} subject ${s.subject} scan ${s.scan}: ${count(s.mask)} voxels`);
    let edge = size;
    for (let z = 0, i = 0; z < size; z++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++, i++) {
          if (s.mask[i]) edge = Math.min(edge, x, y, z, size - 1 - x, size - 1 - y, size - 1 - z);
        }
    assert.ok(edge >= 2, `${s.family} subject ${s.subject} comes within ${edge} voxels of a face`);
  }
});

test('rigid poses keep the volume; affine poses multiply it by det A', () => {
  const size = 40;
  for (const s of generateShapes({ seed: 5, subjects: 1, scans: 1, size, maxRotation: 0, maxShift: 0, noise: 0 })) {
    const base = count(s.mask);
    assert.deepEqual(Array.from(renderShape(s.family, s.params, makePose([1, 0, 0], 0), size)), Array.from(s.mask), 'no pose, no noise');
    for (const [axis, angle, scale] of [[[0, 0.6, 0.8], 0.7, [1, 1, 1]], [[0.48, -0.6, 0.64], 2.5, [1, 1, 1]], [[1, 0, 0], 1, [1.1, 0.95, 0.9]]] as const) {
      const posed = count(renderShape(s.family, s.params, makePose([...axis], angle, [0.03, -0.02, 0.01], [...scale]), size));
      const expected = base * scale[0] * scale[1] * scale[2];
      assert.ok(Math.abs(posed / expected - 1) < 0.03, `${s.family}: ${posed} voxels posed vs ${expected}`);
    }
  }
});

test('unpose: a quarter turn about z is undone exactly', () => {
  const before = liveTensors();
  const pose = makePose([0, 0, 1], Math.PI / 2);
  const r = pose.matrix.map((v) => Math.round(v * 1e12) / 1e12 + 0);
  assert.deepEqual(r, [0, -1, 0, 1, 0, 0, 0, 0, 1]);
  const [s] = generateShapes({ seed: 2, subjects: 1, scans: 1, size: 24, families: ['comma'], maxRotation: 0, maxShift: 0, noise: 0 });
  const turned = { ...s, pose, mask: renderShape(s.family, s.params, pose, 24) };
  assert.notDeepEqual(turned.mask, s.mask);
  scope(() => {
    const back = unpose(shapeBatch([turned]), [pose]);
    assert.deepEqual(back.shape, [1, 1, 24, 24, 24]);
    assert.deepEqual(back.toNumbers(), Array.from(s.mask));
  });
  assert.throws(() => scope(() => unpose(shapeBatch([s]), [])), /unpose needs \[N, 1, S, S, S\] masks and N poses/);
  assert.equal(liveTensors(), before);
});

test('after unposing, two scans of a subject overlap more than scans of different subjects', () => {
  const before = liveTensors();
  const scans = generateShapes({ seed: 8, subjects: 4, size: 32, maxRotation: 30 });
  const dice = scope(() => {
    const u = unpose(shapeBatch(scans), scans.map((s) => s.pose)).flatten(1);
    const volume = u.sum(1);
    return u.matmul(u.t()).mul(2).div(volume.unsqueeze(0).add(volume.unsqueeze(1))).toNumbers();
  });
  const n = scans.length;
  for (const family of SHAPE_FAMILIES) {
    const [same, other]: number[][] = [[], []];
    scans.forEach((a, i) =>
      scans.forEach((b, j) => {
        if (i < j && a.family === family && b.family === family) (a.subject === b.subject ? same : other).push(dice[i * n + j]);
      })
    );
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    assert.ok(mean(same) > 0.8, `${family}: scan–rescan Dice ${mean(same)}`);
    assert.ok(mean(same) > mean(other) + 0.05, `${family}: same subject ${mean(same)} vs different subjects ${mean(other)}`);
  }
  assert.equal(liveTensors(), before);
});

test('writeShapeSet writes NIfTI files and manifests that read back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-shapes-'));
  try {
    const scans = generateShapes({ seed: 1, subjects: 1, size: 16, families: ['tube', 'lens'] });
    const files = writeShapeSet(join(dir, 'set'), scans);
    assert.deepEqual(files, ['tube-sub000-scan0.nii.gz', 'tube-sub000-scan1.nii.gz', 'lens-sub001-scan0.nii.gz', 'lens-sub001-scan1.nii.gz']);
    const manifest = JSON.parse(readFileSync(join(dir, 'set', 'manifest.json'), 'utf8'));
    scans.forEach((s, i) => {
      const volume = readNifti(join(dir, 'set', files[i]));
      assert.deepEqual(volume.header.dim.slice(0, 4), [3, 16, 16, 16]);
      assert.deepEqual(volume.data, s.mask);
      assert.equal(manifest[i].voxels, count(s.mask));
      assert.equal(manifest[i].family, s.family);
      manifest[i].pose.matrix.forEach((v: number, k: number) => assert.ok(Math.abs(v - s.pose.matrix[k]) < 1e-6));
    });
    const csv = readFileSync(join(dir, 'set', 'manifest.csv'), 'utf8').trimEnd().split('\r\n');
    assert.equal(csv.length, 5);
    assert.match(csv[0], /^file,subject,family,scan,voxels,angle_deg,/);
    assert.match(csv[3], /^lens-sub001-scan0\.nii\.gz,1,lens,0,\d+,/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are InputErrors', () => {
  assert.throws(() => generateShapes({ seed: 1, subjects: 0 }), /subjects must be an integer >= 1/);
  assert.throws(() => generateShapes({ seed: 1, subjects: 1, families: ['cube' as 'lens'] }), /families must be among/);
  assert.throws(() => generateShapes({ seed: 1, subjects: 1, size: 4 }), InputError);
  assert.throws(() => generateShapes({ seed: 1.5, subjects: 1 }), /seed must be an integer/);
  assert.throws(() => generateShapes({ seed: 1, subjects: 1, maxRotation: 200 }), /maxRotation/);
});
