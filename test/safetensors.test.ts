/**
 * The safetensors reader against a corpus of files built here, following the spec
 * (https://github.com/huggingface/safetensors#format) and its reference implementation (safetensors/src/tensor.rs):
 * valid variants read to exact values, taken from the spec's definitions (the 8-bit floats from the closed form
 * of the OCP 8-bit floating point spec) or from PyTorch; invalid variants each rejected with a one-line InputError
 * naming the file and the rule broken. The values PyTorch reads are compared where /usr/bin/python3 imports torch;
 * otherwise that test is skipped, saying why.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import type { RawTensor } from '../src/io/raw.js';
import { cliRunner } from './cli-run.js';

const PYTHON = '/usr/bin/python3';

/** A safetensors file: the 8-byte length (`length`, else that of the header), the header (JSON text, or a value to stringify), the data. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), length?: bigint): Buffer {
  const json = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(length ?? BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

/** A tensor description. */
const info = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

/** The little-endian bytes written by `fill` into a buffer of `size` bytes. */
function bytes(size: number, fill: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  fill(new DataView(out.buffer));
  return out;
}

/** Asserts that decoding `buf` as `source` throws a one-line InputError that starts with `source` and matches `problem`. */
function rejected(source: string, buf: Uint8Array, problem: RegExp): void {
  assert.throws(() => decodeSafetensors(buf, source), (err: unknown) => {
    assert.ok(err instanceof InputError, `${source}: expected an InputError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${source}: `), `${source}: message does not start with the file name: ${err.message}`);
    assert.match(err.message, problem, source);
    assert.ok(!err.message.includes('\n'), `${source}: message is not one line: ${err.message}`);
    return true;
  }, source);
}

const f32 = (...values: number[]): RawTensor => ({ dtype: 'float32', shape: [values.length], data: Float32Array.from(values) });

test('safetensors spec corpus, valid: {} with an empty buffer, metadata only, a scalar, zero-size tensors, space padding, unaligned data, '
  + 'offsets out of name order, odd names, whitespace inside and after the JSON, extra description keys', () => {
  const eight = bytes(8, (v) => v.setFloat64(0, 2.5, true));
  const read = (header: unknown, data?: Uint8Array) => decodeSafetensors(file(header, data), 'valid.st');
  assert.deepEqual(read('{}'), { tensors: {}, metadata: {} });
  assert.deepEqual(read({ __metadata__: { format: 'pt', '': 'empty key' } }), { tensors: {}, metadata: { format: 'pt', '': 'empty key' } });
  assert.deepEqual(read({ s: info('F64', [], 0, 8) }, eight).tensors, { s: { dtype: 'float64', shape: [], data: Float64Array.from([2.5]) } });
  // Zero-size tensors take no bytes, at the start, between or after the others, several at one offset.
  const zeros = read({ z: info('I64', [0], 0, 0), a: info('F64', [1], 0, 8), y: info('F32', [3, 0, 2], 8, 8), x: info('BOOL', [0], 8, 8) }, eight);
  assert.deepEqual(zeros.tensors, {
    z: { dtype: 'int64', shape: [0], data: new BigInt64Array(0) },
    a: { dtype: 'float64', shape: [1], data: Float64Array.from([2.5]) },
    y: { dtype: 'float32', shape: [3, 0, 2], data: new Float32Array(0) },
    x: { dtype: 'bool', shape: [0], data: new Uint8Array(0) },
  });
  const header = JSON.stringify({ s: info('F64', [], 0, 8) });
  assert.notEqual(header.length % 8, 0, 'the data of this variant starts unaligned');
  for (const text of [header, `${header}      `, `${header} \t\r\n`, `{\n  "s" : ${JSON.stringify(info('F64', [], 0, 8))}\n}`]) {
    assert.deepEqual(read(text, eight).tensors.s.data, Float64Array.from([2.5]), JSON.stringify(text));
  }
  const data = bytes(12, (v) => [1, -2, 3].forEach((x, i) => v.setFloat32(4 * i, x, true)));
  // An object literal cannot have an own "__proto__" key, so this header is written out.
  const named = read(`{"b":${JSON.stringify(info('F32', [2], 4, 12))},"__proto__":${JSON.stringify(info('F32', [1], 0, 4))}}`, data);
  assert.deepEqual(Object.keys(named.tensors).sort(), ['__proto__', 'b']);
  assert.deepEqual(named.tensors.b, f32(-2, 3));
  assert.deepEqual(Object.getOwnPropertyDescriptor(named.tensors, '__proto__')?.value, f32(1));
  const extra = { ...info('F32', [2], 4, 12), note: 'ignored, as serde ignores it' };
  assert.deepEqual(read({ '': info('F32', [1], 0, 4), é: extra }, data).tensors, { '': f32(1), é: f32(-2, 3) });
});

