/**
 * NIfTI-1 single files (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h), plain or
 * gzipped, read in either byte order and written little-endian.
 *
 * Layout: a 348-byte header, 4 extension-flag bytes, data from vox_offset in x-fastest order
 * (index = x + X·(y + Y·z)). As a C-order tensor that is [Z, Y, X], so `volumeTensor` gives
 * [D, H, W] = [z, y, x] (more dims in front for 4-D files), and the last coordinate of a
 * gridSample grid runs along NIfTI's x. Stored values v mean scl_slope·v + scl_inter when
 * scl_slope ≠ 0. The orientation: sform when sform_code > 0, else the qform quaternion, else the
 * voxel sizes alone (nifti1.h methods 3, 2, 1).
 */
import { gzipSync } from 'node:zlib';
import { InputError, check } from '../errors.js';
import { gunzipIfGzipped, readInputFile, writeFileAtomic } from '../io/files.js';
import { numel } from '../io/raw.js';
import { scope, tensor, type Tensor } from '../engine/index.js';

export type NiftiData = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** The header fields dltheory reads and writes, under nifti1.h's (and nibabel's) names. */
export interface NiftiHeader {
  /** dim[0] = number of dimensions, dim[1..] their sizes (x, y, z, t, …); 8 entries. */
  dim: number[];
  /** pixdim[0] = qfac (±1), pixdim[1..] voxel sizes; 8 entries. */
  pixdim: number[];
  datatype: number;
  bitpix: number;
  vox_offset: number;
  scl_slope: number;
  scl_inter: number;
  dim_info: number;
  intent_p1: number;
  intent_p2: number;
  intent_p3: number;
  intent_code: number;
  slice_start: number;
  slice_end: number;
  slice_code: number;
  xyzt_units: number;
  cal_max: number;
  cal_min: number;
  slice_duration: number;
  toffset: number;
  qform_code: number;
  sform_code: number;
  quatern_b: number;
  quatern_c: number;
  quatern_d: number;
  qoffset_x: number;
  qoffset_y: number;
  qoffset_z: number;
  srow_x: number[];
  srow_y: number[];
  srow_z: number[];
  descrip: string;
  aux_file: string;
  intent_name: string;
}

/** A NIfTI image: its header and its values in the file's x-fastest order. */
export interface Volume {
  header: NiftiHeader;
  data: NiftiData;
}

type Kind = 'u8' | 'i16' | 'i32' | 'f32';
type NumberField = Exclude<keyof NiftiHeader, 'dim' | 'pixdim' | 'srow_x' | 'srow_y' | 'srow_z' | 'descrip' | 'aux_file' | 'intent_name'>;
const NUMBERS: readonly [NumberField, number, Kind][] = [
  ['dim_info', 39, 'u8'], ['intent_p1', 56, 'f32'], ['intent_p2', 60, 'f32'], ['intent_p3', 64, 'f32'],
  ['intent_code', 68, 'i16'], ['datatype', 70, 'i16'], ['bitpix', 72, 'i16'], ['slice_start', 74, 'i16'],
  ['vox_offset', 108, 'f32'], ['scl_slope', 112, 'f32'], ['scl_inter', 116, 'f32'], ['slice_end', 120, 'i16'],
  ['slice_code', 122, 'u8'], ['xyzt_units', 123, 'u8'], ['cal_max', 124, 'f32'], ['cal_min', 128, 'f32'],
  ['slice_duration', 132, 'f32'], ['toffset', 136, 'f32'], ['qform_code', 252, 'i16'], ['sform_code', 254, 'i16'],
  ['quatern_b', 256, 'f32'], ['quatern_c', 260, 'f32'], ['quatern_d', 264, 'f32'],
  ['qoffset_x', 268, 'f32'], ['qoffset_y', 272, 'f32'], ['qoffset_z', 276, 'f32'],
];
const ARRAYS: readonly ['dim' | 'pixdim' | 'srow_x' | 'srow_y' | 'srow_z', number, Kind, number][] = [
  ['dim', 40, 'i16', 8], ['pixdim', 76, 'f32', 8], ['srow_x', 280, 'f32', 4], ['srow_y', 296, 'f32', 4], ['srow_z', 312, 'f32', 4],
];
const STRINGS: readonly ['descrip' | 'aux_file' | 'intent_name', number, number][] = [['descrip', 148, 80], ['aux_file', 228, 24], ['intent_name', 328, 16]];
const SIZE: Readonly<Record<Kind, number>> = { u8: 1, i16: 2, i32: 4, f32: 4 };

