/** `dltheory gdv`: the generalised discrimination value (src/measures/gdv.ts) of raw activations or of a model's layers. */
import { disposing } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { disposeDataset } from '../data/dataset.js';
import { writeFileAtomic } from '../io/files.js';
import { fromRaw, loadModel } from '../nn/serialize.js';
import { gdv, gdvPerLayer } from '../measures/gdv.js';
import { lineChart, renderSvg } from '../report/chart.js';
import { formatTable } from '../report/progress.js';
import { choiceOpt, listOpt, numberOpt, outputOpt, parse, required, type Command } from './args.js';
import { loadData } from '../data/load.js';
import { HEADER_OPTION, HEADER_USAGE, headerOpt, readInputs, readLabels } from './points.js';

/** Points [n, ...] (2-D unless `anyShape`, for a model's inputs) and their integer labels, from .npy or .csv files. */
function readPoints(inputPath: string, labelsPath: string, header: string | boolean | undefined, anyShape: boolean): { x: Tensor; labels: number[] } {
  const h = headerOpt(header);
  const raw = readInputs(inputPath, h.input, !anyShape);
  return { x: fromRaw(raw), labels: readLabels(labelsPath, h.labels, raw.shape[0], inputPath) };
}

const fmt = (v: number) => v.toFixed(4);

export const gdvCommand: Command = {
  name: 'gdv',
  summary: 'generalised discrimination value of activations or of each layer of a model (Schilling et al. 2018)',
  usage: `
dltheory gdv --input X.npy|X.csv --labels Y.npy|Y.csv [--header auto|yes|no] [--json]
dltheory gdv --model FILE (--data NAME [--split train|test] | --input X --labels Y) [--probes a,b] [--chart FILE.svg] [--json]
             [--limit N] [--sample-per-class N] [--seed S] [--batch B]

  --input, --labels   points [n, D] (.npy, or a CSV of numbers) and integer labels [n] (.npy, or a CSV with one
                      label per line); with --model, the model's inputs
${HEADER_USAGE}
  --model FILE        a .safetensors file written by dltheory, or an ONNX model: GDV at each of its probe points
  --data NAME         a data set (mnist, fashion-mnist, cifar10, cifar100, or a path; --data-dir as in eval)
  --split             train (default) or test
  --limit N           the first N points only
  --sample-per-class N  a seeded sample of N points of each class (classes with fewer keep all)
  --seed S            seed of the sample and of the data set's split (default 0)
  --probes            probe points to measure (default: the model's default ones, all for built-in models)
  --batch B           points per forward pass (default 256)
  --chart FILE.svg    with --model: GDV per probe point as a line chart
  --json              {gdv, intra, inter, n, dims, classes}; with --model a list of those, each with its probe
`,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    'data-dir': { type: 'string' },
    split: { type: 'string' },
    input: { type: 'string' },
    labels: { type: 'string' },
    limit: { type: 'string' },
    'sample-per-class': { type: 'string' },
    seed: { type: 'string' },
    probes: { type: 'string' },
    batch: { type: 'string' },
    chart: { type: 'string' },
    json: { type: 'boolean' },
    ...HEADER_OPTION,
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    check((v.data === undefined) !== (v.input === undefined), 'give either --data (with --model) or --input with --labels');
    check(v.data === undefined || v.model !== undefined, '--data needs --model; raw activations come with --input and --labels');
    check(v.chart === undefined || v.model !== undefined, '--chart needs --model (one GDV per probe point)');
    for (const o of ['probes', 'batch'] as const) check(v[o] === undefined || v.model !== undefined, `--${o} needs --model`);
    check(v.split === undefined || v.data !== undefined, '--split needs --data');
    const chart = outputOpt(v.chart, 'chart', '.svg');
    const split = choiceOpt(v.split, 'split', ['train', 'test'] as const, 'train');
    const limit = v.limit === undefined ? undefined : numberOpt(v.limit, 'limit', 0, { integer: true, min: 1 });
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const perClass = v['sample-per-class'] === undefined ? undefined : numberOpt(v['sample-per-class'], 'sample-per-class', 0, { integer: true, min: 2 });
    const samplePerClass = perClass === undefined ? undefined : { n: perClass, seed };
    const batchSize = numberOpt(v.batch, 'batch', 256, { integer: true, min: 1 });
    const probes = listOpt(v.probes, 'probes');

    let data: { x: Tensor; labels: Tensor | number[]; source: string };
    if (v.input !== undefined) {
      const p = readPoints(v.input as string, required(v.labels, 'labels'), v.header, v.model !== undefined);
      // Inputs are checked on reading; what gdv can still reject is the labels.
      data = { ...p, source: v.model === undefined ? `${v.labels}` : `${v.input}` };
    } else {
      const splits = loadData({ name: v.data as string, seed, dir: v['data-dir'] as string | undefined });
      disposeDataset(split === 'train' ? splits.test : splits.train);
      data = { x: splits[split].x, labels: splits[split].y, source: `${v.data} ${split}` };
    }
    using _data = disposing(data);
    using model = v.model === undefined ? undefined : loadModel(v.model as string).model;
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
      console.log(
        v.json
          ? JSON.stringify(out)
          : `${v.input}: GDV ${fmt(r.gdv)} (intra ${fmt(r.intra)}, inter ${fmt(r.inter)}; ${r.n} points, ${r.dims} dims, ${r.classes} classes)`,
      );
      return 0;
    }
    const rs = within(() => gdvPerLayer(model, data.x, data.labels, { probes, batchSize, limit, samplePerClass }));
    if (chart !== undefined) {
      const rows = rs.map((r, layer) => ({ layer, probe: r.probe, GDV: r.gdv }));
      const title = `GDV per probe point: ${model.label}, ${rs[0]?.n ?? 0} points of ${data.source}`;
      const spec = lineChart({ title, x: 'layer', y: 'GDV', data: rows });
      // Probe names on the x axis, in forward order, rather than their indices.
      (spec as { encoding: Record<string, unknown> }).encoding.x = { field: 'probe', type: 'ordinal', sort: null, title: 'probe point' };
      writeFileAtomic(chart, await renderSvg(spec));
    }
    if (v.json) console.log(JSON.stringify(rs.map(({ probe, gdv, intra, inter, n, dims, classes }) => ({ probe, gdv, intra, inter, n, dims, classes }))));
    else {
      const head = `${rs[0]?.n ?? 0} points of ${data.source}, ${rs[0]?.classes ?? 0} classes, model ${model.label}; GDV (more negative: better separated)`;
      console.log(`${head}\n\n${formatTable(['probe', 'dims', 'GDV', 'intra', 'inter'], rs.map((r) => [r.probe, r.dims, r.gdv, r.intra, r.inter]))}`);
    }
    return 0;
  },
};