/** One tensor of each dtype that is not an 8-bit float, its bytes from the definition of the dtype, and the values they stand for. */
function everyDtype(): { buf: Buffer; expected: Record<string, RawTensor> } {
  const i64 = (...values: bigint[]): RawTensor => ({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values) });
  const variants: [string, number, (v: DataView) => void, RawTensor][] = [
    ['BOOL', 1, (v) => [0, 1, 2, 255].forEach((b, i) => v.setUint8(i, b)), { dtype: 'bool', shape: [4], data: Uint8Array.from([0, 1, 1, 1]) }],
    ['U8', 1, (v) => [0, 255].forEach((b, i) => v.setUint8(i, b)), i64(0n, 255n)],
    ['I8', 1, (v) => [0x80, 0xff, 0x7f].forEach((b, i) => v.setUint8(i, b)), i64(-128n, -1n, 127n)],
    ['I16', 2, (v) => [0x8000, 0xffff].forEach((b, i) => v.setUint16(2 * i, b, true)), i64(-32768n, -1n)],
    ['U16', 2, (v) => [0xffff, 1].forEach((b, i) => v.setUint16(2 * i, b, true)), i64(65535n, 1n)],
    ['I32', 4, (v) => [0x80000000, 0xffffffff].forEach((b, i) => v.setUint32(4 * i, b, true)), i64(-(2n ** 31n), -1n)],
    ['U32', 4, (v) => v.setUint32(0, 0xffffffff, true), i64(4294967295n)],
    ['I64', 8, (v) => [2n ** 63n, 2n ** 63n - 1n].forEach((b, i) => v.setBigUint64(8 * i, b, true)), i64(-(2n ** 63n), 2n ** 63n - 1n)],
    ['U64', 8, (v) => [0n, 2n ** 63n - 1n].forEach((b, i) => v.setBigUint64(8 * i, b, true)), i64(0n, 2n ** 63n - 1n)],
    // IEEE binary16: 0x7bff is the largest, 65504; 0x0001 the smallest subnormal, 2^-24; 0xfc00 -Infinity.
    ['F16', 2, (v) => [0x3c00, 0x7bff, 0x0001, 0xfc00, 0x8000].forEach((b, i) => v.setUint16(2 * i, b, true)), f32(1, 65504, 2 ** -24, -Infinity, -0)],
    // bfloat16 is the top half of binary32: 0x3fc0 is 1.5, 0x0001 is 2^-133, 0xff80 -Infinity.
    ['BF16', 2, (v) => [0x3fc0, 0x0001, 0xff80, 0x7fc0].forEach((b, i) => v.setUint16(2 * i, b, true)), f32(1.5, 2 ** -133, -Infinity, NaN)],
    ['F32', 4, (v) => [0x3f800000, 0x00000001, 0xff800000].forEach((b, i) => v.setUint32(4 * i, b, true)), f32(1, 2 ** -149, -Infinity)],
    ['F64', 8, (v) => [Math.PI, -5e-324].forEach((x, i) => v.setFloat64(8 * i, x, true)), { dtype: 'float64', shape: [2],
      data: Float64Array.from([Math.PI, -5e-324]) }],
  ];
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [dtype, itemsize, fill, raw] of variants) {
    const size = itemsize * raw.data.length;
    header[dtype.toLowerCase()] = info(dtype, raw.shape, offset, offset + size);
    chunks.push(bytes(size, fill));
    offset += size;
  }
  const expected = Object.fromEntries(variants.map(([dtype, , , raw]) => [dtype.toLowerCase(), raw]));
  return { buf: file(header, Buffer.concat(chunks)), expected };
}

