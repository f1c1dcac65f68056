/** `dltheory margins`: the margin distribution of a saved model on a data set (src/measures/margins.ts). */
import { tensor } from '../engine/creation.js';
import { dispose, disposing } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { disposeDataset } from '../data/dataset.js';
import { writeFileAtomic } from '../io/files.js';
import { fromRaw, loadModel } from '../nn/serialize.js';
import type { Module } from '../nn/module.js';
import { checkFits } from '../train/train.js';
import { marginDistribution, type MarginResult } from '../measures/margins.js';
import { formatTable } from '../report/progress.js';
import { choiceOpt, listOpt, numberOpt, parse, required, type Command } from './args.js';
import { loadData } from '../data/load.js';
import { HEADER_OPTION, HEADER_USAGE, headerOpt, readInputs, readLabels } from './points.js';

/**
 * Inputs and labels from two files (.npy or .csv, see points.ts), checked: matching length, finite
 * inputs, integer labels of at least 2 classes.
 */
export function readPair(inputPath: string, labelsPath: string, header: string | boolean | undefined): { x: Tensor; y: Tensor } {
  const h = headerOpt(header);
  const xr = readInputs(inputPath, h.input);
  const y = readLabels(labelsPath, h.labels, xr.shape[0], inputPath);
  const classes = new Set(y).size;
  check(classes >= 2, () => `${labelsPath}: only ${classes} class${classes === 1 ? ' occurs' : 'es occur'} in the labels; margins need at least 2`);
  return { x: fromRaw(xr), y: tensor(BigInt64Array.from(y, BigInt), [y.length], 'int64') };
}

/**
 * readPair, then checked against `model`: the points fit it (an error names the inputs file) and every label is one of its
 * classes (an error names the labels file and the point).
 */
export function readPairFor(model: Module, inputPath: string, labelsPath: string, header: string | boolean | undefined): { x: Tensor; y: Tensor } {
  const pair = readPair(inputPath, labelsPath, header);
  try {
    checkFits(model, { ...pair, name: inputPath, classes: [], [Symbol.dispose]() {} }, labelsPath);
  } catch (e) {
    dispose([pair.x, pair.y]);
    throw e;
  }
  return pair;
}

function table(r: MarginResult, title: string): string {
  const rows = r.probes.map((p) => {
    const s = p.signature;
    return [p.name, p.totalVariation, `${(100 * p.droppedFraction).toFixed(1)}%`, s.q1, s.median, s.q3, s.lowerFence, s.upperFence];
  });
  const notes = r.probes.flatMap((p) => p.undefined.map((u) => `\n${p.name}: ${u}`)).join('');
  return `${title}\n\n${formatTable(['probe', 'total variation', 'dropped', 'Q1', 'median', 'Q3', 'lower fence', 'upper fence'], rows)}${notes}`;
}

/**
 * One row per point and probe point: index,label,probe,distance,normalized_margin,undefined (margins
 * signed, before dropping); an undefined normalised margin is an empty cell (pandas reads NaN) and
 * the last column says why.
 */
function csv(r: MarginResult): string {
  const rows = ['index,label,probe,distance,normalized_margin,undefined'];
  const why = r.probes.map((p) => (p.undefined.find((u) => u.startsWith('normalized_margin')) ?? '').replaceAll(',', ';'));
  for (let i = 0; i < r.index.length; i++)
    r.probes.forEach((p, l) => {
      const normalized = Number.isNaN(p.normalized[i]) ? '' : p.normalized[i];
      rows.push(`${r.index[i]},${r.label[i]},${p.name},${p.distances[i]},${normalized},${why[l]}`);
    });
  return `${rows.join('\n')}\n`;
}

export const marginsCommand: Command = {
  name: 'margins',
  summary: 'margin distribution signatures of a saved model (Jiang et al. 2019)',
  usage: `
dltheory margins --model FILE (--data NAME [--split train|test] | --input X --labels Y [--header H])
                 [--limit N] [--dtype float32|float64] [--probes a,b] [--batch B] [--json] [--csv FILE]

  --model FILE       a .safetensors file written by dltheory, or an ONNX model (docs/onnx.md)
  --data NAME        a data set (mnist, fashion-mnist, cifar10, cifar100, or a path; --data-dir, --seed as in eval)
  --split            train (default) or test
  --input, --labels  inputs [n, ...] and integer labels [n], each .npy or .csv
${HEADER_USAGE}
  --limit N          the first N points, in order
  --dtype            float32 (default) or float64 (the model is converted after loading)
  --probes           probe points to measure (default: the model's default ones, all for built-in models)
  --batch B          points per forward/backward pass (default 256)
  --json             per probe point: name, totalVariation, droppedFraction, signature, logSignature, moments,
                     and undefined: why a statistic is null ("moments.skewness: constant sample", …)
  --csv FILE         one row per point and probe point: index,label,probe,distance,normalized_margin,undefined
`,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    'data-dir': { type: 'string' },
    seed: { type: 'string' },
    split: { type: 'string' },
    input: { type: 'string' },
    labels: { type: 'string' },
    limit: { type: 'string' },
    dtype: { type: 'string' },
    probes: { type: 'string' },
    batch: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'string' },
    ...HEADER_OPTION,
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
    const probes = listOpt(v.probes, 'probes');

    using model = loadModel(modelPath).model;
    let data: { x: Tensor; y: Tensor; source: string };
    if (v.input !== undefined) {
      data = { ...readPair(v.input as string, v.labels as string, v.header), source: `${v.input}, ${v.labels}` };
    } else {
      const splits = loadData({ name: v.data as string, seed, dir: v['data-dir'] as string | undefined });
      disposeDataset(split === 'train' ? splits.test : splits.train);
      data = { ...splits[split], source: `${v.data} ${split}` };
    }
    using _data = disposing(data);
    if (dtype === 'float64') model.to('float64');
    let r: MarginResult;
    try {
      r = marginDistribution(model, data.x, data.y, { probes, batchSize, limit });
    } catch (e) {
      throw e instanceof InputError ? new InputError(`${data.source}: ${e.message}`) : e;
    }
    if (v.csv !== undefined) writeFileAtomic(v.csv as string, csv(r));
    if (v.json) {
      // NaN becomes null in JSON; `undefined` names each null and why.
      const out = r.probes.map(({ name, totalVariation, droppedFraction, signature, logSignature, moments, undefined: why }) => ({
        name,
        totalVariation,
        droppedFraction,
        signature,
        logSignature,
        moments,
        undefined: why,
      }));
      console.log(JSON.stringify({ n: r.index.length, dtype, probes: out }));
    } else {
      console.log(table(r, `${r.index.length} points of ${data.source}, model ${model.label}, ${dtype}; margins normalised by total variation`));
    }
    return 0;
  },
};
