/**
 * Du, Zhai, Póczos, Singh (ICLR 2019) and Du, Lee, Li, Wang, Zhai (ICML 2019), docs/papers.md §3:
 * gradient descent on an over-parameterised network stays in the regime where its Gram matrix H
 * barely moves from its value at initialisation, so the squared loss ½‖u − y‖² falls linearly,
 *   ‖u(k) − y‖² ≤ (1 − ηλ₀/2)^k ‖u(0) − y‖²,   λ₀ = λ_min(H^∞);
 * and with the residual scaling c_res/(H√m) the ResNet's Gram matrix stays well conditioned at any
 * depth, where the plain fully-connected net's degenerates.
 *
 * `du-two-layer-width`: the two-layer ReLU net relu2 (first layer trained, ±1 output fixed) on n points
 * uniform on the unit sphere with N(0, 1) targets, full-batch GD with one step η = 1/λ_max(H^∞) for
 * every width m. The theory says the drift ‖H(k) − H(0)‖_F/‖H(0)‖_F, the fraction of ReLU patterns
 * that flip and max_r ‖w_r(k) − w_r(0)‖ all shrink like 1/√m, and that the loss obeys the bound.
 * The fitted rate is 1 − e^s with s the least-squares slope of log L(k) on k.
 *
 * `du-resnet-depth`: resmlp (c_res = 0.5) against fcnet at one width, depths up to 20–30, softplus
 * (the papers' smooth activation), full-batch GD with η = 1/λ_max of each net's own NTK at
 * initialisation, so that only the conditioning differs. λ_min is reported relative to the mean
 * eigenvalue (trace/n), which makes nets of different scale comparable; the rate is the average
 * linear rate 1 − (L(T)/L(0))^{1/T}.
 */
import { manualSeed } from '../engine/creation.js';
import { dispose, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { sphereRegression } from '../data/synthetic.js';
import { buildModel } from '../nn/models/spec.js';
import type { Module } from '../nn/module.js';
import type { TwoLayerReLU } from '../nn/models/twolayer.js';
import { activationPatternChange, empiricalGram, gramSpectrum, maxRowMovement, relativeDrift } from '../measures/gram.js';
import { hInfinity } from '../measures/ntk-limit.js';
import { fitLinear } from '../measures/regression.js';
import { descend } from '../train/gd.js';
import { lineChart } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Mode, type Outcome } from './claim.js';

const PAPER_2L = 'Du, Zhai, Póczos, Singh. Gradient descent provably optimizes over-parameterized neural networks. ICLR 2019';
const PAPER_DEEP = 'Du, Lee, Li, Wang, Zhai. Gradient descent finds global minima of deep neural networks. ICML 2019';

/**
 * Runs stop once the loss is 1e-10 of its start: below that, float64 round-off in u − y, not the
 * dynamics, sets the loss, and a log-loss line fitted through the floor would be meaningless.
 */
const RESOLVED = 1e-10;
/** An onStep that stops at RESOLVED times the first loss. */
function untilResolved(): (k: number, l: number) => boolean {
  let start = Infinity;
  return (k, l) => {
    if (k === 0) start = l;
    return l <= RESOLVED * start;
  };
}

/** Average linear rate over a run: 1 − (L(T)/L(0))^{1/T}. */
const averageRate = (losses: Float64Array): number => 1 - (losses[losses.length - 1] / losses[0]) ** (1 / (losses.length - 1));

/** The sphere data of both experiments, in float64 (x [n, d], y [n, 1]). */
function sphereData(n: number, d: number, seed: number): { x: Tensor; y: Tensor } {
  const ds = sphereRegression({ n, d, seed });
  const out = scope(() => ({ x: ds.x.double(), y: ds.y.double().unsqueeze(1) }));
  dispose([ds.x, ds.y]);
  return out;
}

/** The NTK Σ_l G^(l) of the model on x, the per-layer Grams released. */
function ntk(model: Module, x: Tensor): Tensor {
  const g = empiricalGram(model, x);
  dispose(g.layers.filter((l) => l.gram !== g.ntk));
  return g.ntk;
}

export interface WidthPoint {
  width: number;
  drift: number;
  patternChange: number;
  maxMovement: number;
  /** λ_min of H(0), the empirical Gram matrix at initialisation. */
  lambdaMinH0: number;
  /** 1 − e^s, s the least-squares slope of log L(k) on k, and the R² of that line. */
  fittedRate: number;
  lineR2: number;
  /** L(k) ≤ (1 − ηλ₀/2)^k L(0) at every step. */
  boundHeld: boolean;
  losses: Float64Array;
}

