/**
 * Label volumes (src/data/volumes.ts):
 * - fitToCube on a box (exact) and a ball in anisotropic voxels;
 * - label masks read from a label volume, also when scl_slope = scl_inter = NaN (no scaling, as in
 *   nibabel: the reported bug);
 * - one structure of a FreeSurfer-style aseg volume (int16 and int32, FreeSurferColorLUT numbers,
 *   stored scaled by scl_slope): the chosen label alone becomes the mask, built here voxel by voxel;
 *   labels are compared after scaling, as nibabel's get_fdata gives them; a missing label is a
 *   one-line error; no native tensor leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, scope, tensor } from '../src/engine/index.js';
import { encodeNifti, niftiHeader, readNifti, volumeTensor, writeNifti } from '../src/data/nifti.js';
import { fitToCube, readMask } from '../src/data/volumes.js';
import { rejects } from './input-checks.js';

test('fitToCube: a box lands exactly where the geometry says; a ball in anisotropic voxels stays a ball', () => {
  const before = liveTensors();
  scope(() => {
    // Box at 5..14 in a 20³ volume, size 14, margin 2: one output voxel per input voxel, output 2..11.
    const box = new Float32Array(20 ** 3);
    for (let z = 5; z < 15; z++) for (let y = 5; y < 15; y++) for (let x = 5; x < 15; x++) box[x + 20 * (y + 20 * z)] = 1;
    const expected = new Float32Array(14 ** 3);
    for (let z = 2; z < 12; z++) for (let y = 2; y < 12; y++) for (let x = 2; x < 12; x++) expected[x + 14 * (y + 14 * z)] = 1;
    for (const mode of ['trilinear', 'nearest'] as const) {
      const cube = fitToCube(tensor(box, [20, 20, 20]), { size: 14, margin: 2, mode });
      assert.deepEqual(cube.toArray(), expected, mode);
    }
    // A ball of radius 8 mm centred on a voxel, in voxels of 1 × 2 × 0.5 mm (x, y, z). Its bounding
    // box is one voxel wider than the ball, so the longest extent is y's 2r + 2 mm.
    const [X, Y, Z] = [30, 16, 60];
    const r = 8;
    const ball = new Float32Array(X * Y * Z);
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++) {
          ball[x + X * (y + Y * z)] = (x - 12) ** 2 + (2 * (y - 7)) ** 2 + ((z - 30) / 2) ** 2 <= r * r ? 1 : 0;
        }
    const size = 32;
    const margin = 4;
    const cube = fitToCube(tensor(ball, [Z, Y, X]), { size, margin, voxelSize: [1, 2, 0.5] });
    const diameter = ((2 * r) / (2 * r + 2)) * (size - 2 * margin);
    const fraction = cube.mean().item();
    const ideal = (Math.PI / 6) * (diameter / size) ** 3;
    assert.ok(Math.abs(fraction / ideal - 1) < 0.1, `ball fills ${fraction}, expected about ${ideal}`);
    const extent = [[1, 2], [0, 2], [0, 1]].map((d) => cube.amax(d).sum().item());
    assert.ok(extent.every((e) => Math.abs(e - diameter) <= 1.5), `extents along z, y, x ${extent} ≈ ${diameter}`);
    assert.equal(cube.sum().item(), cube.flip([0, 1, 2]).mul(cube).sum().item(), 'centred: symmetric under reflection');
    rejects(() => fitToCube(tensor(new Float32Array(27), [3, 3, 3]), { size: 8 }), /mask is empty/);
    rejects(() => fitToCube(tensor(box, [20, 20, 20]), { size: 8, margin: 4 }), /margin must be/);
  });
  assert.equal(liveTensors(), before);
});

test('readMask picks one label of a label volume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-volumes-'));
  const before = liveTensors();
  try {
    const n = 24;
    const labels = new Int16Array(n ** 3);
    for (let z = 0; z < n; z++)
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          labels[x + n * (y + n * z)] = x < 8 && y < 8 && z < 8 ? 17 : (x - 16) ** 2 + (y - 16) ** 2 + (z - 16) ** 2 <= 16 ? 53 : 0;
        }
    const path = join(dir, 'labels.nii.gz');
    writeNifti(path, { header: niftiHeader([n, n, n]), data: labels });
    scope(() => {
      const box = readMask(path, { label: 17, size: 12, margin: 2 });
      assert.equal(box.sum().item(), 8 ** 3, 'the 8³ box of label 17, one output voxel per input voxel');
      const ball = readMask(path, { label: 53, size: 12, margin: 2 });
      assert.ok(ball.sum().item() < 0.7 * 8 ** 3, 'label 53 is a ball, not the box');
      assert.equal(readMask(path, { size: 12 }).shape.join(), '12,12,12');
    });
    rejects(() => readMask(path, { label: 3, size: 12 }), /labels\.nii\.gz: label 3 not present/);
    writeFileSync(join(dir, 'bad.nii'), 'not a volume');
    rejects(() => readMask(join(dir, 'bad.nii'), { size: 12 }), /bad\.nii: not a NIfTI-1 file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveTensors(), before);
});

test('a uint8 mask with scl_slope = scl_inter = NaN reads as its 0/1 labels: readMask as for the unaltered file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-volumes-'));
  const before = liveTensors();
  try {
    // The reported file: a 16³ ellipsoid mask whose bytes 112–119 (scl_slope, scl_inter) became two
    // little-endian float32 NaNs. Multiplying by NaN made every voxel NaN, so "any label" was the whole cube.
    const n = 16;
    const mask = new Uint8Array(n ** 3);
    for (let z = 0; z < n; z++)
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          mask[x + n * (y + n * z)] = ((x - 7.5) / 6) ** 2 + ((y - 8) / 4) ** 2 + ((z - 6.5) / 3.5) ** 2 <= 1 ? 1 : 0;
        }
    const plain = encodeNifti({ header: niftiHeader([n, n, n]), data: mask });
    const nan = Buffer.from(plain);
    nan.writeFloatLE(NaN, 112);
    nan.writeFloatLE(NaN, 116);
    writeFileSync(join(dir, 'plain.nii'), plain);
    writeFileSync(join(dir, 'nan.nii'), nan);
    scope(() => {
      const labels = volumeTensor(readNifti(join(dir, 'nan.nii')));
      assert.equal(labels.dtype, 'float32');
      assert.deepEqual(labels.toArray(), Float32Array.from(mask));
      for (const label of [undefined, 1]) {
        const expected = readMask(join(dir, 'plain.nii'), { label, size: 12 });
        const sum = expected.sum().item();
        assert.ok(sum > 0 && sum < 12 ** 3 / 2, `an ellipsoid, not the whole cube: ${sum}`);
        assert.deepEqual(readMask(join(dir, 'nan.nii'), { label, size: 12 }).toArray(), expected.toArray(), `label ${label}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveTensors(), before);
});

test('a FreeSurfer-style aseg: one structure by its FreeSurferColorLUT number, the other labels ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-aseg-'));
  const before = liveTensors();
  try {
    // 32 × 28 × 24 voxels of 1 × 1 × 1.2 mm: left/right cerebral white matter (2, 41) as background of
    // each half, hippocampi (17, 53) as mirrored ellipsoids, caudates (11, 50) as balls, ventricle 4.
    const [X, Y, Z] = [32, 28, 24];
    const inside = (x: number, y: number, z: number, c: number[], r: number[]) =>
      ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1;
    const label = (x: number, y: number, z: number): number => {
      const left = x < X / 2;
      const mx = left ? x : X - 1 - x; // mirror the right hemisphere onto the left
      if (inside(mx, y, z, [8, 9, 8], [5.5, 3, 2.5])) return left ? 17 : 53;
      if (inside(mx, y, z, [9, 19, 14], [3, 3, 2.5])) return left ? 11 : 50;
      if (left && inside(x, y, z, [12, 14, 18], [2, 5, 2])) return 4;
      return left ? 2 : 41;
    };
    const labels = Array.from({ length: X * Y * Z }, (_, i) => label(i % X, Math.floor(i / X) % Y, Math.floor(i / (X * Y))));
    const voxelSize = [1, 1, 1.2];
    const o = { size: 16, margin: 2, voxelSize };
    for (const [name, data, slope] of [['int16.nii.gz', Int16Array.from(labels), 0], ['int32.nii', Int32Array.from(labels, (l) => 2 * l), 0.5]] as const) {
      const path = join(dir, name);
      writeNifti(path, { header: { ...niftiHeader([X, Y, Z], voxelSize), scl_slope: slope, scl_inter: 0 }, data });
      scope(() => {
        for (const structure of [17, 53, 11, 4]) {
          const expected = fitToCube(tensor(labels.map((l) => (l === structure ? 1 : 0)), [Z, Y, X], 'float32'), o);
          assert.deepEqual(readMask(path, { ...o, label: structure }).toArray(), expected.toArray(), `${name}: label ${structure}`);
        }
        // Mirror images of one ellipsoid: the same cube, and not the caudate's.
        const [left, right, caudate] = [17, 53, 11].map((l) => readMask(path, { ...o, label: l }));
        assert.deepEqual(right.toArray(), left.flip([2]).toArray(), `${name}: the right hippocampus mirrors the left`);
        assert.ok(left.sub(caudate).abs().sum().item() > 100, `${name}: hippocampus and caudate differ`);
      });
      rejects(() => readMask(path, { ...o, label: 18 }), new RegExp(`${name.replace('.', '\\.')}: label 18 not present`));
    }
    // Labels are compared after scl_slope: the stored value 34 of the int32 file is label 17, and there is no label 34.
    rejects(() => readMask(join(dir, 'int32.nii'), { ...o, label: 34 }), /label 34 not present/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveTensors(), before);
});
