/**
 * `dltheory gram`: empirical Gram/NTK matrices of a model — by the per-layer formula of
 * src/measures/gram.ts when every trainable parameter is in a Linear layer, else by per-sample
 * gradients (src/measures/ntk.ts) — and their infinite-width limits (src/measures/ntk-limit.ts).
 */
import { dispose, disposing, scope } from '../engine/memory.js';
import { stack } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { writeNpy } from '../data/npy.js';
import { fromRaw, toRaw } from '../nn/serialize.js';
import type { Module } from '../nn/module.js';
import { empiricalGram, gramSpectrum, isLinearNetwork, linearLayers, type GramResult } from '../measures/gram.js';
import { empiricalNtk, parameterGroups } from '../measures/ntk.js';
import { hInfinity, limitingGram, LIMIT_ACTIVATIONS } from '../measures/ntk-limit.js';
import { formatTable, progress } from '../report/progress.js';
import { choiceOpt, numberOpt, outputOpt, parse, required, type Command } from './args.js';
import { openModel } from './models.js';
import { HEADER_OPTION, HEADER_USAGE, headerOpt, readInputs } from './points.js';

/** Points [n, features...] from a .npy or .csv file, as float64 ([n, dims] when `flat`). */
function readInput(path: string, header: string | boolean | undefined, flat: boolean): Tensor {
  return scope(() => fromRaw(readInputs(path, headerOpt(header).input, flat)).double());
}

/** The Grams of a network of Linear layers, by the per-layer formula; points [n, ...] are flattened to [n, dims]. */
function perLayer(model: Module, x: Tensor): GramResult {
  using flat = x.flatten(1);
  return empiricalGram(model, flat);
}

/** The NTK of any model by per-sample gradients (and its parameter groups' when `groups`), with a progress line on stderr when asked. */
function perSample(model: Module, x: Tensor, groups: boolean, showProgress: boolean): GramResult {
  let bar: ReturnType<typeof progress> | undefined;
  try {
    const r = empiricalNtk(model, x, {
      groups,
      // The total (sweeps × points) is known at the first point.
      onProgress: showProgress
        ? (_, total) => {
          bar ??= progress({ total, label: 'gram: per-sample gradients' });
          bar.tick();
        }
        : undefined,
    });
    return { ntk: r.ntk, layers: r.groups, outputs: r.outputs };
  } finally {
    bar?.done();
  }
}

