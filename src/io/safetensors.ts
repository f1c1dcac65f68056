import { visit } from 'jsonc-parser';
import { check, InputError, warn } from '../errors.js';
import { readInputFile, writeFileAtomic } from './files.js';
import { float8ToFloat32, type Float8 } from './float8.js';
import { checkRaw, fromLittleEndian, ITEMSIZE, littleEndianBytes, type RawDtype, type RawTensor } from './raw.js';
import { NARROW_ITEMSIZE, widen, type NarrowType } from './widen.js';

/**
 * The safetensors format (https://github.com/huggingface/safetensors#format): an 8-byte little-endian
 * header length N, N bytes of UTF-8 JSON describing each tensor, then the byte buffer the tensors tile.
 * F32, F64, I64 and BOOL are written; every dtype of the spec that is a real number is read (see READERS).
 */

const WRITTEN: Readonly<Record<RawDtype, string>> = { float32: 'F32', float64: 'F64', int64: 'I64', bool: 'BOOL' };
const METADATA = '__metadata__';
/** The reference implementation's MAX_HEADER_SIZE: a longer header is refused before it is read. */
const MAX_HEADER_LENGTH = 100_000_000;
/** The reference counts bytes and bits in a 64-bit usize; a shape whose size overflows it is invalid. */
const USIZE_LIMIT = 2n ** 64n;

/** How a dtype's bytes become a RawTensor's: the bytes per element, and a decoder whose errors and warnings name `what`. */
interface DtypeReader {
  itemsize: number;
  read(bytes: Uint8Array, what: string): Pick<RawTensor, 'dtype' | 'data'>;
}

const exact = (dtype: RawDtype): DtypeReader => ({ itemsize: ITEMSIZE[dtype], read: (bytes) => ({ dtype, data: fromLittleEndian(bytes, dtype) }) });
const widened = (type: NarrowType): DtypeReader => ({ itemsize: NARROW_ITEMSIZE[type], read: (bytes, what) => widen(bytes, type, what) });
const float8 = (format: Float8): DtypeReader => ({ itemsize: 1, read: (bytes) => ({ dtype: 'float32', data: float8ToFloat32(bytes, format) }) });

/**
 * BOOL is one byte per element. Neither the reference nor PyTorch checks the bytes: safetensors.torch.load
 * makes the tensor with torch.frombuffer, and PyTorch then treats any nonzero byte as true. So do we, with a
 * warning, since a byte other than 0 or 1 suggests bytes of another dtype labelled BOOL.
 */
const bool: DtypeReader = {
  itemsize: 1,
  read(bytes, what) {
    const first = bytes.findIndex((b) => b > 1);
    if (first >= 0) {
      const odd = bytes.filter((b) => b > 1).length;
      warn(`${what}: ${odd} BOOL byte(s) other than 0 or 1, the first ${bytes[first]} at index ${first}, read as true as PyTorch reads them`);
    }
    return { dtype: 'bool', data: Uint8Array.from(bytes, (b) => (b === 0 ? 0 : 1)) };
  },
};

/**
 * The dtypes read, in the reference's order: integers to int64 (U64 only when every value is below 2^63),
 * 8- and 16-bit floats to float32, the rest as they are. The reference's newer F8_E8M0, F8_E4M3FNUZ,
 * F8_E5M2FNUZ, its sub-byte F4, F6_E2M3, F6_E3M2 and its complex C64 are rejected by name, as is any other.
 * A Map, so that a dtype named like an Object.prototype property ("constructor") is not found.
 */
// dprint-ignore: a table laid out by hand
const READERS: ReadonlyMap<string, DtypeReader> = new Map([
  ['BOOL', bool], ['U8', widened('u8')], ['I8', widened('i8')], ['F8_E5M2', float8('e5m2')], ['F8_E4M3', float8('e4m3')],
  ['I16', widened('i16')], ['U16', widened('u16')], ['F16', widened('f16')], ['BF16', widened('bf16')], ['I32', widened('i32')],
  ['U32', widened('u32')], ['F32', exact('float32')], ['F64', exact('float64')], ['I64', exact('int64')], ['U64', widened('u64')],
]);

/** A decoded safetensors file: its tensors by name and its `__metadata__` string map. */
export interface Safetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

/**
 * Encodes `entries` as a safetensors file: tensors contiguous in sorted-name order, the header
 * padded with spaces so the data starts at a multiple of 8 bytes. Throws InputError for an
 * inconsistent tensor or a tensor named `__metadata__`.
 */
