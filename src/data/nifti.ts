/**
 * NIfTI-1 single files (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h), plain or
 * gzipped, read in either byte order the way nibabel 5.0 reads them, and written little-endian.
 *
 * Layout: a 348-byte header, 4 extension-flag bytes, optional extensions, data from vox_offset in
 * x-fastest order (index = x + X·(y + Y·z)). As a C-order tensor that is [Z, Y, X], so
 * `volumeTensor` gives [D, H, W] = [z, y, x] (more dims in front for 4-D files), and the last
 * coordinate of a gridSample grid runs along NIfTI's x.
 *
 * Reading follows nibabel (nib.load, then get_fdata and img.affine) rule for rule, so that a file
 * means here what it means there:
 * - the byte order is guessed from dim[0] (AnalyzeHeader.guessed_endian), not from sizeof_hdr;
 * - the header checks of Nifti1Header._get_checks run in nibabel's order with its error level 40
 *   (WrapStruct.check_fix): a problem nibabel fixes and logs (sizeof_hdr, bitpix, pixdim[1..3],
 *   qfac, vox_offset not a multiple of 16, qform_code/sform_code) is fixed the same way in the
 *   returned header and reported by one `warn()` line naming the file and the field; a problem at
 *   level 40 or above (magic, datatype, vox_offset below 352) is an InputError;
 * - scl_slope/scl_inter as Nifti1Header.get_slope_inter (see `volumeTensor`);
 * - the shape as Nifti1Header.get_data_shape, FreeSurfer's conventions included (see `dims`);
 * - the affine as Nifti1Header.get_best_affine (see `affine`).
 * Deliberate differences: magic "ni1" (a .hdr of a two-file pair) and the complex and RGB datatypes
 * are InputErrors here, where nibabel reads the data after a .nii's header, the real part and
 * structured RGB records. Every error is a one-line InputError that starts with the file's name.
 */
import { gzipSync } from 'node:zlib';
import { InputError, check, warn } from '../errors.js';
import { gunzipIfGzipped, readInputFile, writeFileAtomic } from '../io/files.js';
import { numel } from '../io/raw.js';
import { tensor, type Tensor } from '../engine/index.js';

/** The values of a volume, one typed array per NIfTI-1 datatype read (see DATATYPES). */
export type NiftiData = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array
  | Float64Array;

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
  /** Unused by NIfTI-1; FreeSurfer keeps the length of a vector longer than dim's int16 here (see `dims`). */
  glmin: number;
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
// dprint-ignore: a table laid out by hand
const NUMBERS: readonly [NumberField, number, Kind][] = [
  ['dim_info', 39, 'u8'], ['intent_p1', 56, 'f32'], ['intent_p2', 60, 'f32'], ['intent_p3', 64, 'f32'],
  ['intent_code', 68, 'i16'], ['datatype', 70, 'i16'], ['bitpix', 72, 'i16'], ['slice_start', 74, 'i16'],
  ['vox_offset', 108, 'f32'], ['scl_slope', 112, 'f32'], ['scl_inter', 116, 'f32'], ['slice_end', 120, 'i16'],
  ['slice_code', 122, 'u8'], ['xyzt_units', 123, 'u8'], ['cal_max', 124, 'f32'], ['cal_min', 128, 'f32'],
  ['slice_duration', 132, 'f32'], ['toffset', 136, 'f32'], ['glmin', 144, 'i32'], ['qform_code', 252, 'i16'], ['sform_code', 254, 'i16'],
  ['quatern_b', 256, 'f32'], ['quatern_c', 260, 'f32'], ['quatern_d', 264, 'f32'],
  ['qoffset_x', 268, 'f32'], ['qoffset_y', 272, 'f32'], ['qoffset_z', 276, 'f32'],
];
// dprint-ignore: a table laid out by hand
const ARRAYS: readonly ['dim' | 'pixdim' | 'srow_x' | 'srow_y' | 'srow_z', number, Kind, number][] = [
  ['dim', 40, 'i16', 8], ['pixdim', 76, 'f32', 8], ['srow_x', 280, 'f32', 4], ['srow_y', 296, 'f32', 4], ['srow_z', 312, 'f32', 4],
];
const STRINGS: readonly ['descrip' | 'aux_file' | 'intent_name', number, number][] = [['descrip', 148, 80], ['aux_file', 228, 24], ['intent_name', 328, 16]];
const SIZE: Readonly<Record<Kind, number>> = { u8: 1, i16: 2, i32: 4, f32: 4 };