export interface WidthSweep {
  n: number;
  d: number;
  steps: number;
  lambda0: number;
  lr: number;
  points: WidthPoint[];
}

export function twoLayerWidthSweep(o: { n: number; d: number; widths: number[]; steps: number; seed: number; log?: (m: string) => void }): WidthSweep {
  const { x, y } = sphereData(o.n, o.d, o.seed);
  const hInf = hInfinity(x);
  const { lambdaMin: lambda0, lambdaMax } = gramSpectrum(hInf);
  hInf.dispose();
  const lr = 1 / lambdaMax;
  const bound = 1 - (lr * lambda0) / 2;
  try {
    const points = o.widths.map((width) => {
      o.log?.(`du-two-layer-width: m = ${width}, ${o.steps} steps`);
      const spec = `relu2:${o.d}-${width}`;
      manualSeed(o.seed);
      const initial = buildModel(spec).double() as TwoLayerReLU;
      manualSeed(o.seed);
      const model = buildModel(spec).double() as TwoLayerReLU;
      try {
        // In a scope: the two Gram matrices are released whatever happens.
        return scope((): WidthPoint => {
          const h0 = ntk(model, x);
          const losses = descend(model, x, y, { lr, steps: o.steps, loss: 'squared', onStep: untilResolved() });
          const h = ntk(model, x);
          const logs = Float64Array.from(losses, Math.log);
          const line = fitLinear(Array.from(logs, (_, k) => Float64Array.of(k)), logs);
          return {
            width,
            drift: relativeDrift(h, h0),
            patternChange: activationPatternChange(initial, model, x),
            maxMovement: maxRowMovement(model.hidden.weight, initial.hidden.weight),
            lambdaMinH0: gramSpectrum(h0).lambdaMin,
            fittedRate: 1 - Math.exp(line.coefficients[1]),
            lineR2: line.r2,
            boundHeld: losses.every((l, k) => l <= bound ** k * losses[0] * (1 + 1e-9)),
            losses,
          };
        });
      } finally {
        initial.dispose();
        model.dispose();
      }
    });
    return { n: o.n, d: o.d, steps: o.steps, lambda0, lr, points };
  } finally {
    dispose([x, y]);
  }
}

/** Least-squares slope of log v on log m. */
function logLogSlope(ms: number[], vs: number[]): number {
  return fitLinear(ms.map((m) => Float64Array.of(Math.log(m))), Float64Array.from(vs, Math.log)).coefficients[1];
}

const decreasing = (vs: number[]): boolean => vs.every((v, i) => i === 0 || v < vs[i - 1]);

const WIDTH_PLANS: Record<Mode, { n: number; d: number; widths: number[]; steps: number }> = {
  quick: { n: 100, d: 100, widths: [100, 400, 1600, 6400], steps: 400 },
  full: { n: 1000, d: 1000, widths: [250, 1000, 4000, 16000], steps: 600 },
};