export function encodeSafetensors(entries: Record<string, RawTensor>, metadata?: Record<string, string>): Buffer {
  const names = Object.keys(entries).sort();
  check(!names.includes(METADATA), `a tensor cannot be named ${METADATA}`);
  // The header is assembled by hand: JSON.stringify on an object would move integer-like names first.
  const fields: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) check(typeof value === 'string', () => `metadata ${JSON.stringify(key)} is not a string`);
    fields.push(`${JSON.stringify(METADATA)}:${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const name of names) {
    const raw = entries[name];
    checkRaw(raw, `tensor ${JSON.stringify(name)}`);
    const end = offset + raw.data.byteLength;
    fields.push(`${JSON.stringify(name)}:{"dtype":"${WRITTEN[raw.dtype]}","shape":[${raw.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const header = Buffer.from(`{${fields.join(',')}}`, 'utf8');
  const padded = Math.ceil(header.length / 8) * 8;
  const out = Buffer.alloc(8 + padded + offset, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  header.copy(out, 8);
  let at = 8 + padded;
  for (const name of names) {
    const bytes = littleEndianBytes(entries[name].data);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a JSON value is, for messages that should not quote a value of any length. */
function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The first breach, as a message, of two rules JSON.parse cannot see in the header `text`: a key twice
 * in one object (JSON.parse keeps the last silently; the spec disallows them), and a shape or offset
 * written as a non-integer literal such as 16.0 (JSON.parse makes it 16; the reference, reading
 * usize, refuses it).
 */
function syntaxBreach(text: string): string | undefined {
  const open: Set<string>[] = [];
  let found: string | undefined;
  const where = (path: (string | number)[]) =>
    path.length === 0
      ? 'the header'
      : path.length > 1
      ? `the header at ${JSON.stringify(path)}`
      : path[0] === METADATA
      ? METADATA
      : `tensor ${JSON.stringify(path[0])}`;
  visit(text, {
    onObjectBegin: () => void open.push(new Set()),
    onObjectEnd: () => void open.pop(),
    onObjectProperty: (key, _offset, _length, _line, _column, pathOf) => {
      const keys = open[open.length - 1];
      if (found === undefined && keys.has(key)) found = `key ${JSON.stringify(key)} occurs twice in ${where(pathOf())}`;
      keys.add(key);
    },
    onLiteralValue: (value, offset, length, _line, _column, pathOf) => {
      const path = pathOf();
      const literal = text.slice(offset, offset + length);
      if (found === undefined && typeof value === 'number' && (path[1] === 'shape' || path[1] === 'data_offsets') && /[.eE]/.test(literal)) {
        found = `tensor ${JSON.stringify(path[0])} has ${literal} in its ${path[1]}, not an integer literal`;
      }
    },
  });
  return found;
}

type Fail = (problem: string) => InputError;

/** The header object and the offset of the byte buffer in `buf`; breaking a rule of the header throws `fail(…)`. */
function readHeader(buf: Uint8Array, fail: Fail): { header: Record<string, unknown>; dataStart: number } {
  if (buf.length < 8) throw fail(`not a safetensors file: ${buf.length} bytes, fewer than the 8-byte header length`);
  const length = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_LENGTH)) throw fail(`not a safetensors file: header length ${length} is over the limit of ${MAX_HEADER_LENGTH} bytes`);
  if (length > BigInt(buf.length - 8)) throw fail(`not a safetensors file: header length ${length} is more than the ${buf.length - 8} bytes after it`);
  const dataStart = 8 + Number(length);
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, so that it fails the "{" rule instead of vanishing.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(8, dataStart));
  } catch {
    throw fail('not a safetensors file: header is not UTF-8');
  }
  // A JSON text that starts with "{" is an object, so this also rules out arrays, strings, numbers and null.
  if (!text.startsWith('{')) throw fail('not a safetensors file: header does not start with "{"');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text);
  } catch (err) {
    // V8 may quote the text around the error, which can hold a newline.
    throw fail(`safetensors header is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`);
  }
  const breach = syntaxBreach(text);
  if (breach !== undefined) throw fail(`safetensors header: ${breach}`);
  return { header, dataStart };
}

/** The `__metadata__` map of `header` ({} when absent); anything but an object of strings throws `fail(…)`. */
function readMetadata(header: Record<string, unknown>, fail: Fail): Record<string, string> {
  if (!Object.hasOwn(header, METADATA)) return {};
  const metadata = header[METADATA];
  if (!isObject(metadata)) throw fail(`safetensors ${METADATA} is ${kind(metadata)}, not an object of strings`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw fail(`safetensors ${METADATA} entry ${JSON.stringify(key)} is ${kind(value)}, not a string`);
  }
  return { ...metadata } as Record<string, string>;
}

/** A tensor's validated description: its bytes are data[begin, end) of the byte buffer. */
interface Described {
  name: string;
  reader: DtypeReader;
  shape: number[];
  begin: number;
  end: number;
}

/** Bytes of `shape` at `itemsize`, or undefined where the reference's 64-bit count of elements or of bits overflows. */
function byteSize(shape: readonly number[], itemsize: number): bigint | undefined {
  let elements = 1n;
  for (const d of shape) {
    elements *= BigInt(d);
    if (elements >= USIZE_LIMIT) return undefined;
  }
  return elements * BigInt(8 * itemsize) < USIZE_LIMIT ? elements * BigInt(itemsize) : undefined;
}

