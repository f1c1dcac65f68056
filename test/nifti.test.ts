/**
 * The NIfTI-1 codec (src/data/nifti.ts), without nibabel (test/nifti-corpus.test.ts compares with it):
 * - every datatype written and read back bit-for-bit with its header, plain and gzipped;
 * - a big-endian file built by hand; truncated, garbage, two-file, NIfTI-2, unsupported and broken files;
 * - nibabel's header fix-ups, each warned once on one line; vox_offset 0 and extensions;
 * - the qform quaternion against rotations written out by hand, sform over qform, nibabel's base affine;
 * - [z, y, x] tensor order, scl_slope/scl_inter as nibabel's get_slope_inter, float32 or float64;
 *   maskVolume reverses it; no native tensor leaks;
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
import { affine, decodeNifti, encodeNifti, niftiHeader, readNifti, volumeTensor, writeNifti, type NiftiData, type Volume } from '../src/data/nifti.js';
import { maskVolume } from '../src/data/volumes.js';
import { rejects, withWarnings } from './input-checks.js';
import { PYTHON, pythonUnavailable } from './python.js';

/** A 5 × 4 × 3 volume with anisotropic voxels, a rotated qform, a different sform and every field set. */
function sample(data: NiftiData): Volume {
  const header = niftiHeader([5, 4, 3], [0.8, 1.25, 2.5]);
  const f = Math.fround;
  Object.assign(header, {
    pixdim: [-1, 0.8, 1.25, 2.5, f(0.1), 1, 1, 1].map(f),
    quatern_b: f(0.1),
    quatern_c: f(-0.3),
    quatern_d: f(0.2),
    qoffset_x: f(-12.5),
    qoffset_y: f(30.25),
    qoffset_z: f(7),
    qform_code: 1,
    sform_code: 4,
    srow_x: [0.8, 0.01, 0, -2].map(f),
    srow_y: [0, 1.25, 0.02, 3.5].map(f),
    srow_z: [0.03, 0, 2.5, f(-1.1)].map(f),
    scl_slope: 2,
    scl_inter: -1,
    cal_min: -5,
    cal_max: f(99.5),
    xyzt_units: 10,
    intent_code: 1002,
    intent_name: 'label',
    dim_info: 57,
    slice_start: 1,
    slice_end: 2,
    slice_code: 3,
    slice_duration: f(0.05),
    toffset: f(1.5),
    intent_p1: f(0.5),
    intent_p2: 2,
    intent_p3: -3,
    descrip: 'round trip ✓ test'.replace('✓', 'v'),
    aux_file: 'aux.txt',
  });
  return { header, data };
}

const DATA: [string, (n: number) => NiftiData][] = [
  ['uint8', (n) => Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256)],
  ['int16', (n) => Int16Array.from({ length: n }, (_, i) => (i * 1237) % 65536 - 32768)],
  ['int32', (n) => Int32Array.from({ length: n }, (_, i) => (i * 0x2f0e1a3) | 0)],
  ['float32', (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3)],
  ['float64', (n) => Float64Array.from({ length: n }, (_, i) => Math.cos(i) / 7)],
  ['int8', (n) => Int8Array.from({ length: n }, (_, i) => (i * 37) % 256 - 128)],
  ['uint16', (n) => Uint16Array.from({ length: n }, (_, i) => (i * 1237) % 65536)],
  ['uint32', (n) => Uint32Array.from({ length: n }, (_, i) => (i * 0x2f0e1a3) >>> 0)],
  ['int64', (n) => BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 0x2f0e1a3) ** 2n * (i % 2 ? -1n : 1n))],
  ['uint64', (n) => BigUint64Array.from({ length: n }, (_, i) => 2n ** 64n - 1n - BigInt(i) ** 9n)],
];

