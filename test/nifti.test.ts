/**
 * The NIfTI-1 codec (src/data/nifti.ts):
 * - every datatype written and read back bit-for-bit with its header, plain and gzipped;
 * - a big-endian file built by hand; truncated, garbage, two-file, NIfTI-2 and unsupported files;
 * - the qform quaternion against rotations written out by hand, sform over qform;
 * - [z, y, x] tensor order and scl_slope/scl_inter; maskVolume reverses it; no native tensor leaks;
 * - nibabel reads our file and we read nibabel's, when Debian's python3-nibabel is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { liveTensors, scope } from '../src/engine/index.js';
import { InputError } from '../src/errors.js';
import {
  affine, decodeNifti, encodeNifti, niftiHeader, readNifti, volumeTensor, writeNifti, type NiftiData, type Volume,
} from '../src/data/nifti.js';
import { maskVolume } from '../src/data/volumes.js';

const PYTHON = '/usr/bin/python3';
const noNibabel: string | null = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import nibabel'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  return r.status === 0 ? null : `${PYTHON} cannot import nibabel (install Debian python3-nibabel): ${r.stderr.trim().split('\n').pop()}`;
})();

function rejects(fn: () => unknown, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.match(err.message, problem);
    assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
    return true;
  });
}

/** A 5 × 4 × 3 volume with anisotropic voxels, a rotated qform, a different sform and every field set. */
function sample(data: NiftiData): Volume {
  const header = niftiHeader([5, 4, 3], [0.8, 1.25, 2.5]);
  const f = Math.fround;
  Object.assign(header, {
    pixdim: [-1, 0.8, 1.25, 2.5, f(0.1), 1, 1, 1].map(f),
    quatern_b: f(0.1), quatern_c: f(-0.3), quatern_d: f(0.2), qoffset_x: f(-12.5), qoffset_y: f(30.25), qoffset_z: f(7),
    qform_code: 1, sform_code: 4, srow_x: [0.8, 0.01, 0, -2].map(f), srow_y: [0, 1.25, 0.02, 3.5].map(f), srow_z: [0.03, 0, 2.5, f(-1.1)].map(f),
    scl_slope: 2, scl_inter: -1, cal_min: -5, cal_max: f(99.5), xyzt_units: 10, intent_code: 1002, intent_name: 'label', dim_info: 57,
    slice_start: 1, slice_end: 2, slice_code: 3, slice_duration: f(0.05), toffset: f(1.5), intent_p1: f(0.5), intent_p2: 2, intent_p3: -3,
    descrip: 'round trip ✓ test'.replace('✓', 'v'), aux_file: 'aux.txt',
  });
  return { header, data };
}

const DATA: [string, (n: number) => NiftiData][] = [
  ['uint8', (n) => Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256)],
  ['int16', (n) => Int16Array.from({ length: n }, (_, i) => (i * 1237) % 65536 - 32768)],
  ['int32', (n) => Int32Array.from({ length: n }, (_, i) => (i * 0x2f0e1a3) | 0)],
  ['float32', (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3)],
  ['float64', (n) => Float64Array.from({ length: n }, (_, i) => Math.cos(i) / 7)],
];

test('every datatype written and read back bit-for-bit with its header, plain and gzipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-volumes-'));
  try {
    for (const [name, make] of DATA) {
      const volume = sample(make(60));
      const bytes = encodeNifti(volume);
      assert.equal(bytes.length, 352 + volume.data.byteLength);
      for (const file of ['v.nii', 'v.nii.gz']) {
        const path = join(dir, `${name}-${file}`);
        writeNifti(path, volume);
        assert.equal(readFileSync(path)[0] === 0x1f, file.endsWith('.gz'), `${path} gzipped iff .gz`);
        const back = readNifti(path);
        assert.equal(back.data.constructor, volume.data.constructor, name);
        assert.deepEqual(Buffer.from(back.data.buffer), Buffer.from(volume.data.buffer), `${name} data`);
        const expected = { ...volume.header, datatype: back.header.datatype, bitpix: back.header.bitpix };
        assert.deepEqual(back.header, expected, `${name} header`);
        assert.deepEqual(encodeNifti(back), bytes, `${name}: re-encoding gives the same bytes`);
      }
    }
    const codes = DATA.map(([, make]) => decodeNifti(encodeNifti(sample(make(60))), 'x').header.datatype);
    assert.deepEqual(codes, [2, 4, 8, 16, 64]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a big-endian file built by hand reads as its little-endian twin', () => {
  const le = encodeNifti(sample(Int16Array.from([1, -2, 300, -32768, 32767, 0, 7, 8, 9, 10, 11, 12].concat(Array(48).fill(5)))));
  const be = Buffer.from(le);
  const swap = (offset: number, size: number, count = 1) => {
    for (let i = 0; i < count; i++) be.subarray(offset + i * size, offset + (i + 1) * size).reverse();
  };
  swap(0, 4);
  swap(40, 2, 8);
  for (const o of [68, 70, 72, 74, 120, 252, 254]) swap(o, 2);
  for (const o of [56, 60, 64, 108, 112, 116, 124, 128, 132, 136]) swap(o, 4);
  swap(76, 4, 8);
  swap(256, 4, 6 + 12);
  swap(352, 2, 60);
  assert.notDeepEqual(be, le);
  const a = decodeNifti(le, 'le');
  const b = decodeNifti(be, 'be');
  assert.deepEqual(b, a);
  assert.deepEqual(Array.from(b.data.slice(0, 5)), [1, -2, 300, -32768, 32767]);
});

