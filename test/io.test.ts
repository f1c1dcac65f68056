import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import type { RawTensor } from '../src/io/raw.js';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../src/data/npy.js';
import { npyFile } from './npy-helpers.js';
import { capturingStderr } from './input-checks.js';
import { PYTHON, pythonUnavailable } from './python.js';

const SAMPLES: Record<string, RawTensor> = {
  f32: { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1.5, -2, 0, 3.25, Infinity, -0]) },
  f64: { dtype: 'float64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
  i64: { dtype: 'int64', shape: [2, 1, 2], data: BigInt64Array.from([0n, -1n, 2n ** 62n, -(2n ** 63n)]) },
  bool: { dtype: 'bool', shape: [4], data: Uint8Array.from([1, 0, 0, 1]) },
  scalar: { dtype: 'float32', shape: [], data: Float32Array.from([7]) },
  empty: { dtype: 'float64', shape: [0, 5], data: new Float64Array(0) },
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dltheory-io-'));
}

/** Asserts that `fn` throws an InputError on one line whose message names `source` and matches `problem`. */
function rejects(fn: () => unknown, source: string, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.ok(err.message.includes(source), `message does not name ${source}: ${err.message}`);
    assert.match(err.message, problem);
    assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
    return true;
  });
}

test('safetensors round-trips every dtype, shape and the metadata', () => {
  const buf = encodeSafetensors(SAMPLES, { format: 'pt', '1': 'one' });
  const { tensors, metadata } = decodeSafetensors(buf, 'mem.safetensors');
  assert.deepEqual(tensors, SAMPLES);
  assert.deepEqual(metadata, { format: 'pt', '1': 'one' });
  assert.deepEqual(decodeSafetensors(encodeSafetensors({}), 'x').tensors, {});
});