const HEADER_BYTES = 348;
/** The header plus the 4-byte extension flag: where a single file's extensions or data may start. */
const DATA_START = 352;

interface Datatype {
  name: string;
  array: { new(length: number): NiftiData; readonly BYTES_PER_ELEMENT: number };
  /** Whether float32 holds every value exactly, so that an unscaled volume can be a float32 tensor. */
  exact32: boolean;
}
/** The datatypes read, by nifti1.h code: nibabel's integer and real float types for images. */
const DATATYPES: Readonly<Record<number, Datatype>> = {
  2: { name: 'uint8', array: Uint8Array, exact32: true },
  4: { name: 'int16', array: Int16Array, exact32: true },
  8: { name: 'int32', array: Int32Array, exact32: false },
  16: { name: 'float32', array: Float32Array, exact32: true },
  64: { name: 'float64', array: Float64Array, exact32: false },
  256: { name: 'int8', array: Int8Array, exact32: true },
  512: { name: 'uint16', array: Uint16Array, exact32: true },
  768: { name: 'uint32', array: Uint32Array, exact32: false },
  1024: { name: 'int64', array: BigInt64Array, exact32: false },
  1280: { name: 'uint64', array: BigUint64Array, exact32: false },
};
/**
 * The other codes of nibabel's nifti1.data_type_codes. float128 and complex256 are numpy's
 * longdouble, which nibabel 5.0 uses only where it is IEEE binary128 (casting.have_binary128); on
 * x86-64 it is the 80-bit x87 format, so nibabel rejects them there ("data code 1536 not supported").
 */
// dprint-ignore: a table laid out by hand
const UNREAD: Readonly<Record<number, string>> = {
  0: 'none', 1: 'binary', 32: 'complex64', 128: 'RGB', 255: 'all', 1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'RGBA',
};

function datatypeOf(data: NiftiData): number {
  const code = Object.keys(DATATYPES).map(Number).find((c) => data instanceof DATATYPES[c].array);
  check(code !== undefined, () => `NIfTI data must be a typed array of one of ${Object.values(DATATYPES).map((t) => t.name).join(', ')}`);
  return code;
}

function getter(view: DataView, le: boolean): (offset: number, kind: Kind) => number {
  return (o, kind) => kind === 'u8' ? view.getUint8(o) : kind === 'i16' ? view.getInt16(o, le) : kind === 'i32' ? view.getInt32(o, le) : view.getFloat32(o, le);
}

/** Whether dim[1..3] is FreeSurfer's (−1, 1, 1): a vector of glmin values, too long for dim's int16. */
function longVector(header: NiftiHeader): boolean {
  return header.dim[0] >= 3 && header.dim[1] === -1 && header.dim[2] === 1 && header.dim[3] === 1;
}

/**
 * The sizes [x, y, z, …] of the data, as nibabel's Nifti1Header.get_data_shape: [0] (no voxel) when
 * dim[0] is 0, and FreeSurfer's two conventions for surfaces with more vertices than dim's int16
 * holds: dim[1..3] = (−1, 1, 1) means glmin × 1 × 1, and (27307, 1, 6) the 163842 vertices of ico7.
 */
export function dims(header: NiftiHeader): number[] {
  const [ndim, ...rest] = header.dim;
  if (ndim === 0) return [0];
  const sizes = rest.slice(0, ndim);
  if (longVector(header)) return [header.glmin, 1, 1, ...sizes.slice(3)];
  if (sizes.slice(0, 3).join() === '27307,1,6') return [163842, 1, 1, ...sizes.slice(3)];
  return sizes;
}

