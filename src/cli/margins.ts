/** `dltheory margins`: the margin distribution of a saved model on a data set (src/measures/margins.ts). */
import { tensor } from '../engine/creation.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { readNpy } from '../data/npy.js';
import { disposeDataset } from '../data/dataset.js';
import { writeFileAtomic } from '../io/files.js';
import { fromRaw, loadModel } from '../nn/serialize.js';
import { marginDistribution, type MarginResult } from '../measures/margins.js';
import { formatTable } from '../report/progress.js';
import { choiceOpt, numberOpt, parse, required, type Command } from './args.js';
import { loadData } from './data.js';

/** Inputs and labels from two .npy files, checked: matching length, finite inputs, integer labels with ≥ 2 classes. */
export function readPair(inputPath: string, labelsPath: string): { x: Tensor; y: Tensor } {
  const xr = readNpy(inputPath);
  const yr = readNpy(labelsPath);
  check(xr.shape.length >= 2, () => `${inputPath}: inputs have shape [${xr.shape}]; expected [n, features...]`);
  check(xr.dtype !== 'bool', `${inputPath}: bool inputs are not supported`);
  check(yr.shape.length === 1, () => `${labelsPath}: labels have shape [${yr.shape}], not [n]`);
  check(yr.shape[0] === xr.shape[0], () => `${labelsPath}: ${yr.shape[0]} labels for the ${xr.shape[0]} inputs of ${inputPath}`);
  for (let i = 0; i < xr.data.length; i++) check(Number.isFinite(Number(xr.data[i])), () => `${inputPath}: element ${i} is ${xr.data[i]}, not a finite number`);
  const seen = new Set<number>();
  const y = Array.from(yr.data as ArrayLike<number | bigint>, (v, i) => {
    check(Number.isSafeInteger(Number(v)), () => `${labelsPath}: label ${i} is ${v}, not an integer`);
    seen.add(Number(v));
    return Number(v);
  });
  check(seen.size >= 2, () => `${labelsPath}: only ${seen.size} class${seen.size === 1 ? ' occurs' : 'es occur'} in the labels; margins need at least 2`);
  return { x: fromRaw(xr), y: tensor(BigInt64Array.from(y, BigInt), [y.length], 'int64') };
}

function table(r: MarginResult, title: string): string {
  const rows = r.probes.map((p) => {
    const s = p.signature;
    return [p.name, p.totalVariation, `${(100 * p.droppedFraction).toFixed(1)}%`, s.q1, s.median, s.q3, s.lowerFence, s.upperFence];
  });
  return `${title}\n\n${formatTable(['probe', 'total variation', 'dropped', 'Q1', 'median', 'Q3', 'lower fence', 'upper fence'], rows)}`;
}

/** One row per point and probe point: index,label,probe,margin,normalized_margin (margins signed, before dropping). */
function csv(r: MarginResult): string {
  const rows = ['index,label,probe,margin,normalized_margin'];
  for (let i = 0; i < r.index.length; i++)
    for (const p of r.probes) rows.push(`${r.index[i]},${r.label[i]},${p.name},${p.distances[i]},${p.distances[i] / p.totalVariation}`);
  return `${rows.join('\n')}\n`;
}

export const marginsCommand: Command = {
  name: 'margins',
  summary: 'margin distribution signatures of a saved model (Jiang et al. 2019)',
  usage: `
dltheory margins --model FILE (--data NAME [--split train|test] | --input X.npy --labels Y.npy)
                 [--limit N] [--dtype float32|float64] [--probes a,b] [--batch B] [--json] [--csv FILE]

  --model FILE       a .safetensors file written by dltheory
  --data NAME        a data set (mnist, fashion-mnist, cifar10, cifar100, or a path; --data-dir, --seed as in eval)
  --split            train (default) or test
  --input, --labels  inputs [n, ...] and integer labels [n] as .npy
  --limit N          the first N points, in order
  --dtype            float32 (default) or float64 (the model is converted after loading)
  --probes           probe points to measure (default: all of the model's)
  --batch B          points per forward/backward pass (default 256)
  --json             per probe point: name, totalVariation, droppedFraction, signature, logSignature, moments
  --csv FILE         one row per point and probe point: index,label,probe,margin,normalized_margin
`,
  options: {
    model: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' }, seed: { type: 'string' }, split: { type: 'string' },
    input: { type: 'string' }, labels: { type: 'string' }, limit: { type: 'string' }, dtype: { type: 'string' }, probes: { type: 'string' },
    batch: { type: 'string' }, json: { type: 'boolean' }, csv: { type: 'string' },
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const modelPath = required(v.model, 'model');
    check((v.data === undefined) !== (v.input === undefined), 'give either --data or --input (with --labels)');
    if (v.input !== undefined) required(v.labels, 'labels');
    const split = choiceOpt(v.split, 'split', ['train', 'test'] as const, 'train');
    const dtype = choiceOpt(v.dtype, 'dtype', ['float32', 'float64'] as const, 'float32');
    const limit = v.limit === undefined ? undefined : numberOpt(v.limit, 'limit', 0, { integer: true, min: 1 });
    const batchSize = numberOpt(v.batch, 'batch', 256, { integer: true, min: 1 });
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const probes = typeof v.probes === 'string' ? v.probes.split(',').filter((p) => p !== '') : undefined;

    const { model } = loadModel(modelPath);
    let data: { x: Tensor; y: Tensor; source: string } | undefined;
    try {
      if (v.input !== undefined) {
        data = { ...readPair(v.input as string, v.labels as string), source: `${v.input}, ${v.labels}` };
      } else {
        const splits = loadData({ name: v.data as string, seed, dir: v['data-dir'] as string | undefined });
        disposeDataset(split === 'train' ? splits.test : splits.train);
        data = { ...splits[split], source: `${v.data} ${split}` };
      }
      if (dtype === 'float64') model.to('float64');
      let r: MarginResult;
      try {
        r = marginDistribution(model, data.x, data.y, { probes, batchSize, limit });
      } catch (e) {
        throw e instanceof InputError ? new InputError(`${data.source}: ${e.message}`) : e;
      }
      if (v.csv !== undefined) writeFileAtomic(v.csv as string, csv(r));
      if (v.json) {
        const out = r.probes.map(({ name, totalVariation, droppedFraction, signature, logSignature, moments }) => ({ name, totalVariation, droppedFraction, signature, logSignature, moments }));
        console.log(JSON.stringify({ n: r.index.length, dtype, probes: out }));
      } else {
        console.log(table(r, `${r.index.length} points of ${data.source}, model ${model.spec}, ${dtype}; margins normalised by total variation`));
      }
      return 0;
    } finally {
      model.dispose();
      data?.x.dispose();
      data?.y.dispose();
    }
  },
};