test('every datatype written and read back bit-for-bit with its header, plain and gzipped, without a warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-nifti-'));
  try {
    for (const [name, make] of DATA) {
      const volume = sample(make(60));
      const bytes = encodeNifti(volume);
      assert.equal(bytes.length, 352 + volume.data.byteLength);
      for (const file of ['v.nii', 'v.nii.gz']) {
        const path = join(dir, `${name}-${file}`);
        writeNifti(path, volume);
        assert.equal(readFileSync(path)[0] === 0x1f, file.endsWith('.gz'), `${path} gzipped iff .gz`);
        const { value: back, warnings } = withWarnings(() => readNifti(path));
        assert.deepEqual(warnings, []);
        assert.equal(back.data.constructor, volume.data.constructor, name);
        assert.deepEqual(Buffer.from(back.data.buffer), Buffer.from(volume.data.buffer), `${name} data`);
        const expected = { ...volume.header, datatype: back.header.datatype, bitpix: back.header.bitpix };
        assert.deepEqual(back.header, expected, `${name} header`);
        assert.deepEqual(encodeNifti(back), bytes, `${name}: re-encoding gives the same bytes`);
      }
    }
    const codes = DATA.map(([, make]) => decodeNifti(encodeNifti(sample(make(60))), 'x').header.datatype);
    assert.deepEqual(codes, [2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `le`, a little-endian file of `itemsize`-byte values, with its header fields and data byte-swapped. */
function bigEndian(le: Buffer, itemsize: number): Buffer {
  const be = Buffer.from(le);
  const swap = (offset: number, size: number, count = 1) => {
    for (let i = 0; i < count; i++) be.subarray(offset + i * size, offset + (i + 1) * size).reverse();
  };
  swap(0, 4);
  swap(40, 2, 8);
  for (const o of [68, 70, 72, 74, 120, 252, 254]) swap(o, 2);
  for (const o of [56, 60, 64, 108, 112, 116, 124, 128, 132, 136, 144]) swap(o, 4);
  swap(76, 4, 8);
  swap(256, 4, 6 + 12);
  swap(352, itemsize, (le.length - 352) / itemsize);
  return be;
}

test('a big-endian file built by hand reads as its little-endian twin', () => {
  for (const data of [Int16Array.from([1, -2, 300, -32768, 32767, 0, 7, 8, 9, 10, 11, 12].concat(Array(48).fill(5))), DATA[9][1](60)]) {
    const le = encodeNifti(sample(data));
    const be = bigEndian(le, data.BYTES_PER_ELEMENT);
    assert.notDeepEqual(be, le);
    const a = decodeNifti(le, 'le');
    const b = decodeNifti(be, 'be');
    assert.deepEqual(b, a);
    assert.deepEqual(Array.from(b.data.slice(0, 5) as ArrayLike<unknown>), Array.from(data.slice(0, 5) as ArrayLike<unknown>));
  }
});

/** A copy of `bytes` changed by `f`. */
function edit(bytes: Buffer, f: (b: Buffer) => void): Buffer {
  const b = Buffer.from(bytes);
  f(b);
  return b;
}

test('truncated, garbage, unsupported and broken files are one-line InputErrors naming the file and the field', () => {
  const good = encodeNifti(sample(new Float32Array(60).fill(1.5)));
  rejects(() => decodeNifti(good.subarray(0, 100), 'f.nii'), /^f\.nii: not a NIfTI-1 file \(100 bytes, shorter than the 348-byte header\)$/);
  rejects(() => decodeNifti(good.subarray(0, 400), 'f.nii'),
    /^f\.nii: truncated NIfTI data: 48 bytes after vox_offset 352, dims \[5,4,3\] of float32 need 240$/);
  rejects(() => decodeNifti(good.subarray(0, 350), 'f.nii'), /truncated NIfTI data: 0 bytes/);
  rejects(() => decodeNifti(gzipSync(good).subarray(0, 200), 'f.nii.gz'), /^f\.nii\.gz: corrupt or truncated gzip data/);
  const garbage = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251));
  rejects(() => decodeNifti(garbage, 'g.nii'), /^g\.nii: magic ".*" is not "n\+1": not a NIfTI-1 file$/);
  rejects(() => decodeNifti(edit(good, (b) => b.write('ni1\0', 344, 'latin1')), 'p.hdr'), /^p\.hdr: magic "ni1": the header of a two-file NIfTI/);
  rejects(() => decodeNifti(edit(good, (b) => b.write('abc\0', 344, 'latin1')), 'm.nii'), /^m\.nii: magic "abc\\u0000" is not "n\+1"/);
  rejects(() =>
    decodeNifti(edit(good, (b) => {
      b.writeInt32LE(540, 0);
      b.write('n+2\0', 4, 'latin1');
      b.fill(7, 344, 348);
    }), 'n2.nii'), /^n2\.nii: sizeof_hdr 540: a NIfTI-2 file/);
  rejects(() => decodeNifti(edit(good, (b) => b.writeInt16LE(32, 70)), 'c.nii'), /^c\.nii: datatype 32 \(complex64\) is not supported \(only uint8, /);
  rejects(() => decodeNifti(edit(good, (b) => b.writeInt16LE(1536, 70)), 'q.nii'), /^q\.nii: datatype 1536 \(float128\) is not supported/);
  rejects(() => decodeNifti(edit(good, (b) => b.writeInt16LE(3, 70)), 'u.nii'), /^u\.nii: datatype 3 is not a NIfTI-1 datatype code$/);
  rejects(() => decodeNifti(edit(good, (b) => b.writeFloatLE(100, 108)), 'o.nii'), /^o\.nii: vox_offset 100 is below 352/);
  rejects(() => decodeNifti(edit(good, (b) => b.writeInt16LE(-4, 44)), 'n.nii'), /^n\.nii: dim \[5,-4,3\] has a negative size$/);
  rejects(() => decodeNifti(edit(good, (b) => b.writeFloatLE(NaN, 116)), 's.nii'),
    /^s\.nii: scl_inter is NaN with scl_slope 2; a scaled volume needs a finite intercept$/);
  rejects(() =>
    decodeNifti(edit(good, (b) => {
      b.writeInt16LE(0, 254);
      b.writeFloatLE(0.9, 256);
      b.writeFloatLE(0.9, 260);
    }), 'r.nii'), /^r\.nii: quatern_b, quatern_c, quatern_d \(0\.89\d+, 0\.89\d+, 0\.2\d*\) have b² \+ c² \+ d² = 1\.65\d+ > 1, not a rotation$/);
  rejects(() => decodeNifti(edit(good, (b) => [-1, 1, 1].forEach((d, i) => b.writeInt16LE(d, 42 + 2 * i))), 'v.nii'), /^v\.nii: dim\[1\.\.3\] .* glmin/);
  const extended = Buffer.concat([good.subarray(0, 352), Buffer.alloc(32), good.subarray(352)]);
  extended.writeFloatLE(384, 108);
  extended[348] = 1;
  rejects(() => decodeNifti(edit(extended, (b) => b.writeInt32LE(4096, 352)), 'x.nii'), /^x\.nii: extension at byte 352: esize 4096 does not fit/);
  rejects(() => decodeNifti(edit(extended, (b) => b.writeInt32LE(0, 352)), 'x.nii'), /^x\.nii: extension at byte 352: esize 0 does not fit/);
  // dim[0] is how the byte order is told: 9 does not read as 1..7 little-endian, so the file is big-endian.
  const be = bigEndian(good, 4);
  rejects(() => decodeNifti(edit(be, (b) => b.writeInt16BE(9, 40)), 'd.nii'), /^d\.nii: dim\[0\] is 9, not 0 to 7$/);
  rejects(() => readNifti('/nonexistent/x.nii'), /cannot read: no such file/);
  rejects(() => encodeNifti({ header: niftiHeader([2, 2]), data: new Uint8Array(5) }), /need 4 values, got 5/);
});

test("nibabel's header fix-ups: fixed in the header, each warned once on one line naming the file and the field", () => {
  const volume = sample(Float32Array.from({ length: 60 }, (_, i) => i / 4));
  // Data 24 bytes further on, at a vox_offset that is no multiple of 16, after a 24-byte extension record.
  const good = encodeNifti(volume);
  const bytes = Buffer.concat([good.subarray(0, 352), Buffer.alloc(24), good.subarray(352)]);
  bytes[348] = 1;
  bytes.writeInt32LE(24, 352);
  for (const [offset, value] of [[0, 100]] as const) bytes.writeInt32LE(value, offset);
  for (const [offset, value] of [[72, 8], [252, 7], [254, -1]] as const) bytes.writeInt16LE(value, offset);
  for (const [offset, value] of [[76, 0.5], [80, 0], [84, -1.25], [108, 376]] as const) bytes.writeFloatLE(value, offset);
  const { value: back, warnings } = withWarnings(() => decodeNifti(bytes, 'fix.nii'));
  const expected = [
    /^dltheory: warning: fix\.nii: sizeof_hdr is 100, not 348; read as 348$/,
    /^dltheory: warning: fix\.nii: bitpix 8 does not match datatype float32; set to 32$/,
    /^dltheory: warning: fix\.nii: pixdim\[1,2,3\] \[0,-1\.25,2\.5\] should be positive; set to \[1,1\.25,2\.5\]/,
    /^dltheory: warning: fix\.nii: pixdim\[0\] \(qfac\) is 0\.5, not 1 or -1; set to 1$/,
    /^dltheory: warning: fix\.nii: vox_offset 376 is not a multiple of 16 \(not SPM compatible\); left as it is$/,
    /^dltheory: warning: fix\.nii: extension at byte 352: esize 24 is not a multiple of 16; read as given$/,
    /^dltheory: warning: fix\.nii: qform_code 7 is not a NIfTI-1 xform code \(0 to 5\); set to 0$/,
    /^dltheory: warning: fix\.nii: sform_code -1 is not a NIfTI-1 xform code \(0 to 5\); set to 0$/,
  ];
  assert.equal(warnings.length, expected.length, warnings.join('\n'));
  for (const pattern of expected) assert.equal(warnings.filter((w) => pattern.test(w)).length, 1, `${pattern}: ${warnings.join('\n')}`);
  assert.deepEqual(back.data, volume.data);
  const h = back.header;
  assert.deepEqual([h.bitpix, h.pixdim.slice(0, 4), h.qform_code, h.sform_code, h.vox_offset], [32, [1, 1, 1.25, 2.5], 0, 0, 376]);
  // No xform code left: nibabel's base affine, x flipped, the centre voxel at the origin.
  assert.deepEqual(affine(h), [[-1, 0, 0, 2], [0, 1.25, 0, -1.875], [0, 0, 2.5, -2.5], [0, 0, 0, 1]]);

  // vox_offset 0 passes nibabel's check, and it reads the data from byte 0: here the header's first bytes.
  const zero = edit(good, (b) => b.writeFloatLE(0, 108));
  const { value: header, warnings: none } = withWarnings(() => decodeNifti(zero, 'zero.nii'));
  assert.deepEqual(none, []);
  assert.deepEqual(Buffer.from(header.data.buffer), zero.subarray(0, 240));
});

test("orientation: sform when its code is set, else the qform quaternion, else nibabel's base affine", () => {
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
  // nibabel's get_base_affine (shape_zoom_affine with x flipped), not nifti1.h's method 1; 2-D pads with 1s.
  assert.deepEqual(affine({ ...q, qform_code: 0 }), [[-2, 0, 0, 3], [0, 3, 0, -4.5], [0, 0, 4, -6], [0, 0, 0, 1]]);
  assert.deepEqual(affine({ ...niftiHeader([5, 3], [2, 3]), sform_code: 0, qform_code: 0 }).map((r) => r[3]), [4, -3, -0, 1]);
  rejects(() => affine({ ...q, quatern_b: 0.8, quatern_c: 0.7 }), /^NIfTI header: quatern_b, quatern_c, quatern_d \(0\.8, 0\.7, 0\) have .* not a rotation$/);
});

test("volumeTensor is [z, y, x], scaled as nibabel's get_fdata, float32 only where exact; maskVolume reverses it", () => {
  const before = liveTensors();
  const stored = Int16Array.from({ length: 60 }, (_, i) => i);
  const volume = sample(stored);
  scope(() => {
    const t = volumeTensor(volume);
    assert.deepEqual(t.shape, [3, 4, 5]);
    assert.equal(t.dtype, 'float64', 'scaled in float64');
    // x = 3, y = 2, z = 1 is element 3 + 5·(2 + 4·1) = 33, stored 33 → 2·33 − 1.
    assert.equal(t.select(0, 1).select(0, 2).select(0, 3).item(), 65);
    const back = maskVolume(t.gt(60));
    assert.deepEqual(back.header.dim.slice(0, 4), [3, 5, 4, 3]);
    assert.deepEqual(Array.from(back.data as Uint8Array), Array.from(stored, (v) => (2 * v - 1 > 60 ? 1 : 0)));

    // get_slope_inter: slope 0 or not finite means unscaled, whatever the intercept; (1, 0) too.
    for (const [slope, inter] of [[0, 5], [NaN, NaN], [Infinity, 0], [NaN, 3], [-Infinity, Infinity], [1, 0]]) {
      const u = volumeTensor({ header: { ...volume.header, scl_slope: slope, scl_inter: inter }, data: volume.data });
      assert.equal(u.dtype, 'float32', `${slope}/${inter}`);
      assert.deepEqual(u.toArray(), Float32Array.from(stored), `${slope}/${inter}`);
    }
    // float32(0.1) times v in float64, as numpy: not v / 10, and not rounded to float32.
    const tenth = volumeTensor({ header: { ...volume.header, scl_slope: Math.fround(0.1), scl_inter: 0 }, data: volume.data });
    assert.deepEqual(tenth.toArray(), Float64Array.from(stored, (v) => v * Math.fround(0.1)));
    const infinite = { header: { ...volume.header, scl_inter: Infinity }, data: volume.data };
    rejects(() => volumeTensor(infinite), /^NIfTI header: scl_inter is Infinity with scl_slope 2/);

    const unscaled = { ...volume.header, scl_slope: 1, scl_inter: 0 };
    const wide = [new Int32Array([2 ** 31 - 1, -(2 ** 31), 16777217]), new BigUint64Array([2n ** 64n - 1n, 2n ** 53n + 1n, 3n])];
    for (const data of wide) {
      const w = volumeTensor({ header: { ...unscaled, dim: [1, 3, 1, 1, 1, 1, 1, 1] }, data });
      assert.equal(w.dtype, 'float64');
      assert.deepEqual(Array.from(w.toArray() as Float64Array), Array.from(data as ArrayLike<number | bigint>, Number));
    }
    assert.equal(volumeTensor({ header: unscaled, data: new Float64Array(60) }).dtype, 'float64');
    assert.equal(volumeTensor({ header: unscaled, data: new Uint16Array(60) }).dtype, 'float32');
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

test("nibabel reads our file and we read nibabel's", (t) => {
  const missing = pythonUnavailable('nibabel');
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-nifti-'));
  try {
    const stored = Int16Array.from({ length: 60 }, (_, i) => i * 11 - 300);
    const ours = sample(stored);
    writeNifti(join(dir, 'ours.nii.gz'), ours);
    const r = spawnSync(PYTHON, ['-c', NIBABEL, join(dir, 'ours.nii.gz'), join(dir, 'theirs.nii')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const nib = JSON.parse(r.stdout);
    assert.deepEqual(nib.shape, [5, 4, 3]);
    assert.equal(nib.dtype, 'int16');
    assert.deepEqual(nib.scaled, Array.from(stored, (v) => 2 * v - 1), 'scl_slope 2, scl_inter −1 applied');
    assert.deepEqual(nib.codes, [1, 4]);
    assert.equal(nib.descrip, ours.header.descrip);
    nib.zooms.forEach((z: number, i: number) => assert.ok(Math.abs(z - ours.header.pixdim[i + 1]) < 1e-6));
    const close = (a: number[][], b: number[][], what: string) =>
      a.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) < 1e-5, `${what}[${i}][${j}]: ${v} vs ${b[i][j]}`)));
    close(nib.sform, affine(ours.header), 'sform');
    close(nib.qform, affine({ ...ours.header, sform_code: 0 }), 'qform');

    const theirs = readNifti(join(dir, 'theirs.nii'));
    assert.deepEqual(theirs.header.dim.slice(0, 4), [3, 2, 3, 4]);
    assert.deepEqual(Array.from(theirs.data as Int16Array), Array.from({ length: 24 }, (_, i) => i * 3 - 20));
    const expected = [[0, -2, 0, 5], [1.5, 0, 0, -4], [0, 0, 3, 1], [0, 0, 0, 1]];
    close(affine(theirs.header), expected, 'their sform');
    close(affine({ ...theirs.header, sform_code: 0 }), expected, 'their qform');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
