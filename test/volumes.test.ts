/**
 * Label volumes (src/data/volumes.ts):
 * - fitToCube on a box (exact) and a ball in anisotropic voxels;
 * - label masks read from a label volume, also when scl_slope = scl_inter = NaN (no scaling, as in
 *   nibabel: the reported bug); no native tensor leaks.
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
