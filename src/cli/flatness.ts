/**
 * `dltheory flatness`: the sharpness and norm baselines of Jiang et al. 2020 (docs/papers.md §1) on
 * a user's model: Keskar's sharpness (src/measures/sharpness.ts, any module), the product of
 * Frobenius norms and the path norm (src/measures/norms.ts, which read weight layers and fold
 * BatchNorm into the layer it follows where the model says which), each null with the reason where
 * it does not apply; the PAC-Bayesian flatness σ' and bound terms, plain and magnitude-aware
 * (src/measures/flatness.ts), and the input-gradient norms (src/measures/input-gradient.ts), on
 * the same seeded sample of points as sharpness.
 */
import { disposing } from '../engine/memory.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { inferInputShape } from '../nn/summary.js';
import type { Module } from '../nn/module.js';
import { batchNormSources, frobeniusProduct, pathNorm } from '../measures/norms.js';
import { seededSample, sharpness } from '../measures/sharpness.js';
import { pacBayesFlatness, type PacBayesResult } from '../measures/flatness.js';
import { inputGradientNorm } from '../measures/input-gradient.js';
import { formatTable } from '../report/progress.js';
import { choiceOpt, numberOpt, parse, required, type Command } from './args.js';
import { openModel } from './models.js';
import { readPairFor } from './margins.js';
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
  summary: 'sharpness, PAC-Bayes flatness, norm and input-gradient measures of a model (Keskar et al. 2017; Jiang et al. 2020)',
  usage: `
dltheory flatness --model FILE|SPEC --input X --labels Y [--header H] [--alpha A] [--steps K] [--restarts R]
                  [--sample N] [--seed S] [--deviation D] [--deviation-of error|loss] [--mc-samples M]
                  [--bisection-steps B] [--no-pac-bayes] [--json]

  --model FILE|SPEC  a .safetensors file written by dltheory, an ONNX model, or a spec (initialised with --seed)
  --input, --labels  points [n, ...] as the model takes them and integer labels [n], each .npy or .csv
${HEADER_USAGE}
  --alpha A          sharpness box C_α = {δ : |δ_i| ≤ α(|w_i| + 1)} (default 5e-4)
  --steps K          projected gradient ascent steps (default 5); --restarts R random starts (default 2)
  --sample N         points the losses, errors and gradients are taken over, a seeded sample (default 1000)
  --seed S           seed of the sample, the starts, the weight noise and a spec's initialisation (default 0)
  --deviation D      PAC-Bayes: σ' is the largest σ whose weight noise raises the training error by at
                     most D (default 0.1, Jiang et al.'s; 0 < D < 1 for the error)
  --deviation-of     error (0-1, default) or loss (mean cross-entropy, nats)
  --mc-samples M     noise draws per tested σ (default 10, at least 2)
  --bisection-steps B  bisection steps on log σ over [1e-5, 10] (default 15)
  --no-pac-bayes     skip the PAC-Bayes search (1 + B·M forward passes over the sample, twice)
  --json             {n, sharpness: {baseLoss, maxLoss, value, log, keskar}, frobenius: {value, log, perLayer,
                     batchNormFolded} | null, pathNorm: {value, log} | null, distanceFromInit: null,
                     pacBayes, pacBayesMagnitude: {sigma, bracket, interval, flatness, orig, init: null,
                     baseline, trace, final, ...} | null, inputGradient: {value, stdErr, lossGradient:
                     {value, stdErr}, outputs}, undefined}: undefined names each null and why

Sharpness applies to any model (losses in nats, eval mode). The product of Frobenius norms reads every
parameter '….weight' of two or more dims (Linear, Conv), with BatchNorm folded into the layer before it
where the model says which (the built-in models' names; an ONNX graph's Conv → BatchNormalization with
torch's names, Module.batchNormInputs); otherwise unfolded, as batchNormFolded says. The path
norm needs that folding and the shape of one point; it is a path norm for ReLU networks. The distance from
initialisation and the PAC-Bayes .init terms need the initial weights, which --model does not give.
PAC-Bayes (Jiang et al. 2020, appendix C): pacBayes.flatness = 1/σ'² with noise N(0, σ²) on every
parameter, pacBayesMagnitude with N(0, σ²w² + 1e-3²); orig = the bound term with m = the points in
--input; bracket = where σ' lies given the Monte-Carlo error. inputGradient: E‖∂f/∂x‖_F over the
sample, and E‖∂ℓ/∂x‖₂ of the cross-entropy.
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
    deviation: { type: 'string' },
    'deviation-of': { type: 'string' },
    'mc-samples': { type: 'string' },
    'bisection-steps': { type: 'string' },
    'no-pac-bayes': { type: 'boolean' },
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
    const metric = choiceOpt(v['deviation-of'], 'deviation-of', ['error', 'loss'] as const, 'error');
    const deviation = numberOpt(v.deviation, 'deviation', 0.1, { min: 0 });
    check(deviation > 0 && (metric === 'loss' || deviation < 1),
      () => `--deviation must be > 0${metric === 'error' ? ' and < 1 (an error rate)' : ''}, got '${v.deviation}'`);
    const pacOpts = {
      deviation,
      metric,
      samples: numberOpt(v['mc-samples'], 'mc-samples', 10, { integer: true, min: 2 }),
      steps: numberOpt(v['bisection-steps'], 'bisection-steps', 15, { integer: true, min: 1 }),
      seed,
    };
    using model = openModel(required(v.model, 'model'), seed);
    const data = readPairFor(model, inputPath, labelsPath, v.header);
    using _data = disposing(data);
    const sample = seededSample(data.x, data.y, opts.sampleSize, new Rng(seed));
    using _sample = disposing(sample);
    /** A measure's InputError names the input file. */
    const onInput = <T>(f: () => T): T => {
      try {
        return f();
      } catch (e) {
        throw e instanceof InputError ? new InputError(`${inputPath}: ${e.message}`) : e;
      }
    };
    const s = onInput(() => sharpness(model, data.x, data.y, opts));
    const pacWhy: string[] = [];
    const pac = (name: string, magnitudeAware: boolean): Omit<PacBayesResult, 'undefined'> | null => {
      if (v['no-pac-bayes']) {
        pacWhy.push(`${name}: not computed (--no-pac-bayes)`);
        return null;
      }
      const { undefined: reasons, ...r } = onInput(() =>
        pacBayesFlatness(model, sample.x, sample.y, { ...pacOpts, magnitudeAware, trainSize: data.x.size(0) })
      );
      pacWhy.push(...reasons.map((u) => `${name}.${u}${u.startsWith('init:') ? ', which --model does not give' : ''}`));
      return r;
    };
    const [pacBayes, pacBayesMagnitude] = [pac('pacBayes', false), pac('pacBayesMagnitude', true)];
    const { perPoint: _perPoint, ...inputGradient } = onInput(() => inputGradientNorm(model, sample.x, sample.y));
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
    if (!(s.value > 0)) why.push('sharpness.log: the sharpness is 0 (no step of the search raised the loss), whose log is undefined');
    why.push('distanceFromInit: needs the initial weights, which --model does not give', ...pacWhy);
    const result = {
      n: sample.x.size(0),
      sharpness: s,
      frobenius,
      pathNorm: path,
      distanceFromInit: null,
      pacBayes,
      pacBayesMagnitude,
      inputGradient,
      undefined: why,
    };
    if (v.json) console.log(JSON.stringify(result));
    else {
      const rows: [string, number, number][] = [['sharpness', s.value, s.log], ['sharpness (Keskar, %)', s.keskar, Math.log(s.keskar)]];
      if (frobenius) rows.push([`Π ‖W‖_F${frobenius.batchNormFolded ? '' : ' (BatchNorm not folded)'}`, frobenius.value, frobenius.log]);
      if (path) rows.push(['path norm', path.value, path.log]);
      for (const [name, r] of [['pacbayes', pacBayes], ['pacbayes.mag', pacBayesMagnitude]] as const) {
        if (r) rows.push([`${name}.flatness (1/σ'²)`, r.flatness, Math.log(r.flatness)], [`${name}.orig`, r.orig, Math.log(r.orig)]);
      }
      rows.push(['E‖∂f/∂x‖_F (input Jacobian)', inputGradient.value, Math.log(inputGradient.value)], ['E‖∂ℓ/∂x‖₂ (input loss gradient)',
        inputGradient.lossGradient.value, Math.log(inputGradient.lossGradient.value)]);
      const sigmas = [pacBayes, pacBayesMagnitude].filter((r) => r !== null).map((r) =>
        `\n${r.magnitudeAware ? 'magnitude-aware ' : ''}σ' = ${r.sigma.toPrecision(4)}, within [${
          r.bracket.map((b) => (Number.isNaN(b) ? 'unknown' : b.toPrecision(4))).join(', ')
        }] given the Monte-Carlo error (${metric} ${r.baseline} at w)`
      ).join('');
      console.log(
        `${model.label} on ${result.n} points of ${inputPath}; loss ${s.baseLoss} nats\n\n${formatTable(['measure', 'value', 'log'], rows)}\n${sigmas}${
          why.map((w) => `\n${w}`).join('')
        }`,
      );
    }
    return 0;
  },
};