const HEADER_BYTES = 348;
/** The header plus the 4-byte extension flag (all zero: no extensions). */
const DATA_START = 352;

const DATATYPES = {
  2: { name: 'uint8', bitpix: 8, array: Uint8Array, get: (v: DataView, o: number) => v.getUint8(o) },
  4: { name: 'int16', bitpix: 16, array: Int16Array, get: (v: DataView, o: number, le: boolean) => v.getInt16(o, le) },
  8: { name: 'int32', bitpix: 32, array: Int32Array, get: (v: DataView, o: number, le: boolean) => v.getInt32(o, le) },
  16: { name: 'float32', bitpix: 32, array: Float32Array, get: (v: DataView, o: number, le: boolean) => v.getFloat32(o, le) },
  64: { name: 'float64', bitpix: 64, array: Float64Array, get: (v: DataView, o: number, le: boolean) => v.getFloat64(o, le) },
} as const;
type DatatypeCode = keyof typeof DATATYPES;

function datatypeOf(data: NiftiData): DatatypeCode {
  const code = (Object.keys(DATATYPES).map(Number) as DatatypeCode[]).find((c) => data instanceof DATATYPES[c].array);
  check(code !== undefined, 'NIfTI data must be a Uint8Array, Int16Array, Int32Array, Float32Array or Float64Array');
  return code;
}

function getter(view: DataView, le: boolean): (offset: number, kind: Kind) => number {
  return (o, kind) => (kind === 'u8' ? view.getUint8(o) : kind === 'i16' ? view.getInt16(o, le) : kind === 'i32' ? view.getInt32(o, le) : view.getFloat32(o, le));
}

/** The spatial sizes [x, y, z, …] named by a header's dim. */
export function dims(header: NiftiHeader): number[] {
  return header.dim.slice(1, 1 + header.dim[0]);
}

/**
 * Decodes a NIfTI-1 file held in `buf` (gunzipped first if it starts with the gzip magic). A file
 * that is not single-file NIfTI-1, an unsupported datatype, or data shorter than the header's dims
 * need throws a one-line InputError starting with `source`.
 */