test('safetensors spec corpus: every dtype (BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64) read exactly; '
  + 'BOOL bytes other than 0 and 1 read as true with one warning; U64 past int64 rejected naming the index', (t: TestContext) => {
  const stderr = t.mock.method(process.stderr, 'write', () => true);
  const { buf, expected } = everyDtype();
  assert.deepEqual(decodeSafetensors(buf, 'dtypes.st').tensors, expected);
  const warnings = stderr.mock.calls.map((call) => String(call.arguments[0]));
  assert.equal(warnings.length, 1, warnings.join(''));
  assert.match(warnings[0], /^dltheory: warning: dtypes\.st: tensor "bool": 2 BOOL byte\(s\) other than 0 or 1, the first 2 at index 2, read as true/);
  const u64 = bytes(16, (v) => [1n, 2n ** 64n - 1n].forEach((x, i) => v.setBigUint64(8 * i, x, true)));
  rejected('u64.st', file({ u: info('U64', [2], 0, 16) }, u64), /tensor "u": uint64 value 18446744073709551615 at index 1 does not fit int64/);
});

/**
 * The value of the 8-bit pattern `bits` by the closed form of the OCP 8-bit floating point spec, rev. 1.0, with `e` exponent
 * and `m` mantissa bits: (-1)^S × 2^(E - bias) × (1 + M/2^m) when E > 0, (-1)^S × 2^(1 - bias) × M/2^m when E = 0; bias = 2^(e-1) - 1.
 * The special patterns: E5M2 has ±Infinity at S.11111.00 and NaN at S.11111.{01,10,11}; E4M3 has no infinities, NaN only at S.1111.111.
 */
function ofp8(bits: number, e: number, m: number): number {
  const [S, E, M, bias] = [bits >> 7, (bits >> m) & (2 ** e - 1), bits & (2 ** m - 1), 2 ** (e - 1) - 1];
  if (e === 5 && E === 31) return M === 0 ? (-1) ** S * Infinity : NaN;
  if (e === 4 && E === 15 && M === 7) return NaN;
  return (-1) ** S * (E > 0 ? 2 ** (E - bias) * (1 + M / 2 ** m) : 2 ** (1 - bias) * (M / 2 ** m));
}

test('safetensors spec corpus: F8_E5M2 and F8_E4M3 (float8_e4m3fn) match the OCP 8-bit float closed form for all 256 bit patterns', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const header = { e5m2: info('F8_E5M2', [16, 16], 0, 256), e4m3: info('F8_E4M3', [256], 256, 512) };
  const { tensors } = decodeSafetensors(file(header, Buffer.concat([all, all])), 'f8.st');
  for (const [name, e, m] of [['e5m2', 5, 2], ['e4m3', 4, 3]] as const) {
    assert.equal(tensors[name].dtype, 'float32');
    const data = tensors[name].data as Float32Array;
    for (let bits = 0; bits < 256; bits++) {
      assert.ok(Object.is(data[bits], ofp8(bits, e, m)), `${name} 0x${bits.toString(16)}: ${data[bits]}, expected ${ofp8(bits, e, m)}`);
    }
  }
  assert.deepEqual(tensors.e5m2.shape, [16, 16]);
  // The spec's table of extremes: largest normal, smallest normal, smallest subnormal, the special values.
  const e5m2 = tensors.e5m2.data as Float32Array;
  assert.deepEqual([e5m2[0x7b], e5m2[0x04], e5m2[0x01], e5m2[0x7c], e5m2[0xfc], e5m2[0x80]], [57344, 2 ** -14, 2 ** -16, Infinity, -Infinity, -0]);
  assert.equal(e5m2.filter(Number.isNaN).length, 6);
  const e4m3 = tensors.e4m3.data as Float32Array;
  assert.deepEqual([e4m3[0x7e], e4m3[0xfe], e4m3[0x78], e4m3[0x08], e4m3[0x07], e4m3[0x01]], [448, -448, 256, 2 ** -6, 0.875 * 2 ** -6, 2 ** -9]);
  assert.deepEqual([...e4m3.keys()].filter((i) => Number.isNaN(e4m3[i])), [0x7f, 0xff]);
  assert.ok(!e4m3.includes(Infinity) && !e4m3.includes(-Infinity));
});

