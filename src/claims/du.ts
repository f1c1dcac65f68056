/**
 * Du, Zhai, Póczos, Singh (ICLR 2019) and Du, Lee, Li, Wang, Zhai (ICML 2019), docs/papers.md §3:
 * gradient descent on an over-parameterised network stays in the regime where its Gram matrix H
 * barely moves from its value at initialisation, so the squared loss ½‖u − y‖² falls linearly,
 *   ‖u(k) − y‖² ≤ (1 − ηλ₀/2)^k ‖u(0) − y‖²,   λ₀ = λ_min(H^∞);
 * and with the residual scaling c_res/(H√m) the ResNet's Gram matrix stays well conditioned at any
 * depth, where the plain fully-connected net's degenerates.
 *
 * `du-two-layer-width` judges the width sweep of src/experiments/du.ts: the theory says the drift
 * ‖H(k) − H(0)‖_F/‖H(0)‖_F, the fraction of ReLU patterns that flip and max_r ‖w_r(k) − w_r(0)‖ all
 * shrink like 1/√m, and that the loss obeys the bound.
 *
 * `du-resnet-depth` judges the depth sweep there (resmlp against fcnet, depths up to 20–30): the
 * ResNet's λ_min, relative to its mean eigenvalue, stays; the fully-connected net's collapses.
 */
import { fitLinear } from '../measures/regression.js';
import { depthSweep, twoLayerWidthSweep, type DepthPoint, type WidthPoint } from '../experiments/du.js';
import { lineChart } from '../report/chart.js';
import { verdictOf, type Claim, type ClaimContext, type Mode, type Outcome } from './claim.js';

const PAPER_2L = 'Du, Zhai, Póczos, Singh. Gradient descent provably optimizes over-parameterized neural networks. ICLR 2019';
const PAPER_DEEP = 'Du, Lee, Li, Wang, Zhai. Gradient descent finds global minima of deep neural networks. ICML 2019';

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
  statement: 'For a two-layer ReLU network trained by gradient descent, wider networks move less: the Gram matrix drift, the flipped activation ' +
    'patterns and the largest weight movement shrink like 1/√m, and the squared loss falls linearly at rate at least ηλ₀/2.',
  paper: PAPER_2L,
  rule: 'Holds when drift, pattern change and largest weight movement each fall strictly at every wider width, the ' +
    'log-log slope of drift against width lies in [−0.75, −0.25], and the widest net keeps L(k) ≤ (1 − ηλ₀/2)^k L(0) at every step ' +
    'with a fitted linear rate ≥ ηλ₀/2. Does not hold otherwise.',

  async run(ctx: ClaimContext): Promise<Outcome> {
    const sweep = twoLayerWidthSweep({ ...WIDTH_PLANS[ctx.mode], seed: ctx.seed, log: ctx.log });
    const ps = sweep.points;
    const widths = ps.map((p) => p.width);
    const slope = logLogSlope(widths, ps.map((p) => p.drift));
    const widest = ps[ps.length - 1];
    const floor = (sweep.lr * sweep.lambda0) / 2;
    const shrinks = [ps.map((p) => p.drift), ps.map((p) => p.patternChange), ps.map((p) => p.maxMovement)].every(decreasing);
    const linear = widest.boundHeld && widest.fittedRate >= floor;
    const holds = shrinks && slope >= -0.75 && slope <= -0.25 && linear;
    const e = (v: number) => v.toExponential(2);
    const series = (f: (p: WidthPoint) => number) => ps.map((p) => e(f(p))).join(' → ');
    const reason =
      `n = ${sweep.n}, d = ${sweep.d}, λ₀ = ${e(sweep.lambda0)}, η = ${e(sweep.lr)}; over m = ${widths.join(', ')}: drift ${series((p) => p.drift)} ` +
      `(log-log slope ${slope.toFixed(2)}, theory −0.5), patterns changed ${series((p) => p.patternChange)}, max ‖Δw_r‖ ${series((p) => p.maxMovement)}; ` +
      `widest: fitted rate ${e(widest.fittedRate)} vs ηλ₀/2 = ${e(floor)}, bound ${widest.boundHeld ? 'held' : 'broken'} at every step, ` +
      `log-loss line R² ${widest.lineR2.toFixed(3)}`;
    const curves = ps.flatMap((p) => Array.from(p.losses, (l, k) => ({ step: k, loss: l, width: `m = ${p.width}` })).filter((_, k) => k % 4 === 0));
    const bound = Array.from({ length: Math.ceil(sweep.steps / 4) },
      (_, i) => ({ step: 4 * i, loss: (1 - floor) ** (4 * i) * widest.losses[0], width: 'bound (1 − ηλ₀/2)^k L(0), widest' }));
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
        {
          name: 'du-two-layer-loss',
          title: 'Squared loss under gradient descent, by width',
          spec: lineChart({
            title: `Loss ½‖u − y‖² (n = ${sweep.n}, d = ${sweep.d}, η = ${e(sweep.lr)})`,
            data: [...curves, ...bound],
            x: 'step',
            y: 'loss',
            series: 'width',
            logY: true,
          }),
        },
        {
          name: 'du-two-layer-movement',
          title: 'How far training moves, by width',
          spec: lineChart({
            title: 'Movement from initialisation to the end of training, against width (theory: ∝ 1/√m)',
            data: movement,
            x: 'width',
            y: 'value',
            series: 'quantity',
            logX: true,
            logY: true,
          }),
        },
      ],
    };
  },
};

