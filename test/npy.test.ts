/**
 * The NPY reader (src/data/npy.ts) against numpy.load (Debian's python3-numpy at /usr/bin/python3):
 * test/fixtures/npy_corpus.py writes a few thousand variant files and records what numpy makes of
 * each; readNpy must read the same shape and values (integers exactly, float16 exactly as float32),
 * warn, naming the file, where numpy reads a Python 2 header or ignores bytes after the data, and
 * throw an InputError naming the file where numpy raises or reads a dtype not read here. Without
 * numpy these tests skip, saying why.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { InputError } from '../src/errors.js';
import { readNpy } from '../src/data/npy.js';
import { npyFile } from './npy-helpers.js';
import { capturingStderr } from './input-checks.js';
import { PYTHON, pythonUnavailable } from './python.js';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'npy_corpus.py');

/** What numpy.load made of a file: an error, or the dtype, shape and values (see npy_corpus.py). */
type Outcome =
  | { error: string }
  | { dtype: string; supported: false; shape: number[] }
  | { dtype: string; supported: true; shape: number[]; values: string[]; trailing: number; longs: boolean };
interface Entry {
  file: string;
  group: string;
  note: string;
  numpy: Outcome;
}

let corpus: { dir: string; entries: Entry[] } | undefined;
after(() => corpus && rmSync(corpus.dir, { recursive: true }));

function loadCorpus(): { dir: string; entries: Entry[] } {
  if (corpus === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'dltheory-npy-'));
    corpus = { dir, entries: [] };
    execFileSync(PYTHON, [SCRIPT, dir], { stdio: 'pipe' });
    corpus.entries = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Entry[];
  }
  return corpus;
}

const PY_FLOATS = new Map([['nan', NaN], ['inf', Infinity], ['-inf', -Infinity]]);

/** How readNpy's answer for a corpus file differs from numpy's, or undefined when it does not. */
function disagreement(path: string, numpy: Outcome): string | undefined {
  const { value, error, lines } = capturingStderr(() => readNpy(path));
  const rejected = (expected: string, problem: RegExp) => {
    if (!(error instanceof InputError)) return `${expected}; readNpy ${error === undefined ? `read ${value?.dtype} ${value?.shape}` : `threw ${error}`}`;
    const { message } = error;
    if (!message.startsWith(`${path}: `) || message.includes('\n') || !problem.test(message)) return `${expected}; readNpy: ${JSON.stringify(message)}`;
    return lines.length > 0 ? `warned before rejecting: ${lines}` : undefined;
  };
  if ('error' in numpy) return rejected(`numpy: ${numpy.error}`, /./);
  if (!numpy.supported) return rejected(`numpy reads dtype ${numpy.dtype}, which is not read here`, /dtype/);
  const tooLarge = numpy.dtype.endsWith('u8') ? numpy.values.findIndex((v) => BigInt(v) >= 2n ** 63n) : -1;
  if (tooLarge >= 0) return rejected(`numpy reads uint64 ${numpy.values[tooLarge]} at index ${tooLarge}`, new RegExp(`at index ${tooLarge} `));
  if (value === undefined) return `numpy reads ${numpy.dtype} ${numpy.shape}; readNpy threw ${error}`;
  const kind = numpy.dtype[1];
  const dtype = kind === 'b' ? 'bool' : kind !== 'f' ? 'int64' : numpy.dtype.endsWith('8') ? 'float64' : 'float32';
  if (value.dtype !== dtype || !isDeepStrictEqual(value.shape, numpy.shape)) {
    return `numpy reads ${numpy.dtype} ${numpy.shape}; readNpy ${value.dtype} ${value.shape}`;
  }
  const expected = numpy.values.map((v) => (kind === 'f' ? (PY_FLOATS.get(v) ?? Number(v)) : dtype === 'int64' ? BigInt(v) : Number(v)));
  const wrong = expected.findIndex((v, i) => !Object.is(v, value.data[i]));
  if (wrong >= 0 || value.data.length !== expected.length) return `value ${wrong}: numpy ${numpy.values[wrong]}, readNpy ${value.data[wrong]}`;
  const warnings = [numpy.longs && /Python 2/, numpy.trailing > 0 && new RegExp(`ignored ${numpy.trailing} bytes`)].filter((w) => w instanceof RegExp);
  const prefix = `dltheory: warning: ${path}: `;
  if (lines.length !== warnings.length || !warnings.every((w, i) => lines[i].startsWith(prefix) && w.test(lines[i]))) {
    return `warnings ${JSON.stringify(lines)}, expected ${warnings.join(' and ') || 'none'}`;
  }
  return undefined;
}

