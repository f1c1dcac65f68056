/**
 * `dltheory hessian`: the Hessian spectrum of a model's training loss (src/measures/hessian.ts, after
 * PyHessian): the top eigenvalues by Lanczos, Hutchinson's trace, and the spectral density by stochastic
 * Lanczos quadrature, on a seeded sample of the points.
 */
import { tensor } from '../engine/creation.js';
import { disposing, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { disposeDataset } from '../data/dataset.js';
import { loadData } from '../data/load.js';
import { writeFileAtomic } from '../io/files.js';
import { hessianDensity, hessianEigenvalues, hessianParameters, hessianTrace, type HessianOptions } from '../measures/hessian.js';
import { densityChart, renderSvg } from '../report/chart.js';
import { formatTable, progress } from '../report/progress.js';
import { choiceOpt, numberOpt, outputOpt, parse, required, type Command } from './args.js';
import { openModel } from './models.js';
import { readPairFor } from './margins.js';
import { HEADER_OPTION, HEADER_USAGE } from './points.js';

/** Densities below this fraction of the peak are drawn at it, so that the log axis has a floor. */
const CHART_FLOOR = 1e-8;

/** `m` of the points x [n, …], y [n] drawn without replacement by a permutation seeded with `seed`, in their original order (all when m ≥ n). */
function sample(x: Tensor, y: Tensor, m: number, seed: number): { x: Tensor; y: Tensor } {
  const n = x.size(0);
  const rows = Array.from(new Rng(seed).permutation(n).subarray(0, Math.min(m, n))).sort((a, b) => a - b);
  return scope(() => {
    const index = tensor(BigInt64Array.from(rows, BigInt), [rows.length], 'int64');
    return { x: x.indexSelect(0, index), y: y.indexSelect(0, index) };
  });
}

/** onProgress for one computation: a bar on a terminal, JSON lines otherwise, on stderr. */
function bar(label: string): { onProgress: (done: number, total: number) => void; done: () => void } {
  let p: ReturnType<typeof progress> | undefined;
  return {
    onProgress: (_, total) => {
      p ??= progress({ total, label });
      p.tick();
    },
    done: () => p?.done(),
  };
}

export const hessianCommand: Command = {
  name: 'hessian',
  summary: 'Hessian spectrum of the training loss: top eigenvalues, trace, density (PyHessian)',
  usage: `
dltheory hessian --model FILE|SPEC (--data NAME [--train-size N] [--data-dir D] | --input X --labels Y [--header H])
                 [--sample N] [--params PREFIX] [--top K] [--trace] [--probes P] [--density] [--dtype float32|float64]
                 [--seed S] [--json] [--chart FILE.svg]

  --model FILE|SPEC  a .safetensors file written by dltheory, an ONNX model, or a spec (initialised with --seed)
  --data NAME        the training split of a data set (mnist, fashion-mnist, cifar10, cifar100, or a path);
                     --train-size N: a seeded subset of it first, as in train
  --input, --labels  points [n, ...] as the model takes them and integer labels [n], each .npy or .csv
${HEADER_USAGE}
  --sample N         the loss is the mean cross-entropy over a seeded sample of N points (default 500), in eval mode
  --params PREFIX    the Hessian over the parameters named PREFIX or under PREFIX. (a layer: fc1, layers.0);
                     default every trainable parameter
  --top K            the K largest eigenvalues by Lanczos (at most 100 steps, residual ≤ 1e-4 ‖H‖); the
                     default when neither --trace nor --density is given is --top 1
  --trace            Hutchinson's trace estimate over --probes P Rademacher probes (default 100), ± its standard error
  --density          the spectral density by stochastic Lanczos quadrature (30 steps, Gaussian broadening of
                     1% of the spectrum's width, a grid of 1000 eigenvalues)
  --dtype            float32 (default: models load so) or float64: the model and the points are converted first
  --seed S           seed of the sample, the random vectors and a spec's initialisation (default 0)
  --json             {model, n, parameters, params, dtype, eigenvalues, iterations, trace, traceStdErr, probes,
                     density: {grid, density}}, null for what was not asked
  --chart FILE.svg   the density on a log axis, the top eigenvalues marked (implies --density); densities below
                     ${CHART_FLOOR} of the peak are drawn at that floor

Cost: one Hessian-vector product is about three gradients over the sample; --top takes at most 100,
--trace P, --density 30. Progress goes to stderr: a bar on a terminal, JSON lines otherwise.
`,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    'data-dir': { type: 'string' },
    'train-size': { type: 'string' },
    input: { type: 'string' },
    labels: { type: 'string' },
    sample: { type: 'string' },
    params: { type: 'string' },
    top: { type: 'string' },
    trace: { type: 'boolean' },
    probes: { type: 'string' },
    density: { type: 'boolean' },
    dtype: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    chart: { type: 'string' },
    ...HEADER_OPTION,
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const modelArg = required(v.model, 'model');
    check((v.data === undefined) !== (v.input === undefined), 'give either --data or --input (with --labels)');
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const size = numberOpt(v.sample, 'sample', 500, { integer: true, min: 1 });
    const chart = outputOpt(v.chart, 'chart', '.svg');
    const density = Boolean(v.density) || chart !== undefined;
    const top = v.top !== undefined || (!v.trace && !density) ? numberOpt(v.top, 'top', 1, { integer: true, min: 1, max: 100 }) : undefined;
    const probes = numberOpt(v.probes, 'probes', 100, { integer: true, min: 1 });
    check(v.trace || v.probes === undefined, '--probes goes with --trace');
    const dtype = v.dtype === undefined ? undefined : choiceOpt(v.dtype, 'dtype', ['float32', 'float64'] as const, 'float32');
    const params = v.params === undefined ? undefined : required(v.params, 'params');

    using model = openModel(modelArg, seed);
    if (dtype) model.to(dtype);
    const parameterCount = hessianParameters(model, params).reduce((a, [, t]) => a + t.numel, 0);
    check(top === undefined || top <= parameterCount,
      () => `--top ${top}: the Hessian over ${params === undefined ? 'all parameters' : `'${params}'`} has ${parameterCount} eigenvalues`);
    let all: { x: Tensor; y: Tensor; source: string };
    if (v.input !== undefined) {
      all = { ...readPairFor(model, v.input as string, required(v.labels, 'labels'), v.header), source: `${v.input}` };
    } else {
      const splits = loadData({
        name: v.data as string,
        seed,
        dir: v['data-dir'] as string | undefined,
        trainSize: v['train-size'] === undefined ? undefined : numberOpt(v['train-size'], 'train-size', 0, { integer: true, min: 1 }),
      });
      disposeDataset(splits.test);
      all = { x: splits.train.x, y: splits.train.y, source: `${v.data} train` };
    }
    const { x, y } = sample(all.x, all.y, size, seed);
    all.x.dispose();
    all.y.dispose();
    using _data = disposing([x, y]);
    const n = x.size(0);
    const opts: HessianOptions = { params };
    const measure = <T>(label: string, f: (o: HessianOptions) => T): T => {
      const b = bar(`hessian: ${label}`);
      try {
        return f({ ...opts, onProgress: b.onProgress });
      } catch (e) {
        throw e instanceof InputError ? new InputError(`${all.source}: ${e.message}`) : e;
      } finally {
        b.done();
      }
    };
    const eig = top === undefined ? null : measure('eigenvalues', (o) => hessianEigenvalues(model, x, y, { ...o, k: top, seed }));
    const tr = v.trace ? measure('trace', (o) => hessianTrace(model, x, y, { ...o, probes, seed })) : null;
    const d = density ? measure('density', (o) => hessianDensity(model, x, y, { ...o, seed })) : null;
    const p = hessianParameters(model, params).reduce((a, [, t]) => a + t.numel, 0);

    if (chart !== undefined && d) {
      const floor = CHART_FLOOR * Math.max(...d.density);
      const rows = d.grid.map((t, i) => ({ eigenvalue: t, density: Math.max(d.density[i], floor) }));
      const title = `Hessian spectral density of ${model.label} on ${n} points of ${all.source}${eig ? ' (dashed: top eigenvalues)' : ''}`;
      writeFileAtomic(chart, await renderSvg(densityChart({ title, x: 'eigenvalue', y: 'density', logY: true, marks: eig?.eigenvalues, data: rows })));
    }
    if (v.json) {
      console.log(JSON.stringify({
        model: model.label,
        n,
        parameters: p,
        params: params ?? null,
        dtype: model.dtype,
        eigenvalues: eig?.eigenvalues ?? null,
        iterations: eig?.iterations ?? null,
        trace: tr?.trace ?? null,
        traceStdErr: tr?.stdErr ?? null,
        probes: tr?.probes ?? null,
        density: d ? { grid: d.grid, density: d.density } : null,
      }));
      return 0;
    }
    const rows: [string, number, number | null][] = [
      ...(eig?.eigenvalues ?? []).map((e, i): [string, number, number] => [`λ${i + 1}`, e, eig!.residuals[i]]),
      ...(tr ? [['trace', tr.trace, tr.stdErr] as [string, number, number]] : []),
    ];
    const nodes = d?.nodes.flat() ?? [];
    console.log([
      `Hessian of the mean cross-entropy of ${model.label} (${model.dtype}) on ${n} points of ${all.source}, over ${p} parameters${
        params ? ` (${params})` : ''
      }`,
      ...(rows.length ? ['', formatTable(['quantity', 'value', '±'], rows)] : []),
      ...(eig ? [`± of λ: the Lanczos residual bound${tr ? '; of the trace: its standard error' : ''}`] : []),
      ...(d
        ? [
          `density: ${nodes.length} quadrature nodes in [${Math.min(...nodes)}, ${Math.max(...nodes)}]${chart ? `; chart ${chart}` : '; --json for the curve'}`,
        ]
        : []),
    ].join('\n'));
    return 0;
  },
};