const isSize = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Checks the description `info` of tensor `name` in a `dataLength`-byte buffer; breaking a rule throws `fail(…)`. */
function describe(name: string, info: unknown, dataLength: number, fail: Fail): Described {
  const what = `tensor ${JSON.stringify(name)}`;
  if (!isObject(info)) throw fail(`${what} is described by ${kind(info)}, not an object`);
  for (const key of ['dtype', 'shape', 'data_offsets']) if (!Object.hasOwn(info, key)) throw fail(`${what} has no ${key}`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') throw fail(`${what} has dtype ${kind(dtype)}, not a string`);
  const reader = READERS.get(dtype);
  if (reader === undefined) throw fail(`${what} has dtype ${JSON.stringify(dtype)}, not one of ${[...READERS.keys()].join(', ')}`);
  if (!Array.isArray(shape) || !shape.every(isSize)) throw fail(`${what} has shape ${JSON.stringify(shape)}, not a list of integers from 0 to 2^53 - 1`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize) || offsets[0] > offsets[1]) {
    throw fail(`${what} has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with integers 0 <= begin <= end < 2^53`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) throw fail(`${what} has data_offsets [${begin}, ${end}] past the ${dataLength}-byte data buffer`);
  const needed = byteSize(shape, reader.itemsize);
  if (needed === undefined) throw fail(`${what}: the size of shape [${shape}] of ${dtype} overflows 64 bits`);
  if (BigInt(end - begin) !== needed) throw fail(`${what} spans ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${needed}`);
  return { name, reader, shape, begin, end };
}

/** Checks that the tensors tile the `dataLength`-byte buffer, taken in the reference's order (by offsets); a violation throws `fail(…)`. */
function checkTiling(tensors: readonly Described[], dataLength: number, fail: Fail): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last = '';
  for (const { name, begin, end } of sorted) {
    if (begin < covered) throw fail(`tensors ${JSON.stringify(last)} and ${JSON.stringify(name)} overlap`);
    if (begin > covered) throw fail(`bytes ${covered}..${begin} of the data buffer, before tensor ${JSON.stringify(name)}, belong to no tensor`);
    covered = end;
    last = name;
  }
  if (covered < dataLength) throw fail(`bytes ${covered}..${dataLength} at the end of the data buffer belong to no tensor`);
}

/**
 * Decodes a safetensors file held in `buf`, copying every tensor into its own aligned typed array.
 * Every rule of the spec and of the reference implementation (safetensors/src/tensor.rs, read_metadata
 * and Metadata::validate) is checked before any tensor is decoded; each broken rule is an InputError
 * whose one-line message starts with `source`. The rules, with the reference's error for each:
 * - at least 8 bytes (HeaderTooSmall); a header length N of at most 100,000,000 (HeaderTooLarge), checked
 *   first, and at most the bytes after it (InvalidHeaderLength);
 * - the header UTF-8 (InvalidHeader), starting with "{" (the spec; the reference's InvalidHeaderStart, since
 *   dropped), strict JSON that may be padded with whitespace at the end (InvalidHeaderDeserialization), no
 *   key twice in one object (the spec's rule, which JSON.parse alone would not enforce);
 * - `__metadata__` absent or an object of strings, and each tensor an object with a known dtype, a shape of
 *   sizes and data_offsets [begin, end] (all InvalidHeaderDeserialization in serde); begin <= end and no
 *   overlap or gap between tensors (InvalidOffset); a size that fits 64 bits (ValidationOverflow) and equals
 *   end - begin (TensorInvalidInfo); no offset past the buffer and no byte after the last tensor
 *   (MetadataIncompleteBuffer).
 * Values are read as they are except U64 (an InputError naming the index of a value of 2^63 or more) and
 * BOOL (a byte other than 0 or 1 is true, with a warning).
 */
export function decodeSafetensors(buf: Uint8Array, source: string): Safetensors {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  const { header, dataStart } = readHeader(buf, fail);
  const metadata = readMetadata(header, fail);
  const dataLength = buf.length - dataStart;
  const described = Object.entries(header).filter(([name]) => name !== METADATA).map(([name, info]) => describe(name, info, dataLength, fail));
  checkTiling(described, dataLength, fail);
  const tensors = described.map(({ name, reader, shape, begin, end }): [string, RawTensor] => {
    const read = reader.read(buf.subarray(dataStart + begin, dataStart + end), `${source}: tensor ${JSON.stringify(name)}`);
    return [name, { ...read, shape: [...shape] }];
  });
  // fromEntries defines own properties, so even a tensor named "__proto__" is kept as data.
  return { tensors: Object.fromEntries(tensors), metadata };
}

/** Reads and decodes the safetensors file at `path` (see decodeSafetensors); errors name the path. */
export function readSafetensors(path: string): Safetensors {
  return decodeSafetensors(readInputFile(path), path);
}

/** Encodes `entries` (see encodeSafetensors) and writes them to `path` atomically. */
export function writeSafetensors(path: string, entries: Record<string, RawTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(entries, metadata));
}
