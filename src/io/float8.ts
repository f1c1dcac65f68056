/**
 * The 8-bit floats of safetensors (F8_E5M2, F8_E4M3), decoded to float32, which holds every value exactly.
 *
 * Both are the formats of the OCP 8-bit Floating Point Specification (OFP8), revision 1.0
 * (https://www.opencompute.org/documents/ocp-8-bit-floating-point-specification-ofp8-revision-1-0-2023-12-01-pdf-1,
 * after https://arxiv.org/abs/2209.05433): a sign bit, E exponent bits with bias 2^(E-1) - 1, M mantissa bits,
 * subnormal when the exponent field is 0.
 * - E5M2 follows IEEE 754: an all-ones exponent is ±Infinity (mantissa 0) or NaN; the largest value is 57344.
 * - E4M3 has no infinities: only S.1111.111 is NaN, so the largest value is S.1111.110 = 448. This is PyTorch's
 *   float8_e4m3fn, the type safetensors maps F8_E4M3 to.
 */
export type Float8 = 'e5m2' | 'e4m3';

const FORMATS: Readonly<Record<Float8, { exponentBits: number; mantissaBits: number; infinities: boolean }>> = {
  e5m2: { exponentBits: 5, mantissaBits: 2, infinities: true },
  e4m3: { exponentBits: 4, mantissaBits: 3, infinities: false },
};

/** The value of the 8-bit pattern `bits` in `format`. */
function decode(bits: number, format: Float8): number {
  const { exponentBits, mantissaBits, infinities } = FORMATS[format];
  const exponentMax = 2 ** exponentBits - 1;
  const mantissaMax = 2 ** mantissaBits - 1;
  const bias = 2 ** (exponentBits - 1) - 1;
  const exponent = (bits >> mantissaBits) & exponentMax;
  const mantissa = bits & mantissaMax;
  let magnitude: number;
  if (exponent === exponentMax && (infinities || mantissa === mantissaMax)) magnitude = infinities && mantissa === 0 ? Infinity : NaN;
  // The integer significand (implicit leading 1 unless subnormal) times its power of two; subnormals share exponent 1's scale.
  else magnitude = (exponent === 0 ? mantissa : 2 ** mantissaBits + mantissa) * 2 ** (Math.max(exponent, 1) - bias - mantissaBits);
  return bits & 0x80 ? -magnitude : magnitude;
}

// Each format has 256 values, so a table decodes a byte with one look-up.
const TABLES: Readonly<Record<Float8, Float32Array>> = {
  e5m2: Float32Array.from({ length: 256 }, (_, bits) => decode(bits, 'e5m2')),
  e4m3: Float32Array.from({ length: 256 }, (_, bits) => decode(bits, 'e4m3')),
};

/** The float32 values of the 8-bit floats `bytes` in `format`, as a new array. */
export function float8ToFloat32(bytes: Uint8Array, format: Float8): Float32Array {
  const table = TABLES[format];
  return Float32Array.from(bytes, (bits) => table[bits]);
}
