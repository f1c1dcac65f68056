/**
 * Numeric CSV (src/data/csv.ts) against pandas and numpy on a corpus they write: for each file, what
 * `pd.read_csv(header=0)` and `pd.read_csv(header=None)` read (float_precision='round_trip', so both
 * sides parse decimals exactly) is what `--header yes` and `--header no` read, and 'auto' reads one of
 * the two as the module note says, with the warning it promises. Then the reported case end to end:
 * `dltheory gdv` on a frame pandas saved with its default header `0,1`.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNumericCsv, type CsvHeader } from '../src/data/csv.js';
import { tensor } from '../src/engine/index.js';
import { InputError } from '../src/errors.js';
import { gdv } from '../src/measures/gdv.js';
import { cliRunner } from './cli-run.js';
import { withWarnings } from './input-checks.js';
import { PYTHON, pythonUnavailable } from './python.js';

/**
 * Writes the corpus into argv[1] and prints {file: {index, yes, no, loadtxt}}: the values pandas/numpy
 * read, as repr strings (null: it failed); `yes` reads a frame saved with its index with index_col=0.
 */
const CORPUS = String.raw`
import csv, json, sys
import numpy as np, pandas as pd
d = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.normal(size=(6, 2))
pd.DataFrame(x).to_csv(f'{d}/frame.csv', index=False)
pd.DataFrame(rng.normal(size=(5, 3))).to_csv(f'{d}/frame3.csv', index=False)
pd.DataFrame(x, columns=['a', 'b']).to_csv(f'{d}/named.csv', index=False)
pd.Series([0, 1, 2, 0, 1, 2]).to_csv(f'{d}/series.csv', index=False)
pd.Series([2, 1, 0, 2], name='label').to_csv(f'{d}/label.csv', index=False)
pd.DataFrame(x).to_csv(f'{d}/crlf.csv', index=False, lineterminator='\r\n')
pd.DataFrame(x).to_csv(f'{d}/quoted.csv', index=False, quoting=csv.QUOTE_ALL)
pd.DataFrame(x, columns=['a', 'b']).to_csv(f'{d}/bom.csv', index=False, encoding='utf-8-sig')
y = x.copy()
y[2, 1] = np.nan
pd.DataFrame(y).to_csv(f'{d}/missing.csv', index=False)
np.savetxt(f'{d}/savetxt.csv', x, delimiter=',')
np.savetxt(f'{d}/savetxt_int.csv', np.array([[0, 1], [2, 3], [4, 5]]), delimiter=',', fmt='%d')
np.savetxt(f'{d}/special.csv', np.array([[np.inf, -np.inf], [np.nan, 1.5]]), delimiter=',')
pd.DataFrame(x).to_csv(f'{d}/index.csv')
pd.DataFrame(x, columns=['a', 'b']).to_csv(f'{d}/named_index.csv')
pd.Series([0, 1, 2, 0, 1, 2]).to_csv(f'{d}/series_index.csv')
out = {}
def values(read):
    try:
        return [[repr(float(v)) for v in row] for row in read().to_numpy(dtype=float)]
    except Exception:
        return None
names = ['frame', 'frame3', 'named', 'series', 'label', 'crlf', 'quoted', 'bom', 'missing', 'savetxt', 'savetxt_int', 'special']
for name in names + ['index', 'named_index', 'series_index']:
    path = f'{d}/{name}.csv'
    index = 0 if 'index' in name else None
    out[name] = {
        'index': index is not None,
        'yes': values(lambda: pd.read_csv(path, header=0, index_col=index, float_precision='round_trip')),
        'no': values(lambda: pd.read_csv(path, header=None, float_precision='round_trip')),
        'loadtxt': values(lambda: pd.DataFrame(np.loadtxt(path, delimiter=',', ndmin=2))),
    }
print(json.dumps(out))
`;

type Reading = string[][] | null;
const parseRepr = (s: string): number => (s === 'nan' ? NaN : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s));

function assertReads(path: string, mode: CsvHeader, want: Reading, what: string): string {
  if (want === null) {
    assert.throws(() => withWarnings(() => readNumericCsv(path, mode)), (e: unknown) => e instanceof InputError && e.message.startsWith(path), what);
    return '';
  }
  const { value: c, warnings } = withWarnings(() => readNumericCsv(path, mode));
  assert.deepEqual([c.rows, c.cols], [want.length, want[0].length], what);
  assert.deepEqual(Array.from(c.data), want.flat().map(parseRepr), what);
  return warnings.join('\n');
}

