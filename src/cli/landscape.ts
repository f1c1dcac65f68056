/**
 * `dltheory landscape`: a 2-D slice of a model's loss around its weights along two filter-normalised
 * random directions (Li, Xu, Taylor, Studer, Goldstein, NeurIPS 2018; src/measures/landscape.ts).
 */
import { noGrad } from '../engine/autograd.js';
import { dispose, disposing, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { crossEntropy } from '../nn/functional.js';
import { evalMode } from '../nn/module.js';
import { filterNormalizedDirection, lossSurface, snapshot } from '../measures/landscape.js';
import { heatmapChart, renderSvg } from '../report/chart.js';
import { numberOpt, outputOpt, parse, required, type Command } from './args.js';
import { openModel } from './models.js';
import { readPairFor } from './margins.js';
import { HEADER_OPTION, HEADER_USAGE } from './points.js';

/** `steps` evenly spaced values from −range to range, both included (0 in the middle when steps is odd). */
export function symmetricGrid(steps: number, range: number): number[] {
  return Array.from({ length: steps }, (_, i) => (steps === 1 ? 0 : -range + (2 * range * i) / (steps - 1)));
}

export const landscapeCommand: Command = {
  name: 'landscape',
  summary: 'a filter-normalised 2-D slice of a model’s loss surface (Li et al. 2018)',
  usage: `
dltheory landscape --model FILE|SPEC --input X --labels Y [--header H] [--steps N] [--range R] [--seed S]
                   [--batch B] [--json] [--svg FILE.svg]

  --model FILE|SPEC  a .safetensors file written by dltheory, an ONNX model, or a spec (initialised with --seed)
  --input, --labels  points [n, ...] as the model takes them and integer labels [n], each .npy or .csv
${HEADER_USAGE}
  --steps N          grid points per axis (default 21)
  --range R          the grid spans [−R, R] on both axes, in units of the filter norms (default 1)
  --seed S           directions δ, η from seeds S + 1 and S + 2 (and a spec's initialisation from S; default 0)
  --batch B          points per forward pass (default 256)
  --json             {n, a, b, loss: [a.length][b.length], center}: loss[i][j] = L(θ + a_i·δ + b_j·η)
  --svg FILE.svg     the slice as a heatmap

L is the mean cross-entropy over the points (nats), in eval mode. δ and η are Gaussian, each filter (a row
of a Linear, an output channel of a convolution) rescaled to the norm of the same filter of θ; parameters
of one dimension (biases, normalisation scales) stay fixed. The weights are restored afterwards.
`,
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    labels: { type: 'string' },
    steps: { type: 'string' },
    range: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    json: { type: 'boolean' },
    svg: { type: 'string' },
    ...HEADER_OPTION,
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const inputPath = required(v.input, 'input');
    const labelsPath = required(v.labels, 'labels');
    const steps = numberOpt(v.steps, 'steps', 21, { integer: true, min: 1 });
    const range = numberOpt(v.range, 'range', 1, { min: Number.MIN_VALUE });
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const batch = numberOpt(v.batch, 'batch', 256, { integer: true, min: 1 });
    const svg = outputOpt(v.svg, 'svg', '.svg');
    using model = openModel(required(v.model, 'model'), seed);
    const data = readPairFor(model, inputPath, labelsPath, v.header);
    using _data = disposing(data);
    const n = data.x.size(0);
    using _eval = evalMode(model);
    const loss = (): number =>
      noGrad(() =>
        scope(() => {
          let sum = 0;
          for (let i = 0; i < n; i += batch) {
            const len = Math.min(batch, n - i);
            sum += crossEntropy(model.forward(data.x.narrow(0, i, len).to(model.dtype)), data.y.narrow(0, i, len), 'sum').item();
          }
          return sum / n;
        })
      );
    const grid = symmetricGrid(steps, range);
    const center = snapshot(model);
    const directions: Tensor[][] = [];
    let surface: number[][];
    let atCenter: number;
    try {
      atCenter = loss();
      directions.push(filterNormalizedDirection(center, seed + 1), filterNormalizedDirection(center, seed + 2));
      surface = lossSurface(model, center, directions[0], directions[1], grid, grid, loss);
    } catch (e) {
      throw e instanceof InputError ? new InputError(`${inputPath}: ${e.message}`) : e;
    } finally {
      dispose([center, directions]);
    }
    if (svg !== undefined) {
      const rows = surface.flatMap((row, i) => row.map((l, j) => ({ a: +grid[i].toFixed(6), b: +grid[j].toFixed(6), loss: l })));
      const title = `loss of ${model.label} on ${n} points of ${inputPath} around its weights (filter-normalised directions)`;
      writeFileAtomic(svg, await renderSvg(heatmapChart({ title, x: 'a', y: 'b', value: 'loss', data: rows })));
    }
    if (v.json) console.log(JSON.stringify({ n, a: grid, b: grid, loss: surface, center: atCenter }));
    else {
      const flat = surface.flat();
      console.log(
        `${model.label} on ${n} points of ${inputPath}: loss ${atCenter} nats at the weights, ${Math.min(...flat)} to ${
          Math.max(...flat)
        } over the ${steps} × ${steps} slice [−${range}, ${range}]²${svg === undefined ? '' : `; chart ${svg}`}`,
      );
    }
    return 0;
  },
};
