/**
 * Numeric CSV files, as numpy's `np.savetxt(delimiter=',')` and pandas' `DataFrame.to_csv(index=False)`
 * write them: one row of numbers per line, parsed by csv-parse (RFC 4180 quoting, CRLF, a UTF-8 BOM).
 *
 * Whether the first line is a header cannot always be told from the file: pandas writes the column
 * names of an unnamed frame as `0,1,…,k−1`, which is also a row of numbers, and pandas reads a first
 * line as a header where `np.loadtxt` reads it as data. So the caller says which (`header`), and the
 * default, 'auto', decides as follows and never keeps or drops a numeric first line without saying
 * so on stderr (warn):
 * - a first line with a cell that is not a number is a header, and so is pandas' header of a frame
 *   saved with its index (an empty first name): the index column is then left out, with a warning;
 * - a first line that is exactly pandas' default column names 0,1,…,k−1 is taken as a header, with a warning;
 * - any other numeric first line is data, with a warning.
 * Cells are decimal numbers, `nan`, `inf`, `infinity` (any case, with a sign), as numpy and Python's
 * float() read them; an empty cell is NaN, as pandas writes a missing value.
 */
import { parse } from 'csv-parse/sync';
import { check, InputError, warn } from '../errors.js';
import { readInputFile } from '../io/files.js';

/** How a CSV's first line is read: as a header, as data, or decided from its content (see the module note). */
export type CsvHeader = 'auto' | 'yes' | 'no';

/** A numeric CSV: `rows` × `cols` values in row-major order, and the header's cells if it had one. */
export interface NumericCsv {
  rows: number;
  cols: number;
  data: Float64Array;
  header?: string[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(nan|inf|infinity)$/i;

/** The value of one cell, or undefined when it is not a number. */
function cellValue(cell: string): number | undefined {
  if (cell === '') return NaN;
  if (NUMBER.test(cell)) return Number(cell);
  const m = SPECIAL.exec(cell);
  if (!m) return undefined;
  return m[2].toLowerCase() === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity;
}

/** Whether a first line is a header, per `mode` (see the module note); warns as the note says. */
function firstLineIsHeader(path: string, first: string[], mode: CsvHeader): boolean {
  if (mode !== 'auto') return mode === 'yes';
  if (pandasIndex(first) || first.some((c) => cellValue(c) === undefined)) return true;
  const whole = first.join(',');
  const line = whole.length > 40 ? `${whole.slice(0, 40)}…` : whole;
  if (first.every((c, j) => c === String(j))) {
    warn(`${path}: first line '${line}' taken as a header (pandas' default column names); pass --header no if it is data`);
    return true;
  }
  warn(`${path}: first line '${line}' read as data (it holds only numbers); pass --header yes if it is a header, --header no to silence this`);
  return false;
}

/** Whether a header line is pandas' with an index column: `to_csv` leaves the index's name empty. */
function pandasIndex(header: string[]): boolean {
  return header.length > 1 && header[0] === '' && header.slice(1).every((c) => c !== '');
}

/**
 * Reads the numeric CSV at `path` (see the module note for `header`). Errors are InputErrors naming
 * the file and, for a bad cell, its line and column (1-based, as an editor shows them).
 */
export function readNumericCsv(path: string, header: CsvHeader = 'auto'): NumericCsv {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(readInputFile(path), { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as typeof parsed;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: not a CSV file: ${(e as Error).message.split('\n')[0]}`);
  }
  check(parsed.length > 0, `${path}: no rows of numbers (the file is empty)`);
  const skip = firstLineIsHeader(path, parsed[0].record, header) ? 1 : 0;
  if (skip && pandasIndex(parsed[0].record)) {
    warn(`${path}: the first column is unnamed, as pandas writes its index (to_csv without index=False); it is left out`);
    for (const p of parsed) p.record.shift();
  }
  const rows = parsed.length - skip;
  check(rows >= 1, `${path}: no rows of numbers after the header line`);
  const cols = parsed[skip].record.length;
  const data = new Float64Array(rows * cols);
  parsed.forEach(({ record, info }, r) => {
    check(record.length === cols, () => `${path}: line ${info.lines} has ${record.length} columns, line ${parsed[skip].info.lines} has ${cols}`);
    if (r < skip) return;
    record.forEach((cell, j) => {
      const v = cellValue(cell);
      if (v === undefined) {
        const hint = record.length === 1 && /[;\t ]/.test(cell) ? ' (the values must be separated by commas)' : '';
        throw new InputError(`${path}: line ${info.lines}, column ${j + 1} is '${cell}', not a number${hint}`);
      }
      data[(r - skip) * cols + j] = v;
    });
  });
  return { rows, cols, data, ...(skip ? { header: parsed[0].record } : {}) };
}
