import { InputError } from '../errors.js';

/**
 * Element types that files may hold but a RawTensor does not. Readers widen them to the RawDtype
 * that represents every value exactly: float32 for the 16-bit floats, int64 for the integers
 * (uint64 only when every value is below 2^63, which int64 holds).
 */
export type NarrowType = 'f16' | 'bf16' | 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'u64';

/** Bytes per element of each NarrowType. */
export const NARROW_ITEMSIZE: Readonly<Record<NarrowType, number>> = { f16: 2, bf16: 2, i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, u64: 8 };

function halfToFloat(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  const magnitude = exponent === 0 ? mantissa * 2 ** -24 : exponent === 31 ? (mantissa ? NaN : Infinity) : (1 + mantissa / 1024) * 2 ** (exponent - 15);
  return h & 0x8000 ? -magnitude : magnitude;
}

/**
 * Decodes little-endian `bytes` of a narrow `type` into a new float32 (f16, bf16) or int64 (integers)
 * array. A uint64 value of 2^63 or more is an InputError `${what}: …` naming its index.
 */
export function widen(bytes: Uint8Array, type: NarrowType, what: string): { dtype: 'float32'; data: Float32Array } | { dtype: 'int64'; data: BigInt64Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / NARROW_ITEMSIZE[type];
  if (type === 'u64') {
    const data = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const v = view.getBigUint64(8 * i, true);
      if (v >= 2n ** 63n) throw new InputError(`${what}: uint64 value ${v} at index ${i} does not fit int64, the widest integer type here`);
      data[i] = v;
    }
    return { dtype: 'int64', data };
  }
  if (type === 'f16' || type === 'bf16') {
    const data = new Float32Array(n);
    // bfloat16 is the top half of a float32, so shifting its bits up is exact (NaN payloads included).
    const bits = new Uint32Array(data.buffer);
    for (let i = 0; i < n; i++) {
      const h = view.getUint16(2 * i, true);
      if (type === 'bf16') bits[i] = h << 16;
      else data[i] = halfToFloat(h);
    }
    return { dtype: 'float32', data };
  }
  const get = {
    i8: (i: number) => view.getInt8(i),
    u8: (i: number) => view.getUint8(i),
    i16: (i: number) => view.getInt16(2 * i, true),
    u16: (i: number) => view.getUint16(2 * i, true),
    i32: (i: number) => view.getInt32(4 * i, true),
    u32: (i: number) => view.getUint32(4 * i, true),
  }[type];
  const data = new BigInt64Array(n);
  for (let i = 0; i < n; i++) data[i] = BigInt(get(i));
  return { dtype: 'int64', data };
}