export const duTwoLayerWidth: Claim = {
  id: 'du-two-layer-width',
  group: 'converge',
  statement:
    'For a two-layer ReLU network trained by gradient descent, wider networks move less: the Gram matrix drift, the flipped activation patterns and the largest weight movement shrink like 1/√m, and the squared loss falls linearly at rate at least ηλ₀/2.',
  paper: PAPER_2L,
  rule:
    'Holds when drift, pattern change and largest weight movement each fall strictly at every wider width, the ' +
    'log-log slope of drift against width lies in [−0.75, −0.25], and the widest net keeps L(k) ≤ (1 − ηλ₀/2)^k L(0) at every step ' +
    'with a fitted linear rate ≥ ηλ₀/2. Does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const sweep = twoLayerWidthSweep({ ...WIDTH_PLANS[ctx.mode], seed: ctx.seed, log: ctx.log });
    const ps = sweep.points;
    const widths = ps.map((p) => p.width);
    const slope = logLogSlope(widths, ps.map((p) => p.drift));
    const widest = ps[ps.length - 1];
    const floor = (sweep.lr * sweep.lambda0) / 2;
    const shrinks = decreasing(ps.map((p) => p.drift)) && decreasing(ps.map((p) => p.patternChange)) && decreasing(ps.map((p) => p.maxMovement));
    const linear = widest.boundHeld && widest.fittedRate >= floor;
    const holds = shrinks && slope >= -0.75 && slope <= -0.25 && linear;
    const e = (v: number) => v.toExponential(2);
    const reason =
      `n = ${sweep.n}, d = ${sweep.d}, λ₀ = ${e(sweep.lambda0)}, η = ${e(sweep.lr)}; over m = ${widths.join(', ')}: drift ${ps.map((p) => e(p.drift)).join(' → ')} ` +
      `(log-log slope ${slope.toFixed(2)}, theory −0.5), patterns changed ${ps.map((p) => e(p.patternChange)).join(' → ')}, max ‖Δw_r‖ ${ps.map((p) => e(p.maxMovement)).join(' → ')}; ` +
      `widest: fitted rate ${e(widest.fittedRate)} vs ηλ₀/2 = ${e(floor)}, bound ${widest.boundHeld ? 'held' : 'broken'} at every step, log-loss line R² ${widest.lineR2.toFixed(3)}`;
    const curves = ps.flatMap((p) => Array.from(p.losses, (l, k) => ({ step: k, loss: l, width: `m = ${p.width}` })).filter((_, k) => k % 4 === 0));
    const bound = Array.from({ length: Math.ceil(sweep.steps / 4) }, (_, i) => ({ step: 4 * i, loss: (1 - floor) ** (4 * i) * widest.losses[0], width: 'bound (1 − ηλ₀/2)^k L(0), widest' }));
    const movement = ps.flatMap((p) => [
      { width: p.width, value: p.drift, quantity: '‖H(k) − H(0)‖F / ‖H(0)‖F' },
      { width: p.width, value: p.patternChange, quantity: 'fraction of patterns changed' },
      { width: p.width, value: p.maxMovement, quantity: 'max_r ‖w_r(k) − w_r(0)‖' },
    ]);
    return {
      verdict: verdictOf(holds),
      reason,
      runs: [],
      figures: [
        { name: 'log-log slope of Gram drift against width', value: slope, paper: -0.5 },
        ...ps.map((p) => ({ name: `Gram drift, m = ${p.width}`, value: p.drift })),
        ...ps.map((p) => ({ name: `fraction of activation patterns changed, m = ${p.width}`, value: p.patternChange })),
        ...ps.map((p) => ({ name: `max_r ‖w_r(k) − w_r(0)‖, m = ${p.width}`, value: p.maxMovement })),
        { name: 'λ₀ = λ_min(H∞)', value: sweep.lambda0 },
        ...ps.map((p) => ({ name: `λ_min(H(0)), m = ${p.width}`, value: p.lambdaMinH0, paper: '→ λ₀ as m grows' })),
        { name: 'fitted linear rate, widest net', value: widest.fittedRate, paper: `≥ ηλ₀/2 = ${e(floor)}` },
      ],
      charts: [
        { name: 'du-two-layer-loss', title: 'Squared loss under gradient descent, by width', spec: lineChart({ title: `Loss ½‖u − y‖² (n = ${sweep.n}, d = ${sweep.d}, η = ${e(sweep.lr)})`, data: [...curves, ...bound], x: 'step', y: 'loss', series: 'width', logY: true }) },
        { name: 'du-two-layer-movement', title: 'How far training moves, by width', spec: lineChart({ title: 'Movement from initialisation to the end of training, against width (theory: ∝ 1/√m)', data: movement, x: 'width', y: 'value', series: 'quantity', logX: true, logY: true }) },
      ],
    };
  },
};

export interface DepthPoint {
  arch: 'resmlp' | 'fcnet';
  depth: number;
  lambdaMin: number;
  /** λ_min / (trace/n). */
  relativeLambdaMin: number;
  condition: number;
  lr: number;
  rate: number;
  losses: Float64Array;
}

export function depthSweep(o: { n: number; d: number; width: number; depths: number[]; steps: number; seed: number; log?: (m: string) => void }): DepthPoint[] {
  const { x, y } = sphereData(o.n, o.d, o.seed);
  try {
    return (['resmlp', 'fcnet'] as const).flatMap((arch) =>
      o.depths.map((depth) => {
        o.log?.(`du-resnet-depth: ${arch}, H = ${depth}, m = ${o.width}, ${o.steps} steps`);
        manualSeed(o.seed);
        const model: Module = buildModel(`${arch}:${o.d}-${o.width}-${depth}-1:softplus`).double();
        try {
          const { s, mean } = scope(() => {
            const g = ntk(model, x);
            return { s: gramSpectrum(g), mean: g.diagonal().sum().item() / o.n };
          });
          const lr = 1 / s.lambdaMax;
          const losses = descend(model, x, y, { lr, steps: o.steps, loss: 'squared', onStep: untilResolved() });
          return { arch, depth, lambdaMin: s.lambdaMin, relativeLambdaMin: s.lambdaMin / mean, condition: s.condition, lr, rate: averageRate(losses), losses };
        } finally {
          model.dispose();
        }
      }),
    );
  } finally {
    dispose([x, y]);
  }
}