/**
 * The byte order, as nibabel's AnalyzeHeader.guessed_endian: little-endian when dim[0] read
 * little-endian is 1 to 7; when it is 0, big-endian only if sizeof_hdr reads 348 big-endian; else big-endian.
 */
function littleEndian(view: DataView): boolean {
  const dim0 = view.getInt16(40, true);
  return dim0 === 0 ? view.getInt32(0, false) !== HEADER_BYTES : dim0 >= 1 && dim0 <= 7;
}

/** How a check reports: `note` warns of what nibabel fixes (or leaves) and logs below its error level 40, `fail` makes what it raises. */
interface Report {
  note: (text: string) => void;
  fail: (problem: string) => InputError;
}

/**
 * nibabel's Nifti1Header._get_checks in its order, each with nibabel's fix, applied to `h`. The magic
 * was checked before, as nib.load picks the image class by it. Returns the datatype.
 */
function checkFix(h: NiftiHeader, sizeofHdr: number, { note, fail }: Report): Datatype {
  if (sizeofHdr !== HEADER_BYTES) note(`sizeof_hdr is ${sizeofHdr}, not ${HEADER_BYTES}; read as ${HEADER_BYTES}`);
  const type = DATATYPES[h.datatype];
  if (type === undefined) {
    const name = UNREAD[h.datatype];
    throw fail(name === undefined ?
      `datatype ${h.datatype} is not a NIfTI-1 datatype code`
      : `datatype ${h.datatype} (${name}) is not supported (only ${Object.values(DATATYPES).map((t) => t.name).join(', ')})`);
  }
  const bitpix = 8 * type.array.BYTES_PER_ELEMENT;
  if (h.bitpix !== bitpix) {
    note(`bitpix ${h.bitpix} does not match datatype ${type.name}; set to ${bitpix}`);
    h.bitpix = bitpix;
  }
  const voxel = h.pixdim.slice(1, 4);
  if (voxel.some((v) => v <= 0)) {
    const fixed = voxel.map((v) => (v === 0 ? 1 : Math.abs(v)));
    note(`pixdim[1,2,3] [${voxel}] should be positive; set to [${fixed}] (zeros to 1, negatives to their absolute value)`);
    h.pixdim.splice(1, 3, ...fixed);
  }
  if (h.pixdim[0] !== 1 && h.pixdim[0] !== -1) {
    note(`pixdim[0] (qfac) is ${h.pixdim[0]}, not 1 or -1; set to 1`);
    h.pixdim[0] = 1;
  }
  // vox_offset 0 passes: nibabel then reads the data from byte 0, as it would from a pair's .img file.
  if (h.vox_offset !== 0) {
    if (h.vox_offset < DATA_START) throw fail(`vox_offset ${h.vox_offset} is below ${DATA_START}, where a single-file NIfTI-1's data can start`);
    if (h.vox_offset % 16 !== 0) note(`vox_offset ${h.vox_offset} is not a multiple of 16 (not SPM compatible); left as it is`);
  }
  for (const field of ['qform_code', 'sform_code'] as const) {
    if (!(h[field] >= 0 && h[field] <= 5)) {
      note(`${field} ${h[field]} is not a NIfTI-1 xform code (0 to 5); set to 0`);
      h[field] = 0;
    }
  }
  return type;
}

/**
 * Walks the extensions that nibabel's Nifti1Extensions.from_fileobj reads when the first flag byte
 * (348) is not 0: records of esize (int32, counting its own 8-byte head and ecode) and content, over
 * vox_offset − 352 bytes, or to the end of the file when that is negative. dltheory keeps none, but
 * a record that runs past the end of the file is an error there, and an esize not a multiple of 16 a warning.
 */
