/**
 * `dltheory flatness`: the sharpness and norm baselines of Jiang et al. 2020 (docs/papers.md §1) on
 * a user's model: Keskar's sharpness (src/measures/sharpness.ts, any module), the product of
 * Frobenius norms and the path norm (src/measures/norms.ts, which read weight layers and fold
 * BatchNorm into the layer it follows where the model says which), each null with the reason where
 * it does not apply.
 */
import { disposing } from '../engine/memory.js';
import { InputError } from '../errors.js';
import { inferInputShape } from '../nn/summary.js';
import type { Module } from '../nn/module.js';
import { batchNormSources, frobeniusProduct, pathNorm } from '../measures/norms.js';
import { sharpness } from '../measures/sharpness.js';
import { formatTable } from '../report/progress.js';
import { numberOpt, parse, required, type Command } from './args.js';
import { openModel } from './models.js';
import { readPair } from './margins.js';
import { HEADER_OPTION, HEADER_USAGE } from './points.js';

/** Why the norms cannot fold the model's BatchNorms into their layers, or null when they can (or there are none). */
function unfoldable(model: Module): string | null {
  try {
    batchNormSources(model);
    return null;
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}

export const flatnessCommand: Command = {
  name: 'flatness',
  summary: 'sharpness and norm-based measures of a model (Keskar et al. 2017; Jiang et al. 2020)',
  usage: `
dltheory flatness --model FILE|SPEC --input X --labels Y [--header H] [--alpha A] [--steps K] [--restarts R]
                  [--sample N] [--seed S] [--json]

  --model FILE|SPEC  a .safetensors file written by dltheory, an ONNX model, or a spec (initialised with --seed)
  --input, --labels  points [n, ...] as the model takes them and integer labels [n], each .npy or .csv
${HEADER_USAGE}
  --alpha A          sharpness box C_α = {δ : |δ_i| ≤ α(|w_i| + 1)} (default 5e-4)
  --steps K          projected gradient ascent steps (default 5); --restarts R random starts (default 2)
  --sample N         points the losses are taken over, a seeded sample (default 1000)
  --seed S           seed of the sample, the starts and a spec's initialisation (default 0)
  --json             {n, sharpness: {baseLoss, maxLoss, value, log, keskar}, frobenius: {value, log, perLayer,
                     batchNormFolded} | null, pathNorm: {value, log} | null, distanceFromInit: null, undefined}:
                     undefined names each null and why

Sharpness applies to any model (losses in nats, eval mode). The product of Frobenius norms reads every
parameter '….weight' of two or more dims (Linear, Conv), with BatchNorm folded into the layer before it
where the model says which (the built-in models' names; an ONNX graph's Conv → BatchNormalization with
torch's names, Module.batchNormInputs); otherwise unfolded, as batchNormFolded says. The path
norm needs that folding and the shape of one point; it is a path norm for ReLU networks. The distance from
initialisation needs the initial weights, which --model does not give.
`,
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    labels: { type: 'string' },
    alpha: { type: 'string' },
    steps: { type: 'string' },
    restarts: { type: 'string' },
    sample: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    ...HEADER_OPTION,
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const inputPath = required(v.input, 'input');
    const labelsPath = required(v.labels, 'labels');
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const opts = {
      alpha: numberOpt(v.alpha, 'alpha', 5e-4, { min: 0 }),
      steps: numberOpt(v.steps, 'steps', 5, { integer: true, min: 0 }),
      restarts: numberOpt(v.restarts, 'restarts', 2, { integer: true, min: 0 }),
      sampleSize: numberOpt(v.sample, 'sample', 1000, { integer: true, min: 1 }),
      seed,
    };
    using model = openModel(required(v.model, 'model'), seed);
    const data = readPair(inputPath, labelsPath, v.header);
    using _data = disposing(data);
    let s: ReturnType<typeof sharpness>;
    try {
      s = sharpness(model, data.x, data.y, opts);
    } catch (e) {
      throw e instanceof InputError ? new InputError(`${inputPath}: ${e.message}`) : e;
    }
    const why: string[] = [];
    const noFold = unfoldable(model);
    const hasLayers = model.namedParameters().some(([n, t]) => n.endsWith('.weight') && t.ndim >= 2);
    let frobenius: (ReturnType<typeof frobeniusProduct> & { batchNormFolded: boolean }) | null = null;
    if (hasLayers) frobenius = { ...frobeniusProduct(model, { foldBatchNorm: noFold === null }), batchNormFolded: noFold === null };
    else why.push(`frobenius: ${model.label} has no parameter '….weight' of two or more dims (Linear or Conv)`);
    if (noFold !== null) why.push(`frobenius.batchNormFolded: ${noFold}`);
    const inputShape = inferInputShape(model);
    let path: ReturnType<typeof pathNorm> | null = null;
    if (!hasLayers) why.push('pathNorm: no weight layers');
    else if (noFold !== null) why.push(`pathNorm: ${noFold}`);
    else if (inputShape === undefined) why.push(`pathNorm: ${model.label} does not say what shape its points have`);
    else path = pathNorm(model, inputShape);
    why.push('distanceFromInit: needs the initial weights, which --model does not give');
    const result = { n: Math.min(opts.sampleSize, data.x.size(0)), sharpness: s, frobenius, pathNorm: path, distanceFromInit: null, undefined: why };
    if (v.json) console.log(JSON.stringify(result));
    else {
      const rows: [string, number, number][] = [['sharpness', s.value, s.log], ['sharpness (Keskar, %)', s.keskar, Math.log(s.keskar)]];
      if (frobenius) rows.push([`Π ‖W‖_F${frobenius.batchNormFolded ? '' : ' (BatchNorm not folded)'}`, frobenius.value, frobenius.log]);
      if (path) rows.push(['path norm', path.value, path.log]);
      console.log(
        `${model.label} on ${result.n} points of ${inputPath}; loss ${s.baseLoss} nats\n\n${formatTable(['measure', 'value', 'log'], rows)}\n${
          why.map((w) => `\n${w}`).join('')
        }`,
      );
    }
    return 0;
  },
};
