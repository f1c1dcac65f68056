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

function numpyUnavailable(): string | undefined {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? '/usr/bin/python3 is not installed' : 'numpy is not importable by /usr/bin/python3';
  }
}

test('NPY files match numpy byte for byte and numpy-written files read back', (t) => {
  const reason = numpyUnavailable();
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  const dir = tempDir();
  try {
    const script = `
import numpy as np, sys
from numpy.lib import format as fmt
d = sys.argv[1]
np.save(d + '/f32.npy', np.array([[1.5, -2, 0], [3.25, np.inf, -0.0]], dtype='<f4'))
np.save(d + '/f64.npy', np.array([np.pi, -1e300, 5e-324], dtype='<f8'))
np.save(d + '/i64.npy', np.array([0, -1, 2**62, -2**63], dtype='<i8').reshape(2, 1, 2))
np.save(d + '/bool.npy', np.array([True, False, False, True]))
np.save(d + '/scalar.npy', np.float32(7))
np.save(d + '/empty.npy', np.zeros((0, 5)))
np.save(d + '/big.npy', np.arange(123456789012, 123456789014, dtype='<i8'))
np.save(d + '/i4.npy', np.array([[-5, 6]], dtype='<i4'))
np.save(d + '/u1.npy', np.array([0, 255], dtype='u1'))
np.save(d + '/f2.npy', np.array([1, -2.5, 65504], dtype='<f2'))
np.save(d + '/fortran.npy', np.asfortranarray(np.ones((2, 3), dtype='<f4')))
np.save(d + '/be.npy', np.ones(2, dtype='>f4'))
for version in [(2, 0), (3, 0)]:
    with open(d + '/v%d.npy' % version[0], 'wb') as f:
        fmt.write_array(f, np.array([1.0, 2.0], dtype='<f8'), version=version)
`;
    execFileSync('/usr/bin/python3', ['-c', script, dir], { stdio: 'pipe' });
    const file = (name: string) => join(dir, `${name}.npy`);
    for (const [name, raw] of Object.entries(SAMPLES)) {
      assert.deepEqual(encodeNpy(raw), readFileSync(file(name)), `${name} differs from np.save`);
      assert.deepEqual(readNpy(file(name)), raw);
    }
    const big: RawTensor = { dtype: 'int64', shape: [2], data: BigInt64Array.from([123456789012n, 123456789013n]) };
    assert.deepEqual(encodeNpy(big), readFileSync(file('big')));
    assert.deepEqual(readNpy(file('i4')), { dtype: 'int64', shape: [1, 2], data: BigInt64Array.from([-5n, 6n]) });
    assert.deepEqual(readNpy(file('u1')), { dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, 255n]) });
    assert.deepEqual(readNpy(file('f2')), { dtype: 'float32', shape: [3], data: Float32Array.from([1, -2.5, 65504]) });
    for (const v of ['v2', 'v3']) assert.deepEqual(readNpy(file(v)), { dtype: 'float64', shape: [2], data: Float64Array.from([1, 2]) });
    rejects(() => readNpy(file('fortran')), 'fortran.npy', /Fortran order/);
    rejects(() => readNpy(file('be')), 'be.npy', /unsupported NPY dtype ">f4"/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('NPY rejects every malformed file with an InputError naming it', () => {
  const good = encodeNpy(SAMPLES.f32);
  const withHeader = (header: string, data = new Uint8Array(0)) => {
    const h = Buffer.from(header, 'latin1');
    const prefix = Buffer.from('\x93NUMPY\x01\x00\0\0', 'latin1');
    prefix.writeUInt16LE(h.length, 8);
    return Buffer.concat([prefix, h, data]);
  };
  const header = (descr: string, shape: string, fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty.npy', new Uint8Array(0), /not a NPY file/],
    ['magic.npy', Buffer.from('PK\x03\x04 this is a zip file', 'latin1'), /not a NPY file/],
    ['version.npy', Buffer.concat([Buffer.from('\x93NUMPY\x04\x00', 'latin1'), good.subarray(8)]), /unsupported NPY format version 4\.0/],
    ['hlen.npy', good.subarray(0, 40), /header length 118 runs past the end of the 40-byte file/],
    ['v2short.npy', Buffer.from('\x93NUMPY\x02\x00\x05\x00', 'latin1'), /ends inside its header length/],
    ['truncated.npy', good.subarray(0, good.length - 1), /NPY data is 23 bytes but shape \(2, 3\) of <f4 needs 24/],
    ['extra.npy', Buffer.concat([good, Buffer.from([0])]), /NPY data is 25 bytes/],
    ['syntax.npy', withHeader("{'descr': '<f4', 'shape': (2,"), /malformed NPY header/],
    ['garbage.npy', withHeader("{'descr': '<f4'; drop}"), /malformed NPY header: unexpected text/],
    ['keys.npy', withHeader("{'descr': '<f4', 'shape': (1,)}"), /exactly descr, fortran_order and shape/],
    ['shape.npy', withHeader(header('<f4', '(-1,)')), /shape is not a tuple of non-negative integers/],
    ['descr.npy', withHeader(header('<c8', '(1,)'), new Uint8Array(8)), /unsupported NPY dtype "<c8"/],
    ['struct.npy', withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), /structured dtypes/],
    ['fortran.npy', withHeader(header('<f4', '(2, 2)', 'True'), new Uint8Array(16)), /Fortran order/],
    ['bool.npy', withHeader(header('|b1', '(2,)'), Uint8Array.from([0, 7])), /other than 0 or 1/],
  ];
  for (const [source, buf, problem] of cases) rejects(() => decodeNpy(buf, source), source, problem);
});