function checkExtensions(bytes: Uint8Array, view: DataView, le: boolean, voxOffset: number, { note, fail }: Report): void {
  if (bytes.length < DATA_START || bytes[HEADER_BYTES] === 0) return;
  for (let at = DATA_START, left = voxOffset - DATA_START; left >= 16 || left < 0;) {
    if (at === bytes.length && left < 0) return;
    if (at + 8 > bytes.length) throw fail(`extension at byte ${at}: the file ends inside its esize and ecode`);
    const esize = view.getInt32(at, le);
    if (esize % 16 !== 0) note(`extension at byte ${at}: esize ${esize} is not a multiple of 16; read as given`);
    if (esize < 8 || at + esize > bytes.length) throw fail(`extension at byte ${at}: esize ${esize} does not fit between its head and the end of the file`);
    at += esize;
    left -= esize;
  }
}

/**
 * nibabel's Nifti1Header.get_slope_inter: no scaling (null) when scl_slope is 0 or not finite, the
 * intercept then ignored; a finite intercept otherwise, or an InputError naming `source`. (1, 0) is
 * no scaling either (volumeutils.apply_read_scaling).
 */
function scaling(header: NiftiHeader, source: string): [number, number] | null {
  const { scl_slope: slope, scl_inter: inter } = header;
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter)) throw new InputError(`${source}: scl_inter is ${inter} with scl_slope ${slope}; a scaled volume needs a finite intercept`);
  return slope === 1 && inter === 0 ? null : [slope, inter];
}

/**
 * Decodes a NIfTI-1 file held in `buf` (gunzipped first if it starts with the gzip magic) as
 * nibabel's nib.load does (see the module note): the header comes back with nibabel's fix-ups
 * applied, each reported by `warn()`. A file shorter than the header, a magic other than "n+1", an
 * unsupported datatype, a vox_offset below 352 or not finite, an extension past the end of the
 * file, a non-finite scl_inter with a valid scl_slope, a negative size, a qform quaternion of norm
 * above 1, or data shorter than the dims need throws a one-line InputError starting with `source`.
 */