test('CSV corpus vs pandas and numpy: default and named headers, a labels Series, an index column, CRLF, quoting, a BOM, missing values, savetxt, nan/inf', (t: TestContext) => {
  const unavailable = pythonUnavailable('numpy, pandas');
  if (unavailable) return t.skip(unavailable);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-csv-'));
  try {
    const r = spawnSync(PYTHON, ['-c', CORPUS, dir], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const corpus = JSON.parse(r.stdout) as Record<string, { index: boolean; yes: Reading; no: Reading; loadtxt: Reading }>;
    for (const [name, ref] of Object.entries(corpus)) {
      const path = join(dir, `${name}.csv`);
      assertReads(path, 'yes', ref.yes, `${name} --header yes`);
      assertReads(path, 'no', ref.no, `${name} --header no`);
      // A first line that holds only numbers is what numpy reads as data too.
      if (ref.no !== null && ref.loadtxt !== null) assert.deepEqual(ref.no, ref.loadtxt, `${name}: pandas header=None vs np.loadtxt`);
      const first = readFileSync(path, 'utf8').replace(/^\ufeff/, '').split(/\r?\n/)[0].replaceAll('"', '');
      const pandasHeader = first.split(',').every((c, j) => c === String(j));
      const auto = assertReads(path, 'auto', ref.no === null || pandasHeader || ref.index ? ref.yes : ref.no, `${name} --header auto`);
      if (ref.index) assert.match(auto, /first column is unnamed, as pandas writes its index.*left out/, name);
      else if (ref.no === null) assert.equal(auto, '', `${name}: a text header is taken silently`);
      else assert.match(auto, pandasHeader ? /taken as a header/ : /read as data/, name);
      if (ref.no !== null) assert.ok(auto.includes(path), `${name}: the warning names the file`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CSV errors name the file, the line and the column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-csv-'));
  try {
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const rejects = (path: string, mode: CsvHeader, pattern: RegExp) =>
      assert.throws(() => withWarnings(() => readNumericCsv(path, mode)), (e: unknown) =>
        e instanceof InputError && e.message.startsWith(path) && pattern.test(e.message));
    rejects(file('empty.csv', '\n\n'), 'auto', /no rows of numbers/);
    rejects(file('only.csv', 'a,b\n'), 'auto', /no rows of numbers after the header/);
    rejects(file('ragged.csv', '1,2\n3,4\n\n5\n'), 'no', /line 4 has 1 columns, line 1 has 2/);
    rejects(file('text.csv', 'a,b\n1,2\n3,x\n'), 'auto', /line 3, column 2 is 'x', not a number/);
    rejects(file('hex.csv', '0x10,1\n'), 'no', /line 1, column 1 is '0x10', not a number/);
    rejects(file('header.csv', 'a,b\n1,2\n'), 'no', /line 1, column 1 is 'a'/);
    rejects(file('quote.csv', '1,"2\n3,4\n'), 'no', /not a CSV file/);
    rejects(file('semicolon.csv', '1;2\n3;4\n'), 'no', /line 1, column 1 is '1;2', not a number \(the values must be separated by commas\)/);
    rejects(join(dir, 'missing.csv'), 'auto', /no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dltheory gdv on a frame pandas saved with its default header 0,1: --header yes reads the 6 points pandas reads', (t: TestContext) => {
  const unavailable = pythonUnavailable('pandas');
  if (unavailable) return t.skip(unavailable);
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-csv-gdv-'));
  try {
    const script = String.raw`
import json, sys
import numpy as np, pandas as pd
d = sys.argv[1]
x = np.array([[0.1, 2.0], [1.5, -0.3], [2.2, 0.7], [0.3, 1.8], [1.4, -0.1], [2.5, 0.4]])
pd.DataFrame(x).to_csv(d + '/x.csv', index=False)
pd.Series([0, 1, 2, 0, 1, 2]).to_csv(d + '/y.csv', index=False)
read = pd.read_csv(d + '/x.csv', float_precision='round_trip').to_numpy()
print(json.dumps({'x': read.tolist(), 'y': pd.read_csv(d + '/y.csv').iloc[:, 0].tolist(), 'header': open(d + '/x.csv').readline().strip()}))
`;
    const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as { x: number[][]; y: number[]; header: string };
    assert.equal(ref.header, '0,1', 'pandas writes the column names 0,1');
    const x = tensor(ref.x.flat(), [6, 2], 'float64');
    const want = gdv(x, ref.y);
    x.dispose();
    const { cli } = cliRunner(['gdv']);
    const args = ['--input', join(dir, 'x.csv'), '--labels', join(dir, 'y.csv'), '--json'];
    const yes = cli(...args, '--header', 'yes');
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(yes.stderr, '', 'an explicit --header says nothing');
    const out = JSON.parse(yes.stdout);
    assert.equal(out.n, 6);
    assert.ok(Math.abs(out.gdv - want.gdv) <= 1e-12, `${out.gdv} vs ${want.gdv}`);
    const auto = cli(...args);
    assert.equal(auto.code, 0, auto.stderr);
    assert.deepEqual(JSON.parse(auto.stdout), out, 'auto takes pandas default names as a header');
    assert.equal(auto.stderr.trimEnd().split('\n').filter((l) => /^dltheory: warning: .*(x|y)\.csv: first line '0(,1)?' taken as a header/.test(l)).length, 2);
    const no = cli(...args, '--header', 'no');
    assert.equal(no.code, 0, no.stderr);
    assert.equal(JSON.parse(no.stdout).n, 7, '--header no reads the names as a point, as np.loadtxt does');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