export function decodeNifti(buf: Uint8Array, source: string): Volume {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  const bytes = gunzipIfGzipped(buf, source);
  if (bytes.length < HEADER_BYTES) throw fail(`not a NIfTI-1 file (${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // sizeof_hdr is 348 in the file's own byte order, which is how the byte order is told.
  const le = view.getInt32(0, true) === HEADER_BYTES;
  if (!le && view.getInt32(0, false) !== HEADER_BYTES) {
    const sizes = [view.getInt32(0, true), view.getInt32(0, false)];
    throw fail(sizes.includes(540) ? 'a NIfTI-2 file; only NIfTI-1 is supported' : `not a NIfTI-1 file (sizeof_hdr is not ${HEADER_BYTES})`);
  }
  const magic = Buffer.from(bytes.subarray(344, 348)).toString('latin1');
  if (magic === 'ni1\0') throw fail('a two-file NIfTI (.hdr/.img); only single .nii files are supported');
  if (magic !== 'n+1\0') throw fail(`not a NIfTI-1 file (magic ${JSON.stringify(magic)}, expected "n+1")`);

  const get = getter(view, le);
  const header = {} as NiftiHeader;
  for (const [name, offset, kind] of NUMBERS) header[name] = get(offset, kind);
  for (const [name, offset, kind, count] of ARRAYS) header[name] = Array.from({ length: count }, (_, i) => get(offset + i * SIZE[kind], kind));
  for (const [name, offset, length] of STRINGS) header[name] = Buffer.from(bytes.subarray(offset, offset + length)).toString('latin1').replace(/\0.*$/s, '');

  const ndim = header.dim[0];
  if (!(ndim >= 1 && ndim <= 7)) throw fail(`dim[0] is ${ndim}, not 1 to 7`);
  const shape = dims(header);
  if (!shape.every((d) => d >= 1)) throw fail(`dim [${shape}] has a size below 1`);
  const type = DATATYPES[header.datatype as DatatypeCode];
  if (type === undefined) throw fail(`unsupported NIfTI datatype ${header.datatype} (supported: 2 uint8, 4 int16, 8 int32, 16 float32, 64 float64)`);
  if (header.bitpix !== type.bitpix) throw fail(`bitpix ${header.bitpix} does not match datatype ${type.name} (${type.bitpix})`);
  const start = header.vox_offset;
  if (!(Number.isInteger(start) && start >= DATA_START)) throw fail(`vox_offset ${start} is not an integer >= ${DATA_START}`);
  const n = numel(shape);
  const itemsize = type.bitpix / 8;
  if (bytes.length < start + n * itemsize) {
    throw fail(`truncated NIfTI data: ${Math.max(0, bytes.length - start)} bytes after vox_offset ${start}, dims [${shape}] of ${type.name} need ${n * itemsize}`);
  }
  const data = new type.array(n);
  if (le) new Uint8Array(data.buffer).set(bytes.subarray(start, start + n * itemsize));
  else for (let i = 0; i < n; i++) data[i] = type.get(view, start + i * itemsize, false);
  return { header, data };
}

/** Encodes a volume as a little-endian NIfTI-1 file; datatype, bitpix and vox_offset follow the data. */
export function encodeNifti(volume: Volume): Buffer {
  const { header, data } = volume;
  const code = datatypeOf(data);
  const shape = dims(header);
  check(header.dim.length === 8 && header.pixdim.length === 8, 'NIfTI dim and pixdim need 8 entries each');
  check(shape.length >= 1 && shape.length <= 7 && shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 32767), () => `NIfTI dim [${header.dim}] is not 1 to 7 sizes in 1..32767`);
  check(numel(shape) === data.length, () => `NIfTI dims [${shape}] need ${numel(shape)} values, got ${data.length}`);
  const out = Buffer.alloc(DATA_START + data.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const put = (o: number, kind: Kind, v: number) =>
    kind === 'u8' ? view.setUint8(o, v) : kind === 'i16' ? view.setInt16(o, v, true) : kind === 'i32' ? view.setInt32(o, v, true) : view.setFloat32(o, v, true);
  const written: NiftiHeader = { ...header, datatype: code, bitpix: DATATYPES[code].bitpix, vox_offset: DATA_START };
  put(0, 'i32', HEADER_BYTES);
  out.write('r', 38, 'latin1');
  for (const [name, offset, kind] of NUMBERS) put(offset, kind, written[name]);
  for (const [name, offset, kind, count] of ARRAYS) for (let i = 0; i < count; i++) put(offset + i * SIZE[kind], kind, written[name][i]);
  for (const [name, offset, length] of STRINGS) out.write(written[name].slice(0, length), offset, length, 'latin1');
  out.write('n+1\0', 344, 'latin1');
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), DATA_START);
  return out;
}

/** Reads a .nii or .nii.gz file (see decodeNifti); errors name the path. */
export function readNifti(path: string): Volume {
  return decodeNifti(readInputFile(path), path);
}

/** Writes `volume` to `path` atomically, gzipped when the path ends in .gz. */
export function writeNifti(path: string, volume: Volume): void {
  const bytes = encodeNifti(volume);
  writeFileAtomic(path, path.endsWith('.gz') ? gzipSync(bytes) : bytes);
}

/**
 * A header for data of sizes [x, y, z, …] with voxel sizes `voxelSize` (mm, default 1): qform and
 * sform both the scaling with the volume's centre at the origin (code 2, aligned), units mm.
 */
export function niftiHeader(sizes: number[], voxelSize: number[] = sizes.map(() => 1)): NiftiHeader {
  check(sizes.length >= 1 && sizes.length <= 7, () => `a NIfTI volume has 1 to 7 dimensions, got ${sizes.length}`);
  check(voxelSize.length === sizes.length && voxelSize.every((v) => v > 0), 'voxel sizes must be positive, one per dimension');
  // Header floats are float32 in the file; rounding here makes the header read back equal to itself.
  const spacing = [0, 1, 2].map((i) => Math.fround(voxelSize[i] ?? 1));
  const offset = spacing.map((s, i) => Math.fround((-s * ((sizes[i] ?? 1) - 1)) / 2));
  const row = (i: number) => [0, 1, 2].map((j) => (i === j ? spacing[i] : 0)).concat(offset[i]);
  return {
    dim: [sizes.length, ...sizes, ...Array(7 - sizes.length).fill(1)],
    pixdim: [1, ...voxelSize.map(Math.fround), ...Array(7 - sizes.length).fill(1)],
    datatype: 2, bitpix: 8, vox_offset: DATA_START, scl_slope: 1, scl_inter: 0,
    dim_info: 0, intent_p1: 0, intent_p2: 0, intent_p3: 0, intent_code: 0, slice_start: 0, slice_end: 0, slice_code: 0,
    xyzt_units: 2, cal_max: 0, cal_min: 0, slice_duration: 0, toffset: 0,
    qform_code: 2, sform_code: 2, quatern_b: 0, quatern_c: 0, quatern_d: 0,
    qoffset_x: offset[0], qoffset_y: offset[1], qoffset_z: offset[2],
    srow_x: row(0), srow_y: row(1), srow_z: row(2),
    descrip: 'dltheory', aux_file: '', intent_name: '',
  };
}

/** The 4×4 voxel-to-world matrix (rows), by sform, else qform, else voxel sizes (nifti1.h methods 3, 2, 1). */
export function affine(header: NiftiHeader): number[][] {
  const last = [0, 0, 0, 1];
  if (header.sform_code > 0) return [header.srow_x, header.srow_y, header.srow_z, last];
  const [, dx, dy, dz] = header.pixdim;
  if (header.qform_code <= 0) return [[dx, 0, 0, 0], [0, dy, 0, 0], [0, 0, dz, 0], last];
  const { quatern_b: b, quatern_c: c, quatern_d: d } = header;
  const a = Math.sqrt(Math.max(0, 1 - b * b - c * c - d * d));
  // qfac (pixdim[0]) is −1 for a left-handed voxel grid; nifti1.h reads 0 as +1.
  const scale = [dx, dy, (header.pixdim[0] < 0 ? -1 : 1) * dz];
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const offset = [header.qoffset_x, header.qoffset_y, header.qoffset_z];
  return [...r.map((row, i) => [...row.map((v, j) => v * scale[j]), offset[i]]), last];
}

/** The volume as a tensor [z, y, x] (4-D and up: [..., z, y, x]), scaled by scl_slope/scl_inter; float64 data stays float64. */
export function volumeTensor(volume: Volume): Tensor {
  const { header, data } = volume;
  const shape = dims(header).reverse();
  const scaled = header.scl_slope !== 0 && !(header.scl_slope === 1 && header.scl_inter === 0);
  return scope(() => {
    const t = tensor(data, shape, data instanceof Float64Array ? 'float64' : 'float32');
    return scaled ? t.mul(header.scl_slope).add(header.scl_inter) : t;
  });
}