test('truncated, garbage and unsupported files are one-line InputErrors', () => {
  const good = encodeNifti(sample(new Float32Array(60).fill(1.5)));
  rejects(() => decodeNifti(good.subarray(0, 100), 'f.nii'), /^f\.nii: not a NIfTI-1 file \(100 bytes, shorter than the 348-byte header\)$/);
  rejects(() => decodeNifti(good.subarray(0, 400), 'f.nii'), /^f\.nii: truncated NIfTI data: 48 bytes after vox_offset 352, dims \[5,4,3\] of float32 need 240$/);
  rejects(() => decodeNifti(good.subarray(0, 350), 'f.nii'), /truncated NIfTI data: 0 bytes/);
  rejects(() => decodeNifti(gzipSync(good).subarray(0, 200), 'f.nii.gz'), /^f\.nii\.gz: corrupt or truncated gzip data/);
  const garbage = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251));
  rejects(() => decodeNifti(garbage, 'g.nii'), /^g\.nii: not a NIfTI-1 file \(sizeof_hdr is not 348\)$/);
  const edit = (f: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    f(b);
    return b;
  };
  rejects(() => decodeNifti(edit((b) => b.write('ni1\0', 344, 'latin1')), 'p.hdr'), /two-file NIfTI/);
  rejects(() => decodeNifti(edit((b) => b.write('abc\0', 344, 'latin1')), 'm.nii'), /magic "abc\\u0000", expected "n\+1"/);
  rejects(() => decodeNifti(edit((b) => b.writeInt32LE(540, 0)), 'n2.nii'), /NIfTI-2/);
  rejects(() => decodeNifti(edit((b) => b.writeInt16LE(512, 70)), 'u.nii'), /unsupported NIfTI datatype 512/);
  rejects(() => decodeNifti(edit((b) => b.writeInt16LE(16, 72)), 'b.nii'), /bitpix 16 does not match datatype float32/);
  rejects(() => decodeNifti(edit((b) => b.writeInt16LE(9, 40)), 'd.nii'), /dim\[0\] is 9/);
  rejects(() => readNifti('/nonexistent/x.nii'), /cannot read: no such file/);
  rejects(() => encodeNifti({ header: niftiHeader([2, 2]), data: new Uint8Array(5) }), /need 4 values, got 5/);
});

test('orientation: qform quaternion against rotations written by hand; sform wins when set', () => {
  const header = niftiHeader([4, 4, 4], [2, 3, 4]);
  assert.deepEqual(affine(header), [[2, 0, 0, -3], [0, 3, 0, -4.5], [0, 0, 4, -6], [0, 0, 0, 1]]);
  const q = { ...header, sform_code: 0 };
  assert.deepEqual(affine(q), affine(header), 'the default qform and sform agree');
  // (b, c, d) = (0, 0, 1): a half turn about z; qfac −1 mirrors the third voxel axis.
  const half = affine({ ...q, quatern_d: 1, pixdim: [-1, 2, 3, 4, 1, 1, 1, 1] });
  assert.deepEqual(half.map((r) => r.slice(0, 3).map((v) => v + 0)), [[-2, 0, 0], [0, -3, 0], [0, 0, -4], [0, 0, 0]]);
  // A quarter turn about x: b = sin(45°), a = cos(45°); y → z, z → −y.
  const s = Math.SQRT1_2;
  const quarter = affine({ ...q, quatern_b: s, pixdim: [1, 1, 1, 1, 1, 1, 1, 1] });
  const rotation = quarter.slice(0, 3).map((r) => r.slice(0, 3).map((v) => Math.round(v * 1e12) / 1e12 + 0));
  assert.deepEqual(rotation, [[1, 0, 0], [0, 0, -1], [0, 1, 0]]);
  assert.deepEqual(affine({ ...q, qform_code: 0 }).map((r) => r[3]), [0, 0, 0, 1], 'method 1: voxel sizes alone');
});