/** Why PyTorch cannot be used here, or null when `import torch` works. */
function torchUnavailable(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  return r.status === 0 ? null : `${PYTHON} cannot import torch: ${r.stderr.trim().split('\n').pop()}`;
}

// safetensors.torch.load without the safetensors package: the header by struct/json, each tensor by torch.frombuffer
// (as its _view2torch does), for the dtypes this torch has; the values printed widened to float64 or int64, as repr strings.
const TORCH_LOAD = String.raw`
import json, struct, sys, torch
TYPES = {'BOOL': 'bool', 'U8': 'uint8', 'I8': 'int8', 'I16': 'int16', 'U16': 'uint16', 'I32': 'int32', 'U32': 'uint32', 'I64': 'int64',
         'U64': 'uint64', 'F16': 'float16', 'BF16': 'bfloat16', 'F32': 'float32', 'F64': 'float64'}
buf = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', buf[:8])[0]
data = buf[8 + n:]
out = {}
for name, v in json.loads(buf[8:8 + n]).items():
    dtype = getattr(torch, TYPES[v['dtype']], None)
    if dtype is None:
        continue
    begin, end = v['data_offsets']
    t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(v['shape'])
    wide = t.to(torch.float64) if t.is_floating_point() else t.to(torch.int64)
    out[name] = [repr(x) for x in wide.flatten().tolist()]
print(json.dumps(out))
`;