export function decodeNifti(buf: Uint8Array, source: string): Volume {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  const report: Report = { note: (text) => warn(`${source}: ${text}`), fail };
  const bytes = gunzipIfGzipped(buf, source);
  if (bytes.length < HEADER_BYTES) throw fail(`not a NIfTI-1 file (${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = Buffer.from(bytes.subarray(344, 348)).toString('latin1');
  if (magic === 'ni1\0') throw fail('magic "ni1": the header of a two-file NIfTI (.hdr/.img); only single .nii files are supported');
  if (magic !== 'n+1\0') {
    const nifti2 = view.getInt32(0, true) === 540 || view.getInt32(0, false) === 540;
    throw fail(nifti2 ? 'sizeof_hdr 540: a NIfTI-2 file; only NIfTI-1 is supported' : `magic ${JSON.stringify(magic)} is not "n+1": not a NIfTI-1 file`);
  }
  const le = littleEndian(view);
  const get = getter(view, le);
  const header = {} as NiftiHeader;
  for (const [name, offset, kind] of NUMBERS) header[name] = get(offset, kind);
  for (const [name, offset, kind, count] of ARRAYS) header[name] = Array.from({ length: count }, (_, i) => get(offset + i * SIZE[kind], kind));
  for (const [name, offset, length] of STRINGS) header[name] = Buffer.from(bytes.subarray(offset, offset + length)).toString('latin1').replace(/\0.*$/s, '');

  const type = checkFix(header, get(0, 'i32'), report);
  checkExtensions(bytes, view, le, header.vox_offset, report);
  // What nibabel's ArrayProxy and get_best_affine ask of the header next, in their order.
  scaling(header, source);
  if (!(header.dim[0] >= 0 && header.dim[0] <= 7)) throw fail(`dim[0] is ${header.dim[0]}, not 0 to 7`);
  if (longVector(header) && header.glmin === 0) throw fail("dim[1..3] (-1, 1, 1) is FreeSurfer's long-vector form, but glmin, its length, is 0");
  const shape = dims(header);
  if (shape.some((d) => d < 0)) throw fail(`dim [${shape}] has a negative size`);
  if (!Number.isFinite(header.vox_offset)) throw fail(`vox_offset ${header.vox_offset} is not a byte offset`);
  bestAffine(header, source);

  const start = Math.trunc(header.vox_offset);
  const n = numel(shape);
  const itemsize = type.array.BYTES_PER_ELEMENT;
  if (bytes.length < start + n * itemsize) {
    const have = Math.max(0, bytes.length - start);
    throw fail(`truncated NIfTI data: ${have} bytes after vox_offset ${start}, dims [${shape}] of ${type.name} need ${n * itemsize}`);
  }
  const data = new type.array(n);
  const out = new Uint8Array(data.buffer);
  out.set(bytes.subarray(start, start + n * itemsize));
  if (!le) {
    for (let i = 0; i < out.length; i += itemsize) {
      for (let a = i, b = i + itemsize - 1; a < b; a++, b--) {
        const t = out[a];
        out[a] = out[b];
        out[b] = t;
      }
    }
  }
  return { header, data };
}

/** Encodes a volume as a little-endian NIfTI-1 file; datatype, bitpix and vox_offset follow the data. */
export function encodeNifti(volume: Volume): Buffer {
  const { header, data } = volume;
  const code = datatypeOf(data);
  const shape = dims(header);
  check(header.dim.length === 8 && header.pixdim.length === 8, 'NIfTI dim and pixdim need 8 entries each');
  check(
    shape.length >= 1 && shape.length <= 7 && shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 32767),
    () => `NIfTI dim [${header.dim}] is not 1 to 7 sizes in 1..32767`,
  );
  check(numel(shape) === data.length, () => `NIfTI dims [${shape}] need ${numel(shape)} values, got ${data.length}`);
  const out = Buffer.alloc(DATA_START + data.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const put = (o: number, kind: Kind, v: number) =>
    kind === 'u8' ? view.setUint8(o, v) : kind === 'i16' ? view.setInt16(o, v, true) : kind === 'i32' ? view.setInt32(o, v, true) : view.setFloat32(o, v, true);
  const written: NiftiHeader = { ...header, datatype: code, bitpix: 8 * DATATYPES[code].array.BYTES_PER_ELEMENT, vox_offset: DATA_START };
  put(0, 'i32', HEADER_BYTES);
  out.write('r', 38, 'latin1');
  for (const [name, offset, kind] of NUMBERS) put(offset, kind, written[name]);
  for (const [name, offset, kind, count] of ARRAYS) for (let i = 0; i < count; i++) put(offset + i * SIZE[kind], kind, written[name][i]);
  for (const [name, offset, length] of STRINGS) out.write(written[name].slice(0, length), offset, length, 'latin1');
  out.write('n+1\0', 344, 'latin1');
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), DATA_START);
  return out;
}

/** Reads a .nii or .nii.gz file (see decodeNifti); errors and warnings name the path. */
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
    datatype: 2,
    bitpix: 8,
    vox_offset: DATA_START,
    scl_slope: 1,
    scl_inter: 0,
    dim_info: 0,
    intent_p1: 0,
    intent_p2: 0,
    intent_p3: 0,
    intent_code: 0,
    slice_start: 0,
    slice_end: 0,
    slice_code: 0,
    xyzt_units: 2,
    cal_max: 0,
    cal_min: 0,
    slice_duration: 0,
    toffset: 0,
    glmin: 0,
    qform_code: 2,
    sform_code: 2,
    quatern_b: 0,
    quatern_c: 0,
    quatern_d: 0,
    qoffset_x: offset[0],
    qoffset_y: offset[1],
    qoffset_z: offset[2],
    srow_x: row(0),
    srow_y: row(1),
    srow_z: row(2),
    descrip: 'dltheory',
    aux_file: '',
    intent_name: '',
  };
}

/**
 * The 4×4 voxel-to-world matrix (rows, mm) as nibabel's Nifti1Header.get_best_affine: the sform rows
 * when sform_code ≠ 0 (nifti1.h method 3); else the qform quaternion when qform_code ≠ 0 (method 2;
 * quaternions.fillpositive and quat2mat, qfac = pixdim[0] < 0 ? −1 : 1); else nibabel's
 * get_base_affine, the voxel sizes with x flipped and the centre voxel at the origin (Analyze's
 * convention, not nifti1.h's method 1). A quaternion with b² + c² + d² > 1 (beyond float32
 * round-off) is not a rotation: an InputError.
 */
export function affine(header: NiftiHeader): number[][] {
  return bestAffine(header, 'NIfTI header');
}

function bestAffine(h: NiftiHeader, source: string): number[][] {
  const last = [0, 0, 0, 1];
  if (h.sform_code !== 0) return [[...h.srow_x], [...h.srow_y], [...h.srow_z], last];
  if (h.qform_code === 0) {
    // shape_zoom_affine(dim, pixdim, x_flip=True) over the first three dims, 1 for missing ones.
    const size = [1, 2, 3].map((i) => (i <= h.dim[0] ? h.dim[i] : 1));
    const zoom = [1, 2, 3].map((i) => (i <= h.dim[0] ? h.pixdim[i] : 1) * (i === 1 ? -1 : 1));
    return [...[0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? zoom[i] : 0)).concat((-(size[i] - 1) / 2) * zoom[i])), last];
  }
  const { quatern_b: x, quatern_c: y, quatern_d: z } = h;
  const w2 = 1 - (x * x + y * y + z * z);
  // nibabel's Nifti1Header.quaternion_threshold: three float32 epsilons below 0 is still a rotation (w = 0).
  if (w2 < -3 * 2 ** -23) {
    throw new InputError(`${source}: quatern_b, quatern_c, quatern_d (${x}, ${y}, ${z}) have b² + c² + d² = ${1 - w2} > 1, not a rotation`);
  }
  const w = Math.sqrt(Math.max(0, w2));
  const s = 2 / (w * w + x * x + y * y + z * z);
  const r = [
    [1 - s * (y * y + z * z), s * (x * y - w * z), s * (x * z + w * y)],
    [s * (x * y + w * z), 1 - s * (x * x + z * z), s * (y * z - w * x)],
    [s * (x * z - w * y), s * (y * z + w * x), 1 - s * (x * x + y * y)],
  ];
  const scale = [h.pixdim[1], h.pixdim[2], (h.pixdim[0] < 0 ? -1 : 1) * h.pixdim[3]];
  const offset = [h.qoffset_x, h.qoffset_y, h.qoffset_z];
  return [...r.map((row, i) => [...row.map((v, j) => v * scale[j]), offset[i]]), last];
}

/**
 * The volume as a tensor [z, y, x] (4-D and up: [..., z, y, x]) of the values nibabel's get_fdata()
 * gives: stored values v scaled to scl_slope·v + scl_inter in float64 (volumeutils.apply_read_scaling,
 * which adds no intercept of 0), or left as they are when
 * scl_slope is 0 or not finite (then scl_inter is ignored) or (scl_slope, scl_inter) is (1, 0).
 * dtype: float32 for unscaled uint8, int8, int16, uint16 and float32 data, which it holds exactly;
 * float64 otherwise (int32, uint32, int64, uint64 rounded to nearest as numpy does, float64, and
 * every scaled volume). A finite scl_slope with a non-finite scl_inter is an InputError, as in nibabel.
 */
export function volumeTensor(volume: Volume): Tensor {
  const { header, data } = volume;
  const shape = dims(header).reverse();
  const scale = scaling(header, 'NIfTI header');
  if (scale === null && DATATYPES[datatypeOf(data)].exact32) return tensor(data as ArrayLike<number>, shape, 'float32');
  const values = Float64Array.from(data as ArrayLike<number | bigint>, Number);
  if (scale !== null) {
    const [slope, inter] = scale;
    // numpy adds no intercept of 0, so −0·slope stays −0.
    for (let i = 0; i < values.length; i++) values[i] = inter === 0 ? values[i] * slope : values[i] * slope + inter;
  }
  return tensor(values, shape, 'float64');
}
