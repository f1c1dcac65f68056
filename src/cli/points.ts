/**
 * Points and labels from the user's files, for every command with --input/--labels: .npy (what numpy
 * writes, src/data/npy.ts) or .csv (src/data/csv.ts, with --header saying whether a first line is a
 * header). Errors name the file; inputs must be finite numbers, labels integers.
 */
import { readNpy } from '../data/npy.js';
import { readNumericCsv, type CsvHeader } from '../data/csv.js';
import { check } from '../errors.js';
import type { RawTensor } from '../io/raw.js';
import { choiceOpt } from './args.js';

/** The --header option of the commands that read CSV. */
export const HEADER_OPTION = { header: { type: 'string' } } as const;

/** Its line in a command's usage. */
export const HEADER_USAGE = `  --header H[,H]      whether a CSV's first line is a header: auto (default: a line with text is; a numeric one
                      is data unless it is pandas' 0,1,…,k−1, and either way stderr says so), yes or no; two values
                      for --input and --labels`;

const CHOICES = ['auto', 'yes', 'no'] as const;

/** The --header value for the input file and for the labels file. */
export function headerOpt(v: string | boolean | undefined): { input: CsvHeader; labels: CsvHeader } {
  const parts = typeof v === 'string' ? v.split(',') : [undefined];
  check(parts.length <= 2, () => `--header takes one value, or two separated by a comma, got '${v}'`);
  const [input, labels = input] = parts.map((p) => choiceOpt(p, 'header', CHOICES, 'auto'));
  return { input, labels };
}

/** An array from a .csv (float64 [rows, columns]) or .npy file, told apart by the name's ending. */
export function readArray(path: string, header: CsvHeader): RawTensor {
  const lower = path.toLowerCase();
  check(lower.endsWith('.csv') || lower.endsWith('.npy'), () => `${path}: give a .npy file or a .csv file of comma-separated numbers`);
  if (lower.endsWith('.npy')) return readNpy(path);
  const c = readNumericCsv(path, header);
  return { dtype: 'float64', shape: [c.rows, c.cols], data: c.data };
}

/**
 * Inputs [n, features...] (exactly [n, dims] when `flat`) from `path`: numbers (not bool), every one
 * finite; the first NaN or ±Inf is named by point and dimension (flat index within the point).
 */
export function readInputs(path: string, header: CsvHeader, flat = false): RawTensor {
  const raw = readArray(path, header);
  check(raw.shape.length === 0 || raw.shape[0] >= 1, () => `${path}: shape [${raw.shape}] holds no point`);
  check(flat ? raw.shape.length === 2 : raw.shape.length >= 2, () => `${path}: shape [${raw.shape}]; expected [n, ${flat ? 'dims' : 'features...'}]`);
  check(raw.dtype !== 'bool', `${path}: bool inputs are not supported`);
  const per = raw.shape.slice(1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < raw.data.length; i++) {
    const v = Number(raw.data[i]);
    check(Number.isFinite(v), () => `${path}: point ${Math.floor(i / per)}, dimension ${i % per} is ${v}; inputs must be finite numbers`);
  }
  return raw;
}

/** Integer labels [n] from `path` (.npy of shape [n], or a CSV of one column), one for each of the `n` points of `inputPath`. */
export function readLabels(path: string, header: CsvHeader, n: number, inputPath: string): number[] {
  const raw = readArray(path, header);
  const column = raw.shape.length === 2 && raw.shape[1] === 1 && path.toLowerCase().endsWith('.csv');
  check(raw.shape.length === 1 || column,
    () => `${path}: labels have shape [${raw.shape}]; expected [n]${path.endsWith('.csv') ? ' (one label per line)' : ''}`);
  const values = raw.data as ArrayLike<number | bigint>;
  const labels = Array.from(values, (v, i) => {
    // int64 labels beyond 2^53 would be rounded as numbers, so they are refused by their exact value.
    check(Number.isSafeInteger(Number(v)),
      () => `${path}: label ${i} is ${v}, ${typeof v === 'bigint' ? 'beyond ±2^53, too large for a label' : 'not an integer'}`);
    return Number(v);
  });
  check(labels.length === n, () => `${path}: ${labels.length} labels for the ${n} points of ${inputPath}`);
  return labels;
}
