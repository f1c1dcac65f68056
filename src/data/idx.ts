import { InputError } from '../errors.js';
import { gunzipIfGzipped, readInputFile } from '../io/files.js';
import { numel } from '../io/raw.js';

/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): magic bytes
 * 0x00 0x00 <type> <ndims>, ndims big-endian u32 dimensions, then big-endian data in C order.
 * Files may be gzipped.
 */

/** The typed arrays an IDX file decodes to, one per IDX element type. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: its dimensions and its elements in C order. */
export interface RawIdx {
  shape: number[];
  data: IdxData;
}

// A loop over DataView getters: TypedArray.from with a map function is about 50 times slower.
function bigEndian(make: (n: number) => IdxData, get: (view: DataView, i: number) => number) {
  return (view: DataView, n: number): IdxData => {
    const out = make(n);
    for (let i = 0; i < n; i++) out[i] = get(view, i);
    return out;
  };
}

const TYPES: Readonly<Record<number, { name: string; size: number; decode: (view: DataView, n: number) => IdxData }>> = {
  8: { name: 'u8', size: 1, decode: (v, n) => new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + n)) },
  9: { name: 'i8', size: 1, decode: bigEndian((n) => new Int8Array(n), (v, i) => v.getInt8(i)) },
  11: { name: 'i16', size: 2, decode: bigEndian((n) => new Int16Array(n), (v, i) => v.getInt16(2 * i)) },
  12: { name: 'i32', size: 4, decode: bigEndian((n) => new Int32Array(n), (v, i) => v.getInt32(4 * i)) },
  13: { name: 'f32', size: 4, decode: bigEndian((n) => new Float32Array(n), (v, i) => v.getFloat32(4 * i)) },
  14: { name: 'f64', size: 8, decode: bigEndian((n) => new Float64Array(n), (v, i) => v.getFloat64(8 * i)) },
};

/**
 * Decodes an IDX file held in `buf`, gunzipping it first if it starts with the gzip magic.
 * Corrupt or truncated gzip data, a bad magic, a truncated header, or data longer or shorter than
 * the dimensions say throws an InputError whose message starts with `source`.
 */
export function decodeIdx(buf: Uint8Array, source: string): RawIdx {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  const bytes = gunzipIfGzipped(buf, source);
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
  const type = TYPES[bytes[2]];
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || type === undefined || bytes[3] === 0) {
    throw fail(`not an IDX file (magic ${hex(bytes.subarray(0, 4))}, expected 00 00 <type 08/09/0b/0c/0d/0e> <ndims>)`);
  }
  const ndims = bytes[3];
  const dataStart = 4 + 4 * ndims;
  if (bytes.length < dataStart) throw fail(`IDX file ends inside its ${ndims} dimensions`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i));
  const n = numel(shape);
  const available = bytes.length - dataStart;
  if (available !== n * type.size) {
    throw fail(`IDX data is ${available} bytes but dimensions [${shape}] of ${type.name} need ${n * type.size}`);
  }
  return { shape, data: type.decode(new DataView(bytes.buffer, bytes.byteOffset + dataStart, available), n) };
}

/** Reads and decodes the (optionally gzipped) IDX file at `path`; errors name the path. */
export function readIdx(path: string): RawIdx {
  return decodeIdx(readInputFile(path), path);
}
