/** `dltheory gdv`: the generalised discrimination value (src/measures/gdv.ts) of raw activations or of a model's layers. */
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { readNpy } from '../data/npy.js';
import type { RawTensor } from '../io/raw.js';
import { disposeDataset } from '../data/dataset.js';
import { readInputFile, writeFileAtomic } from '../io/files.js';
import { fromRaw, loadModel } from '../nn/serialize.js';
import { gdv, gdvPerLayer } from '../measures/gdv.js';
import { lineChart, renderSvg } from '../report/chart.js';
import { formatTable } from '../report/progress.js';
import { choiceOpt, numberOpt, parse, required, type Command } from './args.js';
import { loadData } from './data.js';

const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity };

/**
 * A CSV of numbers as rows × columns. A first line with no numeric cell is a header and skipped;
 * nan/inf (any case) parse as values, so that they are reported as NaN/Inf rather than as text.
 */
export function readCsv(path: string): { rows: number; cols: number; data: Float64Array } {
  const lines = readInputFile(path).toString('utf8').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const cells = lines.map((l) => l.split(',').map((c) => c.trim()));
  const numeric = (c: string) => c !== '' && (c.toLowerCase() in SPECIAL || !Number.isNaN(Number(c)));
  const first = cells[0] !== undefined && !cells[0].some(numeric) ? 1 : 0;
  const rows = cells.length - first;
  check(rows >= 1, `${path}: no rows of numbers`);
  const cols = cells[first].length;
  const data = new Float64Array(rows * cols);
  for (let r = first; r < cells.length; r++) {
    check(cells[r].length === cols, () => `${path}: row ${r + 1} has ${cells[r].length} columns, row ${first + 1} has ${cols}`);
    cells[r].forEach((c, j) => {
      check(numeric(c), () => `${path}: row ${r + 1}, column ${j + 1} is '${c}', not a number`);
      data[(r - first) * cols + j] = SPECIAL[c.toLowerCase()] ?? Number(c);
    });
  }
  return { rows, cols, data };
}

/** Points [n, ...] from .npy or .csv (2-D unless `anyShape`, for a model's inputs) and their integer labels. */
export function readPoints(inputPath: string, labelsPath: string, anyShape: boolean): { x: Tensor; labels: number[] } {
  const csv = (p: string) => p.toLowerCase().endsWith('.csv');
  let raw: RawTensor;
  if (csv(inputPath)) {
    const c = readCsv(inputPath);
    raw = { dtype: 'float64', shape: [c.rows, c.cols], data: c.data };
  } else {
    raw = readNpy(inputPath);
    check(raw.dtype !== 'bool', `${inputPath}: bool inputs are not supported`);
    check(anyShape ? raw.shape.length >= 2 : raw.shape.length === 2, () => `${inputPath}: shape [${raw.shape}]; expected [n, ${anyShape ? 'features...' : 'dims'}]`);
  }
  const per = raw.shape.slice(1).reduce((a, b) => a * b, 1);
  const values = raw.data as ArrayLike<number | bigint>;
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(Number(values[i]))) throw new InputError(`${inputPath}: point ${Math.floor(i / per)}, dimension ${i % per} is ${values[i]}; GDV needs finite values`);
  let labels: number[];
  if (csv(labelsPath)) {
    const c = readCsv(labelsPath);
    check(c.cols === 1, () => `${labelsPath}: ${c.cols} columns; expected one label per row`);
    labels = Array.from(c.data);
  } else {
    const yr = readNpy(labelsPath);
    check(yr.shape.length === 1, () => `${labelsPath}: labels have shape [${yr.shape}], not [n]`);
    labels = Array.from(yr.data as ArrayLike<number | bigint>, Number);
  }
  labels.forEach((v, i) => check(Number.isSafeInteger(v), () => `${labelsPath}: label ${i} is ${v}, not an integer`));
  check(labels.length === raw.shape[0], () => `${labelsPath}: ${labels.length} labels for the ${raw.shape[0]} points of ${inputPath}`);
  return { x: fromRaw(raw), labels };
}

const fmt = (v: number) => v.toFixed(4);

