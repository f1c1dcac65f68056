import { InputError } from '../errors.js';
import { readInputFile, writeFileAtomic } from '../io/files.js';
import { checkRaw, fromLittleEndian, ITEMSIZE, littleEndianBytes, numel, type RawDtype, type RawTensor } from '../io/raw.js';
import { NARROW_ITEMSIZE, widen, type NarrowType } from '../io/widen.js';

/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
 * versions 1.0, 2.0 and 3.0, C order only. <f4, <f8, <i8 and |b1 are read and written; <f2 (as
 * float32) and |i1, |u1, <i2, <u2, <i4, <u4 (as int64) are read only.
 */

const MAGIC = '\x93NUMPY';
const WRITTEN: Readonly<Record<RawDtype, string>> = { float32: '<f4', float64: '<f8', int64: '<i8', bool: '|b1' };
const READ_EXACT: Readonly<Record<string, RawDtype>> = { '<f4': 'float32', '<f8': 'float64', '<i8': 'int64', '|b1': 'bool' };
const READ_WIDENED: Readonly<Record<string, NarrowType>> = { '<f2': 'f16', '|i1': 'i8', '|u1': 'u8', '<i2': 'i16', '<u2': 'u16', '<i4': 'i32', '<u4': 'u32' };
// numpy pads the header so the data starts on a 64-byte boundary, and leaves room for the first
// axis to grow to 21 digits so the file can be appended to in place; matching it byte for byte
// means files written here are identical to np.save's.
const ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

const TOKEN = /\s*(?:([{}()[\]:,])|'([^'\\]*)'|"([^"\\]*)"|(-?\d+)|(True|False|None))/y;

/** Parses the Python literal subset numpy writes in headers: dicts, tuples, lists, strings, ints, True/False/None. */
function parsePyLiteral(text: string): PyValue {
  const tokens: { punct?: string; value?: PyValue }[] = [];
  const end = text.trimEnd().length;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < end) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`unexpected text at character ${at}`);
    if (m[1] !== undefined) tokens.push({ punct: m[1] });
    else if (m[2] !== undefined || m[3] !== undefined) tokens.push({ value: m[2] ?? m[3] });
    else if (m[4] !== undefined) tokens.push({ value: Number(m[4]) });
    else tokens.push({ value: m[5] === 'True' ? true : m[5] === 'False' ? false : null });
  }
  let i = 0;
  const expect = (punct: string) => {
    if (tokens[i]?.punct !== punct) throw new Error(`expected "${punct}"`);
    i++;
  };
  const value = (): PyValue => {
    const token = tokens[i++];
    if (token === undefined) throw new Error('unexpected end');
    if (token.punct === undefined) return token.value as PyValue;
    const close = { '{': '}', '(': ')', '[': ']' }[token.punct];
    if (close === undefined) throw new Error(`unexpected "${token.punct}"`);
    const items: PyValue[] = [];
    const map = new Map<string, PyValue>();
    while (tokens[i]?.punct !== close) {
      const item = value();
      if (close === '}') {
        if (typeof item !== 'string') throw new Error('a dict key is not a string');
        expect(':');
        map.set(item, value());
      } else items.push(item);
      if (tokens[i]?.punct !== close) expect(',');
    }
    i++;
    return close === '}' ? map : items;
  };
  const result = value();
  if (i !== tokens.length) throw new Error('text after the end of the literal');
  return result;
}

/**
 * Decodes a .npy file held in `buf` into a RawTensor (narrow types widened, see the module note).
 * A bad magic, unsupported version, malformed header, unsupported dtype, Fortran order, or data
 * size that disagrees with the shape throws an InputError whose message starts with `source`.
 */