const DEPTH_PLANS: Record<Mode, { n: number; d: number; width: number; depths: number[]; steps: number }> = {
  quick: { n: 50, d: 10, width: 128, depths: [2, 5, 10, 20], steps: 300 },
  full: { n: 200, d: 20, width: 512, depths: [2, 5, 10, 20, 30], steps: 1000 },
};

export const duResnetDepth: Claim = {
  id: 'du-resnet-depth',
  group: 'converge',
  statement: 'At equal width, the scaled ResNet keeps the smallest eigenvalue of its Gram matrix away from zero at any depth and gradient descent ' +
    "converges, while the plain fully-connected net's smallest eigenvalue collapses with depth and it converges far slower or stalls.",
  paper: PAPER_DEEP,
  rule: "At the deepest depth: holds when the ResNet's relative λ_min (λ_min over the mean eigenvalue of its NTK at initialisation) is at " +
    "least half its value at the shallowest depth, the fully-connected net's is below 1% of its own shallowest value, and the " +
    "fully-connected net's average linear loss rate is at most half the ResNet's. Does not hold otherwise.",

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
    const lambdas = (ps: DepthPoint[]) => ps.map((p) => e(p.relativeLambdaMin)).join(' → ');
    const reason = `m = ${plan.width}, n = ${plan.n}, depths ${plan.depths.join(', ')}, softplus: relative λ_min ResNet ${lambdas(res)} ` +
      `(kept ${(100 * resKeep).toFixed(0)}%), fully-connected ${lambdas(fc)} (kept ${(100 * fcKeep).toPrecision(2)}%); ` +
      `loss rate at H = ${H} over ${plan.steps} steps: ResNet ${e(resRate)}, fully-connected ${e(fcRate)}`;
    const net = (p: DepthPoint) => (p.arch === 'resmlp' ? 'ResNet' : 'fully-connected');
    const curves = points.flatMap((p) =>
      Array.from(p.losses, (l, k) => ({ step: k, relativeLoss: l / p.losses[0], net: `${net(p)}, H = ${p.depth}` })).filter((_, k) => k % 5 === 0)
    );
    const spectrum = points.map((p) => ({ depth: p.depth, relativeLambdaMin: Math.max(p.relativeLambdaMin, 1e-18), net: net(p) }));
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
        {
          name: 'du-depth-lambda-min',
          title: 'Smallest Gram eigenvalue against depth',
          spec: lineChart({
            title: `λ_min / mean eigenvalue of the NTK at initialisation (m = ${plan.width})`,
            data: spectrum,
            x: 'depth',
            y: 'relativeLambdaMin',
            series: 'net',
            logY: true,
          }),
        },
        {
          name: 'du-depth-loss',
          title: 'Gradient descent by depth',
          spec: lineChart({ title: 'L(k)/L(0), η = 1/λ_max of each net', data: curves, x: 'step', y: 'relativeLoss', series: 'net', logY: true }),
        },
      ],
    };
  },
};

export const DU_CLAIMS: readonly Claim[] = [duTwoLayerWidth, duResnetDepth];