export const gdvCommand: Command = {
  name: 'gdv',
  summary: 'generalised discrimination value of activations or of each layer of a model (Schilling et al. 2018)',
  usage: `
dltheory gdv --input X.npy|X.csv --labels Y.npy|Y.csv [--json]
dltheory gdv --model FILE (--data NAME [--split train|test] | --input X --labels Y) [--probes a,b] [--chart FILE.svg] [--json]
             [--limit N] [--sample-per-class N] [--seed S] [--batch B]

  --input, --labels   points [n, D] (.npy float32/float64, or a CSV of numbers, an optional header line) and
                      integer labels [n] (.npy, or a CSV with one label per row); with --model, the model's inputs
  --model FILE        a .safetensors file written by dltheory: GDV at each of its probe points
  --data NAME         a data set (mnist, fashion-mnist, cifar10, cifar100, or a path; --data-dir as in eval)
  --split             train (default) or test
  --limit N           the first N points only
  --sample-per-class N  a seeded sample of N points of each class (classes with fewer keep all)
  --seed S            seed of the sample and of the data set's split (default 0)
  --probes            probe points to measure (default: all of the model's)
  --batch B           points per forward pass (default 256)
  --chart FILE.svg    with --model: GDV per probe point as a line chart
  --json              {gdv, intra, inter, n, dims, classes}; with --model a list of those, each with its probe
`,
  options: {
    model: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' }, split: { type: 'string' },
    input: { type: 'string' }, labels: { type: 'string' }, limit: { type: 'string' }, 'sample-per-class': { type: 'string' },
    seed: { type: 'string' }, probes: { type: 'string' }, batch: { type: 'string' }, chart: { type: 'string' }, json: { type: 'boolean' },
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    check((v.data === undefined) !== (v.input === undefined), 'give either --data (with --model) or --input with --labels');
    check(v.data === undefined || v.model !== undefined, '--data needs --model; raw activations come with --input and --labels');
    check(v.chart === undefined || v.model !== undefined, '--chart needs --model (one GDV per probe point)');
    const split = choiceOpt(v.split, 'split', ['train', 'test'] as const, 'train');
    const limit = v.limit === undefined ? undefined : numberOpt(v.limit, 'limit', 0, { integer: true, min: 1 });
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const perClass = v['sample-per-class'] === undefined ? undefined : numberOpt(v['sample-per-class'], 'sample-per-class', 0, { integer: true, min: 2 });
    const samplePerClass = perClass === undefined ? undefined : { n: perClass, seed };
    const batchSize = numberOpt(v.batch, 'batch', 256, { integer: true, min: 1 });
    const probes = typeof v.probes === 'string' ? v.probes.split(',').filter((p) => p !== '') : undefined;

    let data: { x: Tensor; labels: Tensor | number[]; source: string };
    if (v.input !== undefined) {
      const p = readPoints(v.input as string, required(v.labels, 'labels'), v.model !== undefined);
      // Inputs are checked on reading; what gdv can still reject is the labels.
      data = { ...p, source: v.model === undefined ? `${v.labels}` : `${v.input}` };
    } else {
      const splits = loadData({ name: v.data as string, seed, dir: v['data-dir'] as string | undefined });
      disposeDataset(split === 'train' ? splits.test : splits.train);
      data = { x: splits[split].x, labels: splits[split].y, source: `${v.data} ${split}` };
    }
    const model = v.model === undefined ? undefined : loadModel(v.model as string).model;
    try {
      const within = <T>(f: () => T): T => {
        try {
          return f();
        } catch (e) {
          throw e instanceof InputError ? new InputError(`${data.source}: ${e.message}`) : e;
        }
      };
      if (!model) {
        let { x, labels } = data as { x: Tensor; labels: number[] };
        if (limit !== undefined && limit < labels.length) [x, labels] = [x.narrow(0, 0, limit), labels.slice(0, limit)];
        const r = within(() => gdv(x, labels, { samplePerClass }));
        if (x !== data.x) x.dispose();
        const out = { gdv: r.gdv, intra: r.intra, inter: r.inter, n: r.n, dims: r.dims, classes: r.classes };
        console.log(v.json ? JSON.stringify(out) : `${v.input}: GDV ${fmt(r.gdv)} (intra ${fmt(r.intra)}, inter ${fmt(r.inter)}; ${r.n} points, ${r.dims} dims, ${r.classes} classes)`);
        return 0;
      }
      const rs = within(() => gdvPerLayer(model, data.x, data.labels, { probes, batchSize, limit, samplePerClass }));
      if (v.chart !== undefined) {
        const rows = rs.map((r, layer) => ({ layer, probe: r.probe, GDV: r.gdv }));
        const title = `GDV per probe point: ${model.spec}, ${rs[0]?.n ?? 0} points of ${data.source}`;
        const spec = lineChart({ title, x: 'layer', y: 'GDV', data: rows });
        // Probe names on the x axis, in forward order, rather than their indices.
        (spec as { encoding: Record<string, unknown> }).encoding.x = { field: 'probe', type: 'ordinal', sort: null, title: 'probe point' };
        writeFileAtomic(v.chart as string, await renderSvg(spec));
      }
      if (v.json) console.log(JSON.stringify(rs.map(({ probe, gdv, intra, inter, n, dims, classes }) => ({ probe, gdv, intra, inter, n, dims, classes }))));
      else {
        const head = `${rs[0]?.n ?? 0} points of ${data.source}, ${rs[0]?.classes ?? 0} classes, model ${model.spec}; GDV (more negative: better separated)`;
        console.log(`${head}\n\n${formatTable(['probe', 'dims', 'GDV', 'intra', 'inter'], rs.map((r) => [r.probe, r.dims, r.gdv, r.intra, r.inter]))}`);
      }
      return 0;
    } finally {
      model?.dispose();
      data.x.dispose();
      if (!Array.isArray(data.labels)) data.labels.dispose();
    }
  },
};
