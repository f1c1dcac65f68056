/**
 * The NIfTI-1 reader (src/data/nifti.ts) against nibabel 5.0 (Debian python3-nibabel) on the corpus
 * that test/fixtures/nifti_corpus.py builds and reads with nib.load. For each file nibabel reads: the same
 * shape; volumeTensor equal to get_fdata() value for value (NaN for NaN, the sign of zero included),
 * float32 only where it is exact; the same affine within float32 round-off; one warning line per
 * header field nibabel logged a fix-up or warning for, and no other. For each file nibabel rejects:
 * an InputError whose one line starts with the path and names the field. The files nibabel reads
 * and dltheory rejects by design are listed, and rejected the same way. Skipped without nibabel.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveTensors, scope } from '../src/engine/index.js';
import { affine, dims, readNifti, volumeTensor } from '../src/data/nifti.js';
import { readNpy } from '../src/data/npy.js';
import { readMask } from '../src/data/volumes.js';
import { rejects, withWarnings } from './input-checks.js';
import { PYTHON, pythonUnavailable } from './python.js';

/** One file of the corpus and what nibabel made of it (see test/fixtures/nifti_corpus.py). */
interface Variant {
  name: string;
  group: string;
  file: string;
  /** The header field an error must name. */
  field: string | null;
  /** nibabel's exception, when it rejects the file. */
  error?: string;
  shape?: number[];
  affine?: number[][];
  /** nibabel's get_data_dtype(), and whether its array proxy scales (slope, inter) ≠ (1, 0). */
  dtype?: string;
  scaled?: boolean;
  /** The header fields nibabel logged a fix-up or warning for, once each. */
  logged: string[];
}

const SCRIPT = fileURLToPath(new URL('../../test/fixtures/nifti_corpus.py', import.meta.url));
let corpus: { dir: string; variants: Variant[] } | undefined;

/** The corpus, built once in a temporary folder (removed after the tests). */
function build(): { dir: string; variants: Variant[] } {
  if (corpus === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'dltheory-nifti-corpus-'));
    corpus = { dir, variants: [] };
    const r = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 24 });
    assert.equal(r.status, 0, `${SCRIPT}: ${r.stderr}`);
    corpus.variants = JSON.parse(r.stdout) as Variant[];
  }
  return corpus;
}
after(() => corpus && rmSync(corpus.dir, { recursive: true, force: true }));

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** nibabel's dtypes that float32 holds exactly, so that an unscaled volume of them is a float32 tensor. */
const EXACT32 = ['uint8', 'int8', 'int16', 'uint16', 'float32'];

function rejected(v: Variant, path: string): void {
  assert.ok(v.field, `${v.name}: nibabel says ${v.error}, but the variant names no field`);
  rejects(() => withWarnings(() => readNifti(path)), new RegExp(`^${escapeRegExp(path)}: .*${escapeRegExp(v.field)}`));
}

function read(v: Variant, dir: string, path: string): void {
  const { value: volume, warnings } = withWarnings(() => readNifti(path));
  assert.deepEqual(dims(volume.header), v.shape, `${v.name}: shape`);
  scope(() => {
    const t = volumeTensor(volume);
    assert.equal(t.dtype, EXACT32.includes(v.dtype ?? '') && !v.scaled ? 'float32' : 'float64', `${v.name}: dtype`);
    const expected = readNpy(join(dir, `${v.name}.npy`));
    assert.deepEqual(t.shape, expected.shape, `${v.name}: tensor shape`);
    const ours = t.toArray() as Float32Array | Float64Array;
    expected.data.forEach((e, i) => {
      if (!Object.is(ours[i], e)) assert.fail(`${v.name}[${i}]: ${ours[i]}, nibabel's get_fdata ${e}`);
    });
  });
  affine(volume.header).forEach((row, i) =>
    row.forEach((a, j) => {
      const e = v.affine![i][j];
      assert.ok(Math.abs(a - e) <= 1e-6 * (1 + Math.abs(e)), `${v.name}: affine[${i}][${j}] ${a}, nibabel ${e}`);
    })
  );
  assert.ok(warnings.every((w) => w.startsWith(`dltheory: warning: ${path}: `)), `${v.name}: ${warnings.join('\n')}`);
  assert.equal(warnings.length, v.logged.length, `${v.name}: nibabel logged [${v.logged}], we warned:\n${warnings.join('\n')}`);
  for (const field of v.logged) assert.equal(warnings.filter((w) => w.includes(field)).length, 1, `${v.name}: one warning naming ${field}`);
}