test('volumeTensor is [z, y, x] with scl_slope and scl_inter applied; maskVolume reverses it', () => {
  const before = liveTensors();
  const volume = sample(Int16Array.from({ length: 60 }, (_, i) => i));
  scope(() => {
    const t = volumeTensor(volume);
    assert.deepEqual(t.shape, [3, 4, 5]);
    assert.equal(t.dtype, 'float32');
    // x = 3, y = 2, z = 1 is element 3 + 5·(2 + 4·1) = 33, stored 33 → 2·33 − 1.
    assert.equal(t.select(0, 1).select(0, 2).select(0, 3).item(), 65);
    const back = maskVolume(t.gt(60));
    assert.deepEqual(back.header.dim.slice(0, 4), [3, 5, 4, 3]);
    assert.deepEqual(Array.from(back.data), Array.from(volume.data, (v) => (2 * v - 1 > 60 ? 1 : 0)));
    assert.equal(volumeTensor(sample(new Float64Array(60))).dtype, 'float64');
  });
  assert.equal(liveTensors(), before);
});

const NIBABEL = String.raw`
import json, sys
import nibabel as nib, numpy as np
img = nib.load(sys.argv[1])
h = img.header
out = {"shape": list(img.shape), "dtype": str(img.get_data_dtype()), "zooms": [float(z) for z in h.get_zooms()],
       "sform": img.get_sform().tolist(), "qform": img.get_qform().tolist(), "codes": [int(h["qform_code"]), int(h["sform_code"])],
       "descrip": h["descrip"].item().decode(), "scaled": np.asanyarray(img.dataobj).ravel(order="F").tolist()}
theirs = nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4, order="F") * 3 - 20,
                         np.array([[0, -2.0, 0, 5], [1.5, 0, 0, -4], [0, 0, 3, 1], [0, 0, 0, 1]]))
theirs.header.set_qform(theirs.affine, code=1)
theirs.header.set_sform(theirs.affine, code=2)
nib.save(theirs, sys.argv[2])
print(json.dumps(out))
`;

test('nibabel reads our file and we read nibabel\'s', (t) => {
  if (noNibabel) return t.skip(noNibabel);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-volumes-'));
  try {
    const ours = sample(Int16Array.from({ length: 60 }, (_, i) => i * 11 - 300));
    writeNifti(join(dir, 'ours.nii.gz'), ours);
    const r = spawnSync(PYTHON, ['-c', NIBABEL, join(dir, 'ours.nii.gz'), join(dir, 'theirs.nii')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const nib = JSON.parse(r.stdout);
    assert.deepEqual(nib.shape, [5, 4, 3]);
    assert.equal(nib.dtype, 'int16');
    assert.deepEqual(nib.scaled, Array.from(ours.data, (v) => 2 * v - 1), 'scl_slope 2, scl_inter −1 applied');
    assert.deepEqual(nib.codes, [1, 4]);
    assert.equal(nib.descrip, ours.header.descrip);
    nib.zooms.forEach((z: number, i: number) => assert.ok(Math.abs(z - ours.header.pixdim[i + 1]) < 1e-6));
    const close = (a: number[][], b: number[][], what: string) =>
      a.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) < 1e-5, `${what}[${i}][${j}]: ${v} vs ${b[i][j]}`)));
    close(nib.sform, affine(ours.header), 'sform');
    close(nib.qform, affine({ ...ours.header, sform_code: 0 }), 'qform');

    const theirs = readNifti(join(dir, 'theirs.nii'));
    assert.deepEqual(theirs.header.dim.slice(0, 4), [3, 2, 3, 4]);
    assert.deepEqual(Array.from(theirs.data), Array.from({ length: 24 }, (_, i) => i * 3 - 20));
    const expected = [[0, -2, 0, 5], [1.5, 0, 0, -4], [0, 0, 3, 1], [0, 0, 0, 1]];
    close(affine(theirs.header), expected, 'their sform');
    close(affine({ ...theirs.header, sform_code: 0 }), expected, 'their qform');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