test('safetensors layout: padded header, tensors contiguous in name order', () => {
  const buf = encodeSafetensors({ b: SAMPLES.f64, '10': SAMPLES.bool, a: SAMPLES.f32 });
  const n = Number(buf.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const text = buf.subarray(8, 8 + n).toString('utf8');
  assert.match(text, /^\{"10":.*"a":.*"b":.*\} *$/);
  const header = JSON.parse(text);
  assert.deepEqual(header['10'].data_offsets, [0, 4]);
  assert.deepEqual(header.a, { dtype: 'F32', shape: [2, 3], data_offsets: [4, 28] });
  assert.deepEqual(header.b.data_offsets, [28, 52]);
  assert.equal(buf.length, 8 + n + 52);
});

test('safetensors decodes from an unaligned offset and copies the data out', () => {
  const encoded = encodeSafetensors({ x: SAMPLES.f64 });
  const shifted = Buffer.alloc(encoded.length + 3);
  encoded.copy(shifted, 3);
  const view = shifted.subarray(3);
  const { tensors } = decodeSafetensors(view, 'shifted');
  assert.deepEqual(tensors.x, SAMPLES.f64);
  view.fill(0);
  assert.equal(tensors.x.data[0], Math.PI);
});

test('safetensors files are written atomically and read back', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'w.safetensors');
    writeSafetensors(path, SAMPLES, { note: 'x' });
    writeSafetensors(path, { only: SAMPLES.bool });
    assert.deepEqual(readdirSync(dir), ['w.safetensors']);
    assert.deepEqual(readSafetensors(path), { tensors: { only: SAMPLES.bool }, metadata: {} });
    rejects(() => readSafetensors(join(dir, 'missing.safetensors')), 'missing.safetensors', /no such file/);
    rejects(() => writeSafetensors(join(dir, 'no', 'such', 'dir.safetensors'), {}), 'dir.safetensors', /cannot write/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('safetensors refuses to encode inconsistent tensors', () => {
  assert.throws(() => encodeSafetensors({ a: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }), InputError);
  assert.throws(() => encodeSafetensors({ a: { dtype: 'int64', shape: [2], data: new Float64Array(2) } }), InputError);
  assert.throws(() => encodeSafetensors({ __metadata__: SAMPLES.f32 }), InputError);
});

test('NPY round-trips every dtype and shape', () => {
  for (const [name, raw] of Object.entries(SAMPLES)) assert.deepEqual(decodeNpy(encodeNpy(raw), name), raw, name);
  const dir = tempDir();
  try {
    const path = join(dir, 'a.npy');
    writeNpy(path, SAMPLES.i64);
    assert.deepEqual(readNpy(path), SAMPLES.i64);
    assert.deepEqual(readdirSync(dir), ['a.npy']);
    rejects(() => readNpy(join(dir, 'missing.npy')), 'missing.npy', /no such file/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('NPY files match numpy byte for byte and numpy-written files read back', (t) => {
  const reason = pythonUnavailable('numpy');
  if (reason) {
    t.skip(reason);
    return;
  }
  const dir = tempDir();
  try {
    const script = `
import numpy as np, sys
d = sys.argv[1]
np.save(d + '/f32.npy', np.array([[1.5, -2, 0], [3.25, np.inf, -0.0]], dtype='<f4'))
np.save(d + '/f64.npy', np.array([np.pi, -1e300, 5e-324], dtype='<f8'))
np.save(d + '/i64.npy', np.array([0, -1, 2**62, -2**63], dtype='<i8').reshape(2, 1, 2))
np.save(d + '/bool.npy', np.array([True, False, False, True]))
np.save(d + '/scalar.npy', np.float32(7))
np.save(d + '/empty.npy', np.zeros((0, 5)))
np.save(d + '/big.npy', np.arange(123456789012, 123456789014, dtype='<i8'))
`;
    execFileSync(PYTHON, ['-c', script, dir], { stdio: 'pipe' });
    const file = (name: string) => join(dir, `${name}.npy`);
    for (const [name, raw] of Object.entries(SAMPLES)) {
      assert.deepEqual(encodeNpy(raw), readFileSync(file(name)), `${name} differs from np.save`);
      assert.deepEqual(readNpy(file(name)), raw);
    }
    const big: RawTensor = { dtype: 'int64', shape: [2], data: BigInt64Array.from([123456789012n, 123456789013n]) };
    assert.deepEqual(encodeNpy(big), readFileSync(file('big')));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

/** The header np.save would write for this descr, shape and fortran_order, unpadded. */
const npyHeader = (descr: string, shape: string, fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

// Hand-built files with values worked out by hand; test/npy.test.ts checks the same against numpy.
test('NPY reads big-endian data, Fortran order, any nonzero bool byte as True, Python 2 longs and bytes after the data, warning of the last two', () => {
  const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
  const float32 = (shape: number[], values: number[]): RawTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
  const int64 = (shape: number[], values: bigint[]): RawTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(values) });
  const cases: [string, Uint8Array, RawTensor, RegExp[]][] = [
    ['be.npy', npyFile(npyHeader('>i2', '(3,)'), Uint8Array.from([1, 2, 0xff, 0xfe, 0x80, 0])), int64([3], [258n, -2n, -32768n]), []],
    ['be8.npy', npyFile(npyHeader('>f8', '()'), Uint8Array.of(0x3f, 0xf8, 0, 0, 0, 0, 0, 0)), { dtype: 'float64', shape: [], data: Float64Array.of(1.5) }, []],
    // Column-major 2 x 3: the columns (1, 4), (2, 5), (3, 6).
    ['f.npy', npyFile(npyHeader('<f4', '(2, 3)', 'True'), f32([1, 4, 2, 5, 3, 6])), float32([2, 3], [1, 2, 3, 4, 5, 6]), []],
    ['bool.npy', npyFile(npyHeader('|b1', '(4,)'), Uint8Array.from([0, 7, 255, 1])), { dtype: 'bool', shape: [4], data: Uint8Array.of(0, 1, 1, 1) }, []],
    ['py2.npy', npyFile(npyHeader('<f4', '(2L, 1L)'), f32([3, -1])), float32([2, 1], [3, -1]), [/written by Python 2/]],
    ['extra.npy', npyFile(npyHeader('<f4', '(1,)'), f32([5, 6])), float32([1], [5]), [/ignored 4 bytes after/]],
  ];
  for (const [source, buf, raw, warnings] of cases) {
    const { value, error, lines } = capturingStderr(() => decodeNpy(buf, source));
    assert.equal(error, undefined, source);
    assert.deepEqual(value, raw, source);
    assert.equal(lines.length, warnings.length, `${source}: ${lines}`);
    warnings.forEach((warning, i) => assert.ok(lines[i].startsWith(`dltheory: warning: ${source}: `) && warning.test(lines[i]), lines[i]));
  }
});

test('NPY rejects every malformed file with an InputError naming it', () => {
  const good = encodeNpy(SAMPLES.f32);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty.npy', new Uint8Array(0), /not a NPY file/],
    ['magic.npy', Buffer.from('PK\x03\x04 this is a zip file', 'latin1'), /magic\.npy: an \.npz archive \(np\.savez\), not a \.npy file/],
    ['text.npy', Buffer.from('1.0,2.0\n3.0,4.0\n', 'latin1'), /text\.npy: not a NPY file/],
    ['version.npy', Buffer.concat([Buffer.from('\x93NUMPY\x04\x00', 'latin1'), good.subarray(8)]), /unsupported NPY format version 4\.0/],
    ['hlen.npy', good.subarray(0, 40), /header length 118 runs past the end of the 40-byte file/],
    ['v2short.npy', Buffer.from('\x93NUMPY\x02\x00\x05\x00', 'latin1'), /ends inside its header length/],
    ['truncated.npy', good.subarray(0, good.length - 1), /NPY data is 23 bytes but shape \(2, 3\) of <f4 needs 24/],
    ['syntax.npy', npyFile("{'descr': '<f4', 'shape': (2,"), /malformed NPY header: unexpected end/],
    ['garbage.npy', npyFile("{'descr': '<f4'; drop}"), /malformed NPY header: unexpected ";" at offset 15/],
    ['v3.npy', Buffer.from('\x93NUMPY\x03\x00\x01\x00\x00\x00\xff', 'latin1'), /NPY 3\.0 header is not UTF-8/],
    ['long.npy', npyFile(npyHeader('<f4', '(1,)') + ' '.repeat(10000), new Uint8Array(4)), /NPY header is 10058 characters, more than the 10000/],
    ['keys.npy', npyFile("{'descr': '<f4', 'shape': (1,)}"), /keys "descr", "shape" are not descr, fortran_order and shape/],
    ['list.npy', npyFile(npyHeader('<f4', '[1]'), new Uint8Array(4)), /shape \[1\] is not a tuple of integers/],
    ['negative.npy', npyFile(npyHeader('<f4', '(-1,)')), /NPY shape \(-1,\) has a negative dimension/],
    ['order.npy', npyFile(npyHeader('<f4', '(1,)', '1'), new Uint8Array(4)), /fortran_order 1 is not True or False/],
    ['py2v3.npy', npyFile(npyHeader('<f4', '(1L,)'), new Uint8Array(4), 3), /a Python 2 long \(L after a number\), which numpy reads in versions 1\.0/],
    ['descr.npy', npyFile(npyHeader('<c8', '(1,)'), new Uint8Array(8)), /unsupported NPY dtype "<c8": only bool, int8-int64, uint8-uint64 and float16\/32\/64/],
    ['longdouble.npy', npyFile(npyHeader('<f16', '(1,)'), new Uint8Array(16)), /unsupported NPY dtype "<f16"/],
    ['struct.npy', npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), /dtype \[\("a", "<f4"\)\]: structured dtypes are not read/],
    ['subarray.npy', npyFile("{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /subarray dtypes are not read/],
    ['u8.npy', npyFile(npyHeader('<u8', '(2,)'), new Uint8Array(BigUint64Array.of(0n, 2n ** 63n).buffer)), /uint64 value 9223372036854775808 at index 1 /],
  ];
  for (const [source, buf, problem] of cases) rejects(() => decodeNpy(buf, source), source, problem);
});