export const gramCommand: Command = {
  name: 'gram',
  summary: 'empirical Gram/NTK matrices of a model and their infinite-width limits (Du et al. 2019)',
  usage: `
dltheory gram --model SPEC|FILE --input X.npy|X.csv [--header H] [--layer NAME|all|sum] [--seed S] [--out G.npy] [--json]
dltheory gram --limit relu2|fc|resnet --input X.npy|X.csv [--depth H] [--activation relu|softplus|tanh|sigmoid]
              [--cres C] [--out K.npy] [--json]

  --model SPEC|FILE  a .safetensors file written by dltheory, or a model spec (mlp:…, cnn:…, resnet:…) initialised
                     with --seed S (default 0); measured in float64, in eval mode. When every trainable parameter
                     is in a Linear layer (mlp, resmlp, fcnet): the per-layer formula, one backward pass per output
                     (method structured); else per-sample gradients, one backward pass per point and output
                     (method per-sample; a progress line on stderr)
  --input X          points [n, features...] as the model takes them ([n, C, H, W] for a CNN), .npy or .csv;
                     [n, dims] for --limit
${HEADER_USAGE}
  --layer            sum (default): the NTK, Σ over layers of G^(l)_ij = Σ_outputs ⟨∂u(x_i)/∂θ_l, ∂u(x_j)/∂θ_l⟩
                     (θ_l a Linear layer's weight and bias, or per-sample: a parameter group, a state_dict name
                     without its last part, e.g. conv1); NAME: that layer's G^(l); all: every layer
  --limit            relu2: H^∞ of the two-layer ReLU net; fc, resnet: K^(H) of Du et al.'s deep nets
  --depth H          H ≥ 1 for fc and resnet (default 2)
  --activation       default relu (closed form); the others by Gauss–Hermite quadrature (for inputs of norm ~1)
  --cres C           resnet branch factor c_res in (0, 1] (default 0.5)
  --out FILE.npy     the matrix as float64 [n, n] ([layers, n, n] with --layer all)
  --json             {layer, n, lambdaMin, lambdaMax, condition, undefined} (a list with --layer all), and with
                     --model method: structured or per-sample; condition is λ_max/λ_min, null when λ_min is zero
                     to round-off (then 0), as undefined says
`,
  options: {
    model: { type: 'string' },
    limit: { type: 'string' },
    input: { type: 'string' },
    layer: { type: 'string' },
    seed: { type: 'string' },
    depth: { type: 'string' },
    activation: { type: 'string' },
    cres: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    ...HEADER_OPTION,
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    check((v.model === undefined) !== (v.limit === undefined), 'give either --model or --limit');
    const inputPath = required(v.input, 'input');
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    let matrices: { layer: string; gram: Tensor }[];
    let title: string;
    let method: 'structured' | 'per-sample' | undefined;
    using x = readInput(inputPath, v.header, v.model === undefined);
    const within = <T>(f: () => T): T => {
      try {
        return f();
      } catch (e) {
        throw e instanceof InputError ? new InputError(`${inputPath}: ${e.message}`) : e;
      }
    };
    if (v.model !== undefined) {
      for (const k of ['depth', 'activation', 'cres'] as const) check(v[k] === undefined, `--${k} goes with --limit`);
      using model = openModel(v.model as string, seed).double();
      const structured = isLinearNetwork(model);
      method = structured ? 'structured' : 'per-sample';
      const names = structured ? linearLayers(model).map((l) => l.name) : parameterGroups(model);
      const layer = typeof v.layer === 'string' ? v.layer : 'sum';
      check(['sum', 'all', ...names].includes(layer), () => `--layer: no layer '${layer}' in ${model.label} (have: ${names.join(', ')}; or sum, all)`);
      const r = within(() => structured ? perLayer(model, x) : perSample(model, x, layer !== 'sum', !v.json));
      matrices = layer === 'sum'
        ? [{ layer, gram: r.ntk }]
        : r.layers.filter((l) => layer === 'all' || l.name === layer).map((l) => ({ layer: l.name, gram: l.gram }));
      const chosen = new Set(matrices.map((m) => m.gram));
      dispose([r.ntk, ...r.layers.map((l) => l.gram)].filter((g) => !chosen.has(g)));
      title = `Gram matrices of ${model.label} on the ${x.size(0)} points of ${inputPath} (float64, summed over ${r.outputs} output${
        r.outputs === 1 ? '' : 's'
      }${structured ? '' : ', per-sample gradients'})`;
    } else {
      check(v.layer === undefined && v.seed === undefined, '--layer and --seed go with --model');
      const kind = choiceOpt(v.limit, 'limit', ['relu2', 'fc', 'resnet'] as const, 'fc');
      const activation = choiceOpt(v.activation, 'activation', LIMIT_ACTIVATIONS, 'relu');
      check(kind !== 'relu2' || (v.depth === undefined && activation === 'relu'), '--limit relu2 is the two-layer ReLU net: no --depth or --activation');
      check(kind === 'resnet' || v.cres === undefined, '--cres goes with --limit resnet');
      const depth = numberOpt(v.depth, 'depth', 2, { integer: true, min: 1 });
      const cRes = numberOpt(v.cres, 'cres', 0.5, { min: Number.MIN_VALUE, max: 1 });
      const gram = within(() => (kind === 'relu2' ? hInfinity(x) : limitingGram(x, { architecture: kind, depth, activation, cRes })));
      const layer = kind === 'relu2' ? 'H^∞' : `K^(${depth})`;
      matrices = [{ layer, gram }];
      title = `${layer} of the infinitely wide ${kind === 'relu2' ? 'two-layer ReLU' : `${kind} ${activation}`} network on the ${
        x.size(0)
      } points of ${inputPath}`;
    }
    using _matrices = disposing(matrices);
    const out = outputOpt(v.out, 'out', '.npy');
    if (typeof out === 'string') scope(() => writeNpy(out, toRaw(v.layer === 'all' ? stack(matrices.map((m) => m.gram)) : matrices[0].gram)));
    const rows = matrices.map(({ layer, gram }) => ({ layer, n: gram.size(0), ...gramSpectrum(gram), ...(method ? { method } : {}) }));
    if (v.json) console.log(JSON.stringify(v.layer === 'all' ? rows : rows[0]));
    else {
      const notes = rows.flatMap((r) => r.undefined.map((u) => `\n${r.layer}: ${u}`)).join('');
      console.log(
        `${title}\n\n${
          formatTable(['layer', 'n', 'λ_min', 'λ_max', 'condition'], rows.map((r) => [r.layer, r.n, r.lambdaMin, r.lambdaMax, r.condition]))
        }${notes}`,
      );
    }
    return 0;
  },
};
