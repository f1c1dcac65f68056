import { InputError, warn } from '../errors.js';
import { readInputFile, writeFileAtomic } from '../io/files.js';
import { checkRaw, fromLittleEndian, littleEndianBytes, type RawDtype, type RawTensor } from '../io/raw.js';
import { widen, type NarrowType } from '../io/widen.js';
import { DECODED, typeOfDescr } from './npy-descr.js';
import { parsePyLiteral, pyRepr, PyTuple, tokenize, type PyValue } from './py-literal.js';

/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), read
 * the way numpy 1.24's numpy.load reads it (numpy/lib/format.py: read_array, _read_array_header,
 * _filter_header, descr_to_dtype) and written the way np.save writes it.
 *
 * Layout: the magic \x93NUMPY, the version bytes 1 0, 2 0 or 3 0, the header length (2 bytes
 * little-endian in 1.0, 4 in 2.0 and 3.0), the header (latin1 in 1.0 and 2.0, UTF-8 in 3.0), then the
 * array's bytes.
 *
 * Header: a Python literal (py-literal.ts). In 1.0 and 2.0 a name L after a number (Python 2's long,
 * as in (6L, 2L)) is dropped, as numpy's _filter_header drops it, with a warning. It must be a dict
 * of exactly descr (a dtype descriptor, npy-descr.ts), fortran_order (True or False) and shape (a
 * tuple of integers, here also non-negative and below 2^53: numpy.load reads a negative dimension only
 * from a path, by way of np.fromfile, and rejects it from a stream), of at most numpy.load's 10000
 * characters.
 *
 * Values: bool (any byte but 0 is True), int64, float32 and float64 as they are; int8–int32,
 * uint8–uint32 and uint64 widened to int64 (a uint64 of 2^63 or more is an InputError naming its
 * index), float16 to float32; big-endian data in host order; Fortran-order data in C order. Bytes
 * after the data are ignored, as numpy.load ignores them, with a warning. Complex, longdouble,
 * datetime, timedelta, string, object, void, structured and subarray dtypes are rejected. Every
 * error is an InputError whose message starts with the file name.
 *
 * Written: <f4, <f8, <i8 and |b1 in C order, byte-identical to np.save.
 */

const MAGIC = '\x93NUMPY';
const WRITTEN: Readonly<Record<RawDtype, string>> = { float32: '<f4', float64: '<f8', int64: '<i8', bool: '|b1' };
// numpy pads the header so the data starts on a 64-byte boundary, and leaves room for the first
// axis to grow to 21 digits so the file can be appended to in place; matching it byte for byte
// means files written here are identical to np.save's.
const ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;
// numpy.load refuses longer headers unless allow_pickle=True, since literal_eval is slow on them.
const MAX_HEADER_CHARS = 10000;

/**
 * Parses and checks a header as numpy's _read_array_header does, naming `source` in its errors:
 * the decoded text, the literal (Python 2 longs dropped in 1.0 and 2.0, see tokenize), its keys,
 * shape and fortran_order. Returns them with the descr, and whether longs were dropped.
 */
function readHeader(bytes: Uint8Array, major: number, source: string) {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, as Python's decode does (and literal_eval then rejects it).
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) : Buffer.from(bytes).toString('latin1');
  } catch {
    throw fail('NPY 3.0 header is not UTF-8');
  }
  const chars = [...text].length;
  if (chars > MAX_HEADER_CHARS) throw fail(`NPY header is ${chars} characters, more than the ${MAX_HEADER_CHARS} numpy.load reads`);
  let header: PyValue;
  let droppedLongs: boolean;
  try {
    const tokenized = tokenize(text, major <= 2);
    droppedLongs = tokenized.droppedLongs;
    header = parsePyLiteral(tokenized.tokens);
  } catch (err) {
    throw fail(`malformed NPY header: ${(err as Error).message}`);
  }
  if (!(header instanceof Map)) throw fail(`malformed NPY header: ${pyRepr(header)} is not a dict`);
  const keys = [...header.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    throw fail(`malformed NPY header: keys ${keys.map(pyRepr).join(', ')} are not descr, fortran_order and shape`);
  }
  const [descr, fortranOrder, shape] = ['descr', 'fortran_order', 'shape'].map((key) => header.get(key) as PyValue);
  if (!(shape instanceof PyTuple && shape.items.every((d) => typeof d === 'bigint'))) {
    throw fail(`malformed NPY header: shape ${pyRepr(shape)} is not a tuple of integers`);
  }
  if (typeof fortranOrder !== 'boolean') throw fail(`malformed NPY header: fortran_order ${pyRepr(fortranOrder)} is not True or False`);
  const dims = shape.items as bigint[];
  if (dims.some((d) => d < 0n)) throw fail(`NPY shape ${pyRepr(shape)} has a negative dimension`);
  if (dims.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER))) throw fail(`NPY shape ${pyRepr(shape)} has a dimension above 2^53 - 1`);
  return { descr, fortranOrder, shape: dims, droppedLongs };
}

