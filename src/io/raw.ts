import { endianness } from 'node:os';
import { check } from '../errors.js';

// Every reader and writer here copies bytes straight into typed arrays, which use the host's byte
// order; the formats are little-endian, so a big-endian host would silently read garbage.
if (endianness() !== 'LE') throw new Error('dltheory reads and writes little-endian files and needs a little-endian host');

/** The element types a RawTensor holds; they are the engine's dtypes. */
export type RawDtype = 'float32' | 'float64' | 'int64' | 'bool';

/** The typed array behind each RawDtype (bool is one byte per element, 0 or 1). */
export type RawData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** A tensor as plain memory, independent of the engine: C-order `data` of `shape`. */
export interface RawTensor {
  dtype: RawDtype;
  shape: number[];
  data: RawData;
}

/** Bytes per element of each RawDtype. */
export const ITEMSIZE: Readonly<Record<RawDtype, number>> = { float32: 4, float64: 8, int64: 8, bool: 1 };

const ARRAY_TYPE = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, bool: Uint8Array } as const;

/** The number of elements of a tensor of `shape` (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Copies little-endian `bytes` (at any offset, aligned or not) into a new typed array of `dtype`. */
export function fromLittleEndian(bytes: Uint8Array, dtype: RawDtype): RawData {
  const out = new ARRAY_TYPE[dtype](bytes.byteLength / ITEMSIZE[dtype]);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The little-endian bytes of `data`, as a view that shares its memory. */
export function littleEndianBytes(data: RawData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Throws an InputError, naming `what`, unless `raw` has a valid shape, the typed array of its dtype, one element per shape entry, and (for bool) only 0s and 1s. */
export function checkRaw(raw: RawTensor, what: string): void {
  check(ITEMSIZE[raw.dtype] !== undefined, () => `${what}: unknown dtype ${JSON.stringify(raw.dtype)}`);
  check(raw.data instanceof ARRAY_TYPE[raw.dtype],
    () => `${what}: dtype ${raw.dtype} needs a ${ARRAY_TYPE[raw.dtype].name}, got ${raw.data?.constructor?.name}`);
  check(raw.shape.every((d) => Number.isSafeInteger(d) && d >= 0), () => `${what}: shape [${raw.shape}] has a dimension that is not a non-negative integer`);
  check(raw.data.length === numel(raw.shape), () => `${what}: ${raw.data.length} elements do not fill shape [${raw.shape}]`);
  if (raw.dtype === 'bool') check((raw.data as Uint8Array).every((v) => v <= 1), () => `${what}: a bool tensor holds a byte other than 0 or 1`);
}