test('safetensors spec corpus: every dtype this PyTorch has reads as torch.frombuffer reads it (BOOL bytes 2 and 255 as true)', (t: TestContext) => {
  const unavailable = torchUnavailable();
  if (unavailable !== null) return t.skip(`python3-torch not installed: ${unavailable}`);
  t.mock.method(process.stderr, 'write', () => true);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-safetensors-'));
  try {
    const { buf } = everyDtype();
    writeFileSync(join(dir, 'dtypes.safetensors'), buf);
    const r = spawnSync(PYTHON, ['-c', TORCH_LOAD, join(dir, 'dtypes.safetensors')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const torch = JSON.parse(r.stdout) as Record<string, string[]>;
    assert.ok(['bool', 'u8', 'i8', 'i16', 'i32', 'i64', 'f16', 'bf16', 'f32', 'f64'].every((name) => name in torch), Object.keys(torch).join());
    const ours = decodeSafetensors(buf, 'dtypes.st').tensors;
    const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity };
    for (const [name, values] of Object.entries(torch)) {
      const { data } = ours[name];
      if (data instanceof BigInt64Array || data instanceof Uint8Array) assert.deepEqual(Array.from(data, BigInt), values.map(BigInt), name);
      else assert.deepEqual(Array.from(data), values.map((s) => special[s] ?? Number(s)), name);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('safetensors spec corpus, invalid framing: file under 8 bytes, header length past the file, over-long header (checked first), '
  + 'header not UTF-8, a byte order mark, leading space, header not an object, empty header, not JSON, trailing comma, comment, NUL padding', () => {
  const header = (text: string) => file(text);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty.st', new Uint8Array(0), /not a safetensors file: 0 bytes, fewer than the 8-byte header length/],
    ['seven.st', new Uint8Array(7), /7 bytes, fewer than the 8-byte header length/],
    ['beyond.st', file('{', undefined, 100n), /header length 100 is more than the 1 bytes after it/],
    ['limit.st', file('{}', undefined, 100_000_000n), /header length 100000000 is more than the 2 bytes after it/],
    ['overlong.st', file('{}', undefined, 100_000_001n), /header length 100000001 is over the limit of 100000000 bytes/],
    ['huge.st', file('{}', undefined, 2n ** 64n - 1n), /header length 18446744073709551615 is over the limit/],
    ['png.st', Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'), /not a safetensors file/],
    ['latin1.st', file(Buffer.from('{"\xe9":{}}', 'latin1')), /header is not UTF-8/],
    ['surrogate.st', file(Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d])), /header is not UTF-8/],
    ['bom.st', file(Buffer.from('\ufeff{}')), /header does not start with "\{"/],
    ['leading.st', header(' {}'), /header does not start with "\{"/],
    ['array.st', header('[1, 2]'), /header does not start with "\{"/],
    ['string.st', header('"{}"'), /header does not start with "\{"/],
    ['null.st', header('null'), /header does not start with "\{"/],
    ['nothing.st', header(''), /header does not start with "\{"/],
    ['cut.st', header('{"a": '), /header is not valid JSON/],
    ['comma.st', header(`{"a": ${JSON.stringify(info('F32', [0], 0, 0))},}`), /header is not valid JSON/],
    ['comment.st', header('{/* a comment */}'), /header is not valid JSON/],
    ['quotes.st', header("{'a': 1}"), /header is not valid JSON/],
    ['nul.st', header('{}\0\0\0\0\0\0'), /header is not valid JSON/],
    ['after.st', header('{}\n\nx'), /header is not valid JSON/],
  ];
  for (const [source, buf, problem] of cases) rejected(source, buf, problem);
});

test('safetensors spec corpus, invalid duplicates: duplicate names (apart, at one offset, escaped), duplicate info keys, '
  + 'duplicate __metadata__, duplicate metadata keys', () => {
  const desc = (begin: number) => JSON.stringify(info('F32', [1], begin, begin + 4));
  const eight = new Uint8Array(8);
  const cases: [string, Uint8Array, RegExp][] = [
    // JSON.parse would keep the second "w": the first variant then left bytes 0..4 to no tensor, the second read silently.
    ['names.st', file(`{"w":${desc(0)},"w":${desc(4)}}`, eight), /key "w" occurs twice in the header/],
    ['same.st', file(`{"w":${desc(0)},"w":${desc(0)}}`, eight.subarray(4)), /key "w" occurs twice in the header/],
    ['escaped.st', file(`{"w":${desc(0)},"\\u0077":${desc(4)}}`, eight), /key "w" occurs twice in the header/],
    ['keys.st', file('{"w":{"dtype":"F32","shape":[1],"dtype":"I32","data_offsets":[0,4]}}', eight.subarray(4)), /key "dtype" occurs twice in tensor "w"/],
    ['offsets.st', file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"data_offsets":[0,4]}}', eight.subarray(4)),
      /key "data_offsets" occurs twice in tensor "w"/],
    ['meta.st', file('{"__metadata__":{"a":"1"},"__metadata__":{"b":"2"}}'), /key "__metadata__" occurs twice in the header/],
    ['metakey.st', file('{"__metadata__":{"a":"1","b":"2","a":"3"}}'), /key "a" occurs twice in __metadata__/],
  ];
  for (const [source, buf, problem] of cases) rejected(source, buf, problem);
});

test('safetensors spec corpus, invalid descriptions: __metadata__ not an object of strings; a tensor description not an object, '
  + 'missing or wrong-typed dtype, shape or data_offsets, a shape or offset written 1.0 or 4e0; unknown dtypes', () => {
  const four = new Uint8Array(4);
  const tensor = (description: unknown) => file({ t: description }, four);
  const cases: [string, Uint8Array, RegExp][] = [
    ['metavalue.st', file({ __metadata__: { a: 'x', b: 1 } }), /__metadata__ entry "b" is a number, not a string/],
    ['metanull.st', file({ __metadata__: null }), /__metadata__ is null, not an object of strings/],
    ['metaarray.st', file({ __metadata__: ['a'] }), /__metadata__ is an array, not an object of strings/],
    ['metastring.st', file({ __metadata__: 'a' }), /__metadata__ is a string, not an object of strings/],
    ['number.st', tensor(5), /tensor "t" is described by a number, not an object/],
    ['array.st', tensor(['F32', [1], [0, 4]]), /tensor "t" is described by an array, not an object/],
    ['null.st', tensor(null), /tensor "t" is described by null, not an object/],
    ['nodtype.st', tensor({ shape: [1], data_offsets: [0, 4] }), /tensor "t" has no dtype/],
    ['noshape.st', tensor({ dtype: 'F32', data_offsets: [0, 4] }), /tensor "t" has no shape/],
    ['nooffsets.st', tensor({ dtype: 'F32', shape: [1] }), /tensor "t" has no data_offsets/],
    ['dtypenumber.st', tensor({ ...info('F32', [1], 0, 4), dtype: 32 }), /tensor "t" has dtype a number, not a string/],
    ['q7.st', tensor(info('Q7', [1], 0, 4)),
      /tensor "t" has dtype "Q7", not one of BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64$/],
    ['lower.st', tensor(info('f32', [1], 0, 4)), /has dtype "f32", not one of/],
    ['c64.st', file({ t: info('C64', [1], 0, 8) }, new Uint8Array(8)), /has dtype "C64", not one of/],
    ['e8m0.st', tensor(info('F8_E8M0', [4], 0, 4)), /has dtype "F8_E8M0", not one of/],
    ['fnuz.st', tensor(info('F8_E4M3FNUZ', [4], 0, 4)), /has dtype "F8_E4M3FNUZ", not one of/],
    ['f4.st', tensor(info('F4', [8], 0, 4)), /has dtype "F4", not one of/],
    ['constructor.st', tensor(info('constructor', [1], 0, 4)), /has dtype "constructor", not one of/],
    ['shapestring.st', tensor({ ...info('F32', [1], 0, 4), shape: '1' }), /tensor "t" has shape "1", not a list of integers from 0 to 2\^53 - 1/],
    ['negative.st', tensor(info('F32', [-1], 0, 4)), /has shape \[-1\], not a list of integers/],
    ['fraction.st', tensor(info('F32', [0.5], 0, 4)), /tensor "t" has 0\.5 in its shape, not an integer literal/],
    // JSON.parse makes 1.0 the integer 1; the reference reads usize and refuses it.
    ['floatdim.st', file('{"t":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', four), /tensor "t" has 1\.0 in its shape, not an integer literal/],
    ['expoffset.st', file('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', four), /tensor "t" has 4e0 in its data_offsets, not an integer literal/],
    ['nulldim.st', tensor(info('F32', [null as unknown as number], 0, 4)), /has shape \[null\], not a list of integers/],
    ['bigdim.st', tensor(info('F32', [2 ** 53, 0], 0, 0)), /has shape \[9007199254740992,0\], not a list of integers/],
    ['reversed.st', tensor(info('F32', [1], 4, 0)), /tensor "t" has data_offsets \[4,0\], not \[begin, end\] with integers 0 <= begin <= end < 2\^53/],
    ['one.st', tensor({ ...info('F32', [1], 0, 4), data_offsets: [4] }), /has data_offsets \[4\], not \[begin, end\]/],
    ['three.st', tensor({ ...info('F32', [1], 0, 4), data_offsets: [0, 4, 4] }), /has data_offsets \[0,4,4\], not \[begin, end\]/],
    ['minus.st', tensor(info('F32', [1], -4, 0)), /has data_offsets \[-4,0\], not \[begin, end\]/],
    ['half.st', tensor(info('F32', [1], 0.5, 4.5)), /tensor "t" has 0\.5 in its data_offsets, not an integer literal/],
    ['offsetstring.st', tensor({ ...info('F32', [1], 0, 4), data_offsets: '0,4' }), /has data_offsets "0,4", not \[begin, end\]/],
  ];
  for (const [source, buf, problem] of cases) rejected(source, buf, problem);
});

test('safetensors spec corpus, invalid layout: overlapping, out-of-range and gap offsets; a span that disagrees with shape × dtype; '
  + 'sizes that overflow 64 bits; a hole before the first tensor; bytes after the last tensor; a truncated file', () => {
  const t = (dtype: string, shape: number[], begin: number, end: number) => info(dtype, shape, begin, end);
  const truncated = encodeSafetensors({ a: { dtype: 'float64', shape: [3], data: new Float64Array(3) } });
  const cases: [string, Uint8Array, RegExp][] = [
    ['range.st', file({ a: t('F32', [4], 0, 16) }, new Uint8Array(8)), /tensor "a" has data_offsets \[0, 16\] past the 8-byte data buffer/],
    ['cut.st', truncated.subarray(0, truncated.length - 1), /tensor "a" has data_offsets \[0, 24\] past the 23-byte data buffer/],
    ['size.st', file({ a: t('F32', [3], 0, 8) }, new Uint8Array(8)), /tensor "a" spans 8 bytes but shape \[3\] of F32 needs 12/],
    ['itemsize.st', file({ a: t('F64', [2], 0, 8) }, new Uint8Array(8)), /tensor "a" spans 8 bytes but shape \[2\] of F64 needs 16/],
    ['elements.st', file({ a: t('F32', [2 ** 32, 2 ** 32], 0, 0) }), /tensor "a": the size of shape \[4294967296,4294967296\] of F32 overflows 64 bits/],
    ['bits.st', file({ a: t('F32', [2 ** 31, 2 ** 31], 0, 0) }), /the size of shape \[2147483648,2147483648\] of F32 overflows 64 bits/],
    // The reference multiplies the dimensions left to right, so a later zero does not undo an overflow.
    ['fold.st', file({ a: t('U8', [2 ** 33, 2 ** 33, 0], 0, 0) }), /the size of shape \[8589934592,8589934592,0\] of U8 overflows 64 bits/],
    ['overlap.st', file({ b: t('F32', [2], 4, 12), a: t('F32', [2], 0, 8) }, new Uint8Array(12)), /tensors "a" and "b" overlap/],
    ['twice.st', file({ a: t('F32', [2], 0, 8), b: t('I32', [2], 0, 8) }, new Uint8Array(8)), /tensors "a" and "b" overlap/],
    ['inside.st', file({ a: t('F32', [2], 0, 8), z: t('F32', [0], 4, 4) }, new Uint8Array(8)), /tensors "a" and "z" overlap/],
    ['gap.st', file({ a: t('F32', [2], 0, 8), b: t('F32', [2], 12, 20) }, new Uint8Array(20)),
      /bytes 8\.\.12 of the data buffer, before tensor "b", belong to no tensor/],
    ['hole.st', file({ a: t('F32', [2], 4, 12) }, new Uint8Array(12)), /bytes 0\.\.4 of the data buffer, before tensor "a", belong to no tensor/],
    ['trailing.st', file({ a: t('F32', [2], 0, 8) }, new Uint8Array(12)), /bytes 8\.\.12 at the end of the data buffer belong to no tensor/],
    ['none.st', file('{}', new Uint8Array(4)), /bytes 0\.\.4 at the end of the data buffer belong to no tensor/],
  ];
  for (const [source, buf, problem] of cases) rejected(source, buf, problem);
});

test('dltheory eval exits 2 with one line naming the model file and the tensor its header names twice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-safetensors-cli-'));
  try {
    const model = join(dir, 'dup.safetensors');
    const [weight, bias] = [JSON.stringify(info('F32', [2, 2], 0, 16)), JSON.stringify(info('F32', [2], 16, 24))];
    const header = `{"__metadata__":{"dltheory.model":"mlp:2-2"},"0.weight":${weight},"0.weight":${weight},"0.bias":${bias}}`;
    writeFileSync(model, file(header, new Uint8Array(24)));
    cliRunner().rejects(['eval', '--model', model, '--data', 'mnist'], /dup\.safetensors: safetensors header: key "0\.weight" occurs twice in the header$/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