/**
 * Asserts that readNpy agrees with numpy on every corpus file of `group`, and, so that a broken
 * corpus cannot pass, that numpy read as a type read here all, some or none of them (`numpyReads`).
 */
function agreesWithNumpy(t: TestContext, group: string, numpyReads: 'all' | 'some' | 'none'): void {
  const reason = pythonUnavailable('numpy');
  if (reason) {
    t.skip(reason);
    return;
  }
  const { dir, entries } = loadCorpus();
  const chosen = entries.filter((entry) => entry.group === group);
  const read = chosen.filter(({ numpy }) => 'supported' in numpy && numpy.supported).length;
  t.diagnostic(`${chosen.length} files, ${read} read by numpy as a type read here`);
  assert.equal(read === 0 ? 'none' : read === chosen.length ? 'all' : 'some', numpyReads);
  const failures = chosen.flatMap(({ file, note, numpy }) => {
    const why = disagreement(join(dir, file), numpy);
    return why === undefined ? [] : [`${file} (${note}): ${why}`];
  });
  assert.deepEqual(failures, [], `${failures.length} of ${chosen.length} files`);
}

test('NPY corpus vs numpy: np.save of bool, i1–i8, u1–u8, f2/f4/f8 in byte orders < > |; 0-d, empty, 1-D and 3-D shapes', (t) =>
  agreesWithNumpy(t, 'save', 'all'));
test('NPY corpus vs numpy: format versions 1.0, 2.0 and 3.0 from write_array, every dtype and byte order', (t) => agreesWithNumpy(t, 'version', 'all'));
test('NPY corpus vs numpy: Fortran order (np.asfortranarray, 2-D, 3-D, empty; 1-D and 0-d headers) read into C order', (t) =>
  agreesWithNumpy(t, 'fortran', 'all'));
test('NPY corpus vs numpy: descr spellings (byte orders < > = |, type codes, kinds and sizes, names, comma strings, tuples)', (t) =>
  agreesWithNumpy(t, 'descr', 'some'));
test('NPY corpus vs numpy: Python 2 headers (6L longs, u strings) in versions 1.0, 2.0 and 3.0', (t) => agreesWithNumpy(t, 'py2', 'some'));
test('NPY corpus vs numpy: header syntax and validation (quotes, escapes, comments, lines, keys, shape, fortran_order, length)', (t) =>
  agreesWithNumpy(t, 'syntax', 'some'));
test('NPY corpus vs numpy: too few data bytes, bytes after the data, bool bytes other than 0 and 1, uint64 above int64', (t) =>
  agreesWithNumpy(t, 'data', 'some'));
test('NPY corpus vs numpy: complex, longdouble, datetime, timedelta, string, object, void, structured and subarray dtypes', (t) =>
  agreesWithNumpy(t, 'unsupported', 'none'));
test('NPY corpus vs numpy: magic and version', (t) => agreesWithNumpy(t, 'magic', 'none'));

test('an NPY written by Python 2 on 64-bit Windows, shape (6L, 2L), reads as the 6 × 2 array numpy reads, with a warning', (t) => {
  const reason = pythonUnavailable('numpy');
  if (reason) return t.skip(reason);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-npy-'));
  try {
    // The reported header, padded with spaces to the 16-byte boundary numpy used then.
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (6L, 2L), }";
    const data = Buffer.alloc(96);
    [0.1, -2.5, 3, 1e300, -0, 5e-324, 7.25, 8, -9.5, 1 / 3, 11, 12].forEach((v, i) => data.writeDoubleLE(v, 8 * i));
    const path = join(dir, 'windows-python2.npy');
    writeFileSync(path, npyFile(`${header.padEnd(Math.ceil((header.length + 11) / 16) * 16 - 11)}\n`, data));
    const script = 'import numpy as np, sys, json; a = np.load(sys.argv[1]); print(json.dumps([a.shape, [repr(v) for v in a.ravel().tolist()]]))';
    const [shape, values] = JSON.parse(execFileSync(PYTHON, ['-c', script, path], { encoding: 'utf8' })) as [number[], string[]];
    assert.deepEqual(shape, [6, 2]);
    const { value, lines } = capturingStderr(() => readNpy(path));
    assert.deepEqual(value, { dtype: 'float64', shape, data: Float64Array.from(values, Number) });
    assert.equal(lines.length, 1);
    assert.ok(lines[0].startsWith(`dltheory: warning: ${path}: `), lines[0]);
    assert.match(lines[0], /NPY header written by Python 2 \(longs such as 6L\)/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