export function decodeNpy(buf: Uint8Array, source: string): RawTensor {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  if (buf.length < 10 || Buffer.from(buf.subarray(0, 6)).toString('latin1') !== MAGIC) throw fail('not a NPY file (no \\x93NUMPY magic)');
  const [major, minor] = [buf[6], buf[7]];
  if (major < 1 || major > 3 || minor !== 0) throw fail(`unsupported NPY format version ${major}.${minor}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (major > 1 && buf.length < 12) throw fail('NPY file ends inside its header length');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > buf.length) throw fail(`NPY header length ${headerLength} runs past the end of the ${buf.length}-byte file`);

  let header: PyValue;
  try {
    const bytes = buf.subarray(headerStart, dataStart);
    header = parsePyLiteral(major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(bytes) : Buffer.from(bytes).toString('latin1'));
  } catch (err) {
    throw fail(`malformed NPY header: ${(err as Error).message}`);
  }
  if (!(header instanceof Map) || header.size !== 3 || !['descr', 'fortran_order', 'shape'].every((k) => header.has(k))) {
    throw fail('malformed NPY header: not a dict of exactly descr, fortran_order and shape');
  }
  const descr = header.get('descr');
  const shape = header.get('shape');
  if (typeof descr !== 'string') throw fail('NPY structured dtypes are not supported');
  const exact = READ_EXACT[descr];
  const narrow = READ_WIDENED[descr];
  if (exact === undefined && narrow === undefined) throw fail(`unsupported NPY dtype ${JSON.stringify(descr)}`);
  const fortran = header.get('fortran_order');
  if (fortran === true) throw fail('NPY array is in Fortran order; save it in C order (np.ascontiguousarray)');
  if (fortran !== false) throw fail('malformed NPY header: fortran_order is not True or False');
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw fail('malformed NPY header: shape is not a tuple of non-negative integers');
  }
  const needed = numel(shape) * (exact !== undefined ? ITEMSIZE[exact] : NARROW_ITEMSIZE[narrow]);
  const bytes = buf.subarray(dataStart);
  if (bytes.length !== needed) throw fail(`NPY data is ${bytes.length} bytes but shape (${shape.join(', ')}) of ${descr} needs ${needed}`);
  if (exact === 'bool' && !bytes.every((v) => v <= 1)) throw fail('NPY bool array holds a byte other than 0 or 1');
  const decoded = exact !== undefined ? { dtype: exact, data: fromLittleEndian(bytes, exact) } : widen(bytes, narrow, source);
  return { ...decoded, shape };
}

/** Encodes `raw` as a .npy file byte-identical to what numpy's np.save writes for the same array. */
export function encodeNpy(raw: RawTensor): Buffer {
  checkRaw(raw, 'NPY array');
  const { shape } = raw;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const growth = shape.length > 0 ? ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length) : '';
  const dict = Buffer.from(`{'descr': '${WRITTEN[raw.dtype]}', 'fortran_order': False, 'shape': ${tuple}, }${growth}`, 'latin1');
  // Version 1.0 stores the header length in 2 bytes; longer headers need version 2.0's 4 bytes.
  let prefix = 10;
  let padding = ALIGN - ((prefix + dict.length + 1) % ALIGN);
  if (dict.length + 1 + padding > 0xffff) {
    prefix = 12;
    padding = ALIGN - ((prefix + dict.length + 1) % ALIGN);
  }
  const headerLength = dict.length + padding + 1;
  const data = littleEndianBytes(raw.data);
  const out = Buffer.alloc(prefix + headerLength + data.length, 0x20);
  out.write(MAGIC, 0, 'latin1');
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  if (prefix === 10) out.writeUInt16LE(headerLength, 8);
  else out.writeUInt32LE(headerLength, 8);
  dict.copy(out, prefix);
  out[prefix + headerLength - 1] = 0x0a;
  out.set(data, prefix + headerLength);
  return out;
}

/** Reads and decodes the .npy file at `path` (see decodeNpy); errors name the path. */
export function readNpy(path: string): RawTensor {
  return decodeNpy(readInputFile(path), path);
}

/** Encodes `raw` as .npy (see encodeNpy) and writes it to `path` atomically. */
export function writeNpy(path: string, raw: RawTensor): void {
  writeFileAtomic(path, encodeNpy(raw));
}
