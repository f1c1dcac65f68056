/**
 * NPY dtype descriptors resolved the way numpy.dtype resolves them (numpy 1.24,
 * numpy/core/src/multiarray/descriptor.c and numpy/core/_internal.py): an optional byte order
 * < > = | (= and | are the host's, little-endian), then a type code (? b B h H i I l L q Q p P e f d, or
 * a character below \x18, which numpy takes as a type number), a kind and size (b1, i1–i8, u1–u8, f2,
 * f4, f8; the size as C's strtol reads it) or a type name (float32, int64, bool, double, …); a
 * one-item comma string (f4, 1f4, ()f4) and a tuple (descr, 1) or (descr, ()) stand for their descr.
 * C type names have their Linux x86-64 sizes (l, long, int_ and intp are int64), as in numpy there.
 */
import type { RawDtype } from '../io/raw.js';
import type { NarrowType } from '../io/widen.js';
import { parsePyLiteral, PyTuple, tokenize, type PyValue } from './py-literal.js';

/** The types read, by numpy's dtype.str without its byte order, and what each decodes to (a RawDtype, or widened). */
// dprint-ignore: a table laid out by hand
export const DECODED = new Map<string, RawDtype | NarrowType>([
  ['b1', 'bool'], ['i1', 'i8'], ['i2', 'i16'], ['i4', 'i32'], ['i8', 'int64'], ['u1', 'u8'], ['u2', 'u16'], ['u4', 'u32'], ['u8', 'u64'],
  ['f2', 'f16'], ['f4', 'float32'], ['f8', 'float64'],
]);
// numpy.dtype's one-character codes (numpy/core/src/multiarray/descriptor.c, _convert_from_str) of those types.
// dprint-ignore: a table laid out by hand
const CODES = new Map([
  ['?', 'b1'], ['b', 'i1'], ['B', 'u1'], ['h', 'i2'], ['H', 'u2'], ['i', 'i4'], ['I', 'u4'], ['l', 'i8'], ['L', 'u8'], ['q', 'i8'], ['Q', 'u8'],
  ['p', 'i8'], ['P', 'u8'], ['e', 'f2'], ['f', 'f4'], ['d', 'f8'],
]);
// A one-character descr below \x18 is a type number; these are the codes of types 0 to 23.
const TYPE_NUMBERS = '?bBhHiIlLqQfdgFDGOSUVMme';
// numpy.sctypeDict's names of those types, looked up with no byte order.
const NAMES = new Map(
  Object.entries({
    ...{ bool: 'b1', bool_: 'b1', bool8: 'b1', byte: 'i1', int8: 'i1', ubyte: 'u1', uint8: 'u1', short: 'i2', int16: 'i2', ushort: 'u2' },
    ...{ uint16: 'u2', intc: 'i4', int32: 'i4', uintc: 'u4', uint32: 'u4', int: 'i8', int_: 'i8', int0: 'i8', intp: 'i8', long: 'i8' },
    ...{ longlong: 'i8', int64: 'i8', uint: 'u8', uint0: 'u8', uintp: 'u8', ulong: 'u8', ulonglong: 'u8', uint64: 'u8', half: 'f2' },
    ...{ float16: 'f2', single: 'f4', float32: 'f4', float: 'f8', float_: 'f8', double: 'f8', float64: 'f8' },
  }),
);
// numpy/core/_internal.py's _commastring reads each item of a comma string with this.
const COMMA_ITEM = /([<>|=]?)( *\(?[ ,0-9]*\)? *)([<>|=]?)([A-Za-z0-9.?]*(?:\[[a-zA-Z0-9,.]+\])?)/y;

/** A type read, as a key of DECODED and its byte order. */
export interface NpyType {
  code: string;
  bigEndian: boolean;
}

/** A shape that numpy.dtype((type, shape)) takes as type itself: 1 or (). */
const isUnitShape = (v: PyValue) => v === 1n || (v instanceof PyTuple && v.items.length === 0);

/** The type numpy's descr_to_dtype makes of `descr`, if it is one read here. */
export function typeOfDescr(descr: PyValue): NpyType | undefined {
  if (typeof descr === 'string') return typeOfString(descr);
  if (descr instanceof PyTuple && descr.items.length >= 2 && isUnitShape(descr.items[1])) return typeOfDescr(descr.items[0]);
  return undefined;
}

/** The type numpy.dtype makes of the string `s` (descriptor.c, _convert_from_str), if it is one read here. */
function typeOfString(s: string): NpyType | undefined {
  if (/^[<>|=]?\d/.test(s) || /^\(\)/.test(s) || (s.length > 3 && /^[<>|=]\(\)/.test(s)) || hasTopLevelComma(s)) return typeOfCommaString(s);
  const body = '<>=|'.includes(s[0]) ? s.slice(1) : s;
  // numpy reads the string as UTF-8 bytes, and no multi-byte character makes a type code, kind or name.
  if (body === '' || /[\u0080-\uffff]/.test(s)) return undefined;
  let code: string | undefined;
  if (body.length === 1) {
    code = CODES.get(body.charCodeAt(0) < TYPE_NUMBERS.length ? TYPE_NUMBERS[body.charCodeAt(0)] : body);
  } else {
    // A kind and a size as C's strtol reads it (whitespace and a sign first), saturated to a 64-bit
    // long, then cast to an int: f4294967300 is f4.
    const digits = /^.[\t\n\v\f\r ]*([+-]?\d+)$/s.exec(body)?.[1];
    if (digits !== undefined) {
      const [value, max] = [BigInt(digits), 2n ** 63n - 1n];
      const kindAndSize = body[0] + BigInt.asIntN(32, value > max ? max : value < -max - 1n ? -max - 1n : value);
      if (DECODED.has(kindAndSize)) code = kindAndSize;
    }
  }
  // Names are looked up as written, so a byte order before one (<float32) is not understood.
  code ??= NAMES.get(s);
  return code === undefined ? undefined : { code, bigEndian: s[0] === '>' };
}

/** Whether `s` has a comma outside square brackets (descriptor.c, _check_for_commastring). */
function hasTopLevelComma(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === ',' && depth === 0) return true;
    depth += c === '[' ? 1 : c === ']' ? -1 : 0;
  }
  return false;
}

/**
 * The type of a comma string of one item, as numpy's _commastring splits it: byte orders before
 * and after an optional repeat count, the type, then only a comma or whitespace. A repeat count of 1
 * or () leaves the type as it is; any other count makes a subarray, two items a structured dtype.
 */
function typeOfCommaString(s: string): NpyType | undefined {
  COMMA_ITEM.lastIndex = 0;
  const [item, order1, repeats, order2, type] = COMMA_ITEM.exec(s) as RegExpExecArray;
  if (!/^(?:\s+|\s*,\s*)?$/.test(s.slice(item.length))) return undefined;
  // = is the host's byte order, little-endian; | is none, which only matches itself.
  if (order1 !== '' && order2 !== '' && order1.replace('=', '<') !== order2.replace('=', '<')) return undefined;
  if (repeats !== '') {
    try {
      if (!isUnitShape(parsePyLiteral(tokenize(repeats, false).tokens))) return undefined;
    } catch {
      return undefined;
    }
  }
  return typeOfString(((order1 || order2) === '>' ? '>' : '') + type);
}
