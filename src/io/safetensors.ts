import { check, InputError } from '../errors.js';
import { readInputFile, writeFileAtomic } from './files.js';
import { checkRaw, fromLittleEndian, ITEMSIZE, littleEndianBytes, numel, type RawDtype, type RawTensor } from './raw.js';
import { NARROW_ITEMSIZE, widen, type NarrowType } from './widen.js';

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON describing each tensor, then the tensors' bytes.
 * F32, F64, I64 and BOOL are read and written; F16, BF16 (as float32) and I8, U8, I16, U16, I32, U32
 * (as int64) are read only; U64, the 8-bit floats and anything else are rejected.
 */

const WRITTEN: Readonly<Record<RawDtype, string>> = { float32: 'F32', float64: 'F64', int64: 'I64', bool: 'BOOL' };
const READ_EXACT: Readonly<Record<string, RawDtype>> = { F32: 'float32', F64: 'float64', I64: 'int64', BOOL: 'bool' };
const READ_WIDENED: Readonly<Record<string, NarrowType>> = { F16: 'f16', BF16: 'bf16', I8: 'i8', U8: 'u8', I16: 'i16', U16: 'u16', I32: 'i32', U32: 'u32' };
const METADATA = '__metadata__';

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

/**
 * Decodes a safetensors file held in `buf`, copying every tensor into its own aligned typed array.
 * Any malformation (too short, header length past the end, header not UTF-8 JSON, an unknown
 * dtype, offsets out of range, overlapping, leaving gaps or disagreeing with the shape) throws an
 * InputError whose one-line message starts with `source`.
 */
export function decodeSafetensors(buf: Uint8Array, source: string): Safetensors {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  if (buf.length < 8) throw fail(`not a safetensors file: ${buf.length} bytes, fewer than the 8-byte header length`);
  const headerLength = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(buf.length - 8)) {
    throw fail(`not a safetensors file: header length ${headerLength} is more than the ${buf.length - 8} bytes after it`);
  }
  const dataStart = 8 + Number(headerLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, dataStart));
  } catch {
    throw fail('not a safetensors file: header is not UTF-8');
  }
  if (!text.startsWith('{')) throw fail('not a safetensors file: header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw fail(`safetensors header is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(header)) throw fail('safetensors header is not a JSON object');

  const metadata = header[METADATA] ?? {};
  if (!isObject(metadata) || !Object.values(metadata).every((v) => typeof v === 'string')) {
    throw fail(`safetensors ${METADATA} is not an object of strings`);
  }
  const dataLength = buf.length - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors: [string, RawTensor][] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA) continue;
    const what = `tensor ${JSON.stringify(name)}`;
    if (!isObject(info)) throw fail(`${what} is not described by an object`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string') throw fail(`${what} has no dtype`);
    const exact = READ_EXACT[dtype];
    const narrow = READ_WIDENED[dtype];
    if (exact === undefined && narrow === undefined) throw fail(`${what} has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(`${what} has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw fail(`${what} has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) throw fail(`${what} has data_offsets [${begin}, ${end}] past the ${dataLength}-byte data buffer`);
    const itemsize = exact !== undefined ? ITEMSIZE[exact] : NARROW_ITEMSIZE[narrow];
    const needed = numel(shape) * itemsize;
    if (end - begin !== needed) throw fail(`${what} spans ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${needed}`);
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    if (exact === 'bool' && !bytes.every((v) => v <= 1)) throw fail(`${what} is BOOL but holds a byte other than 0 or 1`);
    const decoded = exact !== undefined ? { dtype: exact, data: fromLittleEndian(bytes, exact) } : widen(bytes, narrow, `${source}: ${what}`);
    spans.push({ name, begin, end });
    tensors.push([name, { ...decoded, shape: [...shape] }]);
  }
  // Like the reference implementation, require the tensors to tile the data buffer exactly.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last = '';
  for (const span of spans) {
    if (span.begin < covered) throw fail(`tensors ${JSON.stringify(last)} and ${JSON.stringify(span.name)} overlap`);
    if (span.begin > covered) throw fail(`bytes ${covered}..${span.begin} of the data buffer belong to no tensor`);
    covered = span.end;
    last = span.name;
  }
  if (covered !== dataLength) throw fail(`${dataLength - covered} bytes after the last tensor belong to no tensor`);
  // fromEntries defines own properties, so even a tensor named "__proto__" is kept as data.
  return { tensors: Object.fromEntries(tensors), metadata: { ...metadata } as Record<string, string> };
}

/** Reads and decodes the safetensors file at `path` (see decodeSafetensors); errors name the path. */
export function readSafetensors(path: string): Safetensors {
  return decodeSafetensors(readInputFile(path), path);
}

/** Encodes `entries` (see encodeSafetensors) and writes them to `path` atomically. */
export function writeSafetensors(path: string, entries: Record<string, RawTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(entries, metadata));
}