/** Reverses the bytes of each `itemsize`-byte element: big-endian to little-endian. */
function swapBytes(bytes: Uint8Array, itemsize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += itemsize) for (let j = 0; j < itemsize; j++) out[i + j] = bytes[i + itemsize - 1 - j];
  return out;
}

/** Reorders the `itemsize`-byte elements of an array of `shape` from Fortran order (first axis fastest) to C order. */
function fortranToC(bytes: Uint8Array, shape: number[], itemsize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  // Walk the C-order index like an odometer, moving `from` by the Fortran strides.
  const strides = shape.map((_, axis) => shape.slice(0, axis).reduce((a, b) => a * b, itemsize));
  const index = shape.map(() => 0);
  let from = 0;
  for (let to = 0; to < bytes.length; to += itemsize) {
    for (let j = 0; j < itemsize; j++) out[to + j] = bytes[from + j];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      from += strides[axis];
      if (++index[axis] < shape[axis]) break;
      from -= strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

/**
 * Decodes a .npy file held in `buf` into a RawTensor, as the module note describes. A bad magic or
 * version, a malformed header, a dtype not read here, too few data bytes or a uint64 above int64
 * throws an InputError whose one-line message starts with `source`; a Python 2 header and bytes after
 * the data are warned about, naming `source`.
 */
export function decodeNpy(buf: Uint8Array, source: string): RawTensor {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  if (buf.length < 8 || Buffer.from(buf.subarray(0, 6)).toString('latin1') !== MAGIC) {
    // np.savez writes a zip of .npy files, which np.load also opens; say so rather than "no magic".
    if (Buffer.from(buf.subarray(0, 4)).toString('latin1') === 'PK\x03\x04')
      throw fail('an .npz archive (np.savez), not a .npy file; save the one array with np.save');
    throw fail('not a NPY file (no \\x93NUMPY magic)');
  }
  const [major, minor] = [buf[6], buf[7]];
  if (major < 1 || major > 3 || minor !== 0) throw fail(`unsupported NPY format version ${major}.${minor}`);
  const headerStart = major === 1 ? 10 : 12;
  if (buf.length < headerStart) throw fail('NPY file ends inside its header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > buf.length) throw fail(`NPY header length ${headerLength} runs past the end of the ${buf.length}-byte file`);
  const { descr, fortranOrder, shape, droppedLongs } = readHeader(buf.subarray(headerStart, dataStart), major, source);

  const type = typeOfDescr(descr);
  if (type === undefined) {
    const what = pyRepr(descr);
    if (Array.isArray(descr)) throw fail(`unsupported NPY dtype ${what}: structured dtypes are not read`);
    if (descr instanceof PyTuple) throw fail(`unsupported NPY dtype ${what}: subarray dtypes are not read`);
    if (typeof descr !== 'string') throw fail(`malformed NPY header: descr ${what} is not a dtype`);
    throw fail(`unsupported NPY dtype ${what}: only bool, int8-int64, uint8-uint64 and float16/32/64 are read`);
  }
  const itemsize = Number(type.code.slice(1));
  const dtype = `${itemsize === 1 ? '|' : type.bigEndian ? '>' : '<'}${type.code}`;
  const dims = shape.map(Number);
  const needed = shape.reduce((a, b) => a * b, 1n) * BigInt(itemsize);
  const available = buf.length - dataStart;
  if (BigInt(available) < needed) throw fail(`NPY data is ${available} bytes but shape ${pyRepr(new PyTuple(shape))} of ${dtype} needs ${needed}`);
  let bytes = buf.subarray(dataStart, dataStart + Number(needed));
  if (type.bigEndian && itemsize > 1) bytes = swapBytes(bytes, itemsize);
  if (fortranOrder && dims.length > 1) bytes = fortranToC(bytes, dims, itemsize);
  const decoded = DECODED.get(type.code) as RawDtype | NarrowType;
  const raw: RawTensor = decoded === 'bool'
    ? { dtype: 'bool', shape: dims, data: Uint8Array.from(bytes, (v) => (v === 0 ? 0 : 1)) }
    : decoded === 'float32' || decoded === 'float64' || decoded === 'int64'
    ? { dtype: decoded, shape: dims, data: fromLittleEndian(bytes, decoded) }
    : { ...widen(bytes, decoded, source), shape: dims };
  if (droppedLongs) warn(`${source}: NPY header written by Python 2 (longs such as 6L); read as numpy reads it, without the L`);
  if (BigInt(available) > needed) warn(`${source}: ignored ${available - Number(needed)} bytes after the NPY data, as numpy.load does`);
  return raw;
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

/** Reads and decodes the .npy file at `path` (see decodeNpy); errors and warnings name the path. */
export function readNpy(path: string): RawTensor {
  return decodeNpy(readInputFile(path), path);
}

/** Encodes `raw` as .npy (see encodeNpy) and writes it to `path` atomically. */
export function writeNpy(path: string, raw: RawTensor): void {
  writeFileAtomic(path, encodeNpy(raw));
}