/** Checks every variant of `group` against nibabel; returns the corpus folder. */
function compare(t: TestContext, group: string): string | undefined {
  const missing = pythonUnavailable('nibabel');
  if (missing) {
    t.skip(missing);
    return undefined;
  }
  const { dir, variants } = build();
  const mine = variants.filter((v) => v.group === group);
  assert.ok(mine.length > 0, `no variant in group ${group}`);
  const before = liveTensors();
  for (const v of mine) {
    const path = join(dir, v.file);
    if (group === 'unsupported') {
      assert.equal(v.error, undefined, `${v.name}: nibabel reads it`);
      rejected(v, path);
    } else if (v.error !== undefined) rejected(v, path);
    else read(v, dir, path);
  }
  assert.equal(liveTensors(), before);
  return dir;
}

test('NIfTI-1 corpus vs nibabel: datatypes u1 i1 i2 u2 i4 u4 i8 u8 f4 f8, little- and big-endian, extremes, NaN, ±inf, −0', (t) => {
  compare(t, 'datatypes');
});

test('NIfTI-1 corpus vs nibabel: scl_slope/scl_inter 1/0, 2/−3, 0/5, NaN/NaN, inf/0, NaN/3, −inf/inf, −0.5/0.25, 0.001/0, 1/0.5, 1/−100 '
  + 'on u1 i2 f4 u8 i4 i8 f8 u2, big-endian too', (t) => {
  compare(t, 'scaling');
});

test('NIfTI-1 corpus vs nibabel: gzip, big-endian, 1-D to 5-D, extensions, empty volumes, FreeSurfer long vectors and ico7, '
  + 'sform, qform (qfac −1, w = 0) and base affines', (t) => {
  compare(t, 'layout');
});

test('NIfTI-1 corpus vs nibabel: fix-ups of sizeof_hdr (100, 540), bitpix, qfac (0, 0.5), pixdim (0, negative), qform_code, sform_code, '
  + 'vox_offset (360, 352.5, 0), extension esize; all at once big-endian gzipped', (t) => {
  compare(t, 'fixups');
});

test('NIfTI-1 corpus vs nibabel: errors for magic, datatype (unknown, none, float128, complex256, RGB), vox_offset (100, 0.5, −16, NaN, inf), '
  + 'negative dim, glmin, scl_inter (NaN, ±inf with a valid slope), quaternion, truncated data and gzip, short file, extensions, '
  + 'byte order told by dim[0]', (t) => {
  compare(t, 'errors');
});

test('NIfTI-1 corpus vs nibabel: read there, rejected here by design: NIfTI-2, magic "ni1" in a .nii, complex64', (t) => {
  compare(t, 'unsupported');
});

test('NIfTI-1 corpus vs nibabel: the reported bug, a nibabel uint8 ellipsoid with bytes 112–119 two NaNs, reads as its labels; '
  + 'readMask as for the unaltered file', (t) => {
  const dir = compare(t, 'bug');
  if (dir === undefined) return;
  const before = liveTensors();
  scope(() => {
    for (const label of [undefined, 1]) {
      const expected = readMask(join(dir, 'ellipsoid.nii'), { label, size: 12 });
      const voxels = expected.sum().item();
      assert.ok(voxels > 0 && voxels < 12 ** 3 / 2, `an ellipsoid, not the whole cube: ${voxels}`);
      assert.deepEqual(readMask(join(dir, 'ellipsoid-nan.nii'), { label, size: 12 }).toArray(), expected.toArray(), `label ${label}`);
    }
  });
  assert.equal(liveTensors(), before);
});