const DEPTH_PLANS: Record<Mode, { n: number; d: number; width: number; depths: number[]; steps: number }> = {
  quick: { n: 50, d: 10, width: 128, depths: [2, 5, 10, 20], steps: 300 },
  full: { n: 200, d: 20, width: 512, depths: [2, 5, 10, 20, 30], steps: 1000 },
};

export const duResnetDepth: Claim = {
  id: 'du-resnet-depth',
  group: 'converge',
  statement:
    'At equal width, the scaled ResNet keeps the smallest eigenvalue of its Gram matrix away from zero at any depth and gradient descent converges, while the plain fully-connected net\'s smallest eigenvalue collapses with depth and it converges far slower or stalls.',
  paper: PAPER_DEEP,
  rule:
    'At the deepest depth: holds when the ResNet\'s relative λ_min (λ_min over the mean eigenvalue of its NTK at initialisation) is at ' +
    'least half its value at the shallowest depth, the fully-connected net\'s is below 1% of its own shallowest value, and the ' +
    'fully-connected net\'s average linear loss rate is at most half the ResNet\'s. Does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const plan = DEPTH_PLANS[ctx.mode];
    const points = depthSweep({ ...plan, seed: ctx.seed, log: ctx.log });
    const of = (arch: DepthPoint['arch']) => points.filter((p) => p.arch === arch);
    const [res, fc] = [of('resmlp'), of('fcnet')];
    const keep = (ps: DepthPoint[]) => ps[ps.length - 1].relativeLambdaMin / ps[0].relativeLambdaMin;
    const [resKeep, fcKeep] = [keep(res), keep(fc)];
    const [resRate, fcRate] = [res[res.length - 1].rate, fc[fc.length - 1].rate];
    const holds = resKeep >= 0.5 && fcKeep < 0.01 && fcRate <= resRate / 2;
    const e = (v: number) => v.toExponential(2);
    const H = plan.depths[plan.depths.length - 1];
    const reason =
      `m = ${plan.width}, n = ${plan.n}, depths ${plan.depths.join(', ')}, softplus: relative λ_min ResNet ${res.map((p) => e(p.relativeLambdaMin)).join(' → ')} ` +
      `(kept ${(100 * resKeep).toFixed(0)}%), fully-connected ${fc.map((p) => e(p.relativeLambdaMin)).join(' → ')} (kept ${(100 * fcKeep).toPrecision(2)}%); ` +
      `loss rate at H = ${H} over ${plan.steps} steps: ResNet ${e(resRate)}, fully-connected ${e(fcRate)}`;
    const curves = points.flatMap((p) => Array.from(p.losses, (l, k) => ({ step: k, relativeLoss: l / p.losses[0], net: `${p.arch === 'resmlp' ? 'ResNet' : 'fully-connected'}, H = ${p.depth}` })).filter((_, k) => k % 5 === 0));
    const spectrum = points.map((p) => ({ depth: p.depth, relativeLambdaMin: Math.max(p.relativeLambdaMin, 1e-18), net: p.arch === 'resmlp' ? 'ResNet' : 'fully-connected' }));
    return {
      verdict: verdictOf(holds),
      reason,
      runs: [],
      figures: [
        ...points.map((p) => ({ name: `relative λ_min at init, ${p.arch}, H = ${p.depth}`, value: p.relativeLambdaMin })),
        ...points.map((p) => ({ name: `average linear loss rate, ${p.arch}, H = ${p.depth}`, value: p.rate })),
        { name: `ResNet relative λ_min kept from H = ${plan.depths[0]} to ${H}`, value: resKeep, paper: 'bounded away from 0' },
        { name: `fully-connected relative λ_min kept from H = ${plan.depths[0]} to ${H}`, value: fcKeep, paper: 'falls exponentially in H' },
      ],
      charts: [
        { name: 'du-depth-lambda-min', title: 'Smallest Gram eigenvalue against depth', spec: lineChart({ title: `λ_min / mean eigenvalue of the NTK at initialisation (m = ${plan.width})`, data: spectrum, x: 'depth', y: 'relativeLambdaMin', series: 'net', logY: true }) },
        { name: 'du-depth-loss', title: 'Gradient descent by depth', spec: lineChart({ title: 'L(k)/L(0), η = 1/λ_max of each net', data: curves, x: 'step', y: 'relativeLoss', series: 'net', logY: true }) },
      ],
    };
  },
};

export const DU_CLAIMS: readonly Claim[] = [duTwoLayerWidth, duResnetDepth];
