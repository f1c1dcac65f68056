/**
 * The gradient-descent experiments of Du, Zhai, Póczos, Singh (ICLR 2019) and Du, Lee, Li, Wang, Zhai
 * (ICML 2019), docs/papers.md §3, run by the claims du-two-layer-width and du-resnet-depth
 * (src/claims/du.ts) and by `dltheory converge width|depth` with the user's sizes.
 *
 * Width sweep: the two-layer ReLU net relu2 (first layer trained, ±1 output fixed) on n points uniform
 * on the unit sphere with N(0, 1) targets, full-batch GD with one step η = 1/λ_max(H^∞) for every
 * width m. Per width: the drift ‖H(k) − H(0)‖_F/‖H(0)‖_F, the fraction of ReLU patterns that flip,
 * max_r ‖w_r(k) − w_r(0)‖, whether L(k) ≤ (1 − ηλ₀/2)^k L(0) held at every step, and the fitted rate
 * 1 − e^s, s the least-squares slope of log L(k) on k.
 *
 * Depth sweep: resmlp (c_res = 0.5) against fcnet at one width over depths, softplus (the papers'
 * smooth activation), full-batch GD with η = 1/λ_max of each net's own NTK at initialisation, so
 * that only the conditioning differs. λ_min is also given relative to the mean eigenvalue
 * (trace/n), which makes nets of different scale comparable; the rate is the average linear rate
 * 1 − (L(T)/L(0))^{1/T}.
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

/** `seed` draws the data; `initSeed` (default `seed`) the initialisation, so that repeats can vary it alone. */
export function twoLayerWidthSweep(
  o: { n: number; d: number; widths: number[]; steps: number; seed: number; initSeed?: number; log?: (m: string) => void },
): WidthSweep {
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
      manualSeed(o.initSeed ?? o.seed);
      using initial = buildModel(spec).double() as TwoLayerReLU;
      manualSeed(o.initSeed ?? o.seed);
      using model = buildModel(spec).double() as TwoLayerReLU;
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
    });
    return { n: o.n, d: o.d, steps: o.steps, lambda0, lr, points };
  } finally {
    dispose([x, y]);
  }
}

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

/** `seed` draws the data; `initSeed` (default `seed`) the initialisation, so that repeats can vary it alone. */
export function depthSweep(
  o: { n: number; d: number; width: number; depths: number[]; steps: number; seed: number; initSeed?: number; log?: (m: string) => void },
): DepthPoint[] {
  const { x, y } = sphereData(o.n, o.d, o.seed);
  try {
    return (['resmlp', 'fcnet'] as const).flatMap((arch) =>
      o.depths.map((depth) => {
        o.log?.(`du-resnet-depth: ${arch}, H = ${depth}, m = ${o.width}, ${o.steps} steps`);
        manualSeed(o.initSeed ?? o.seed);
        using model: Module = buildModel(`${arch}:${o.d}-${o.width}-${depth}-1:softplus`).double();
        const { s, mean } = scope(() => {
          const g = ntk(model, x);
          return { s: gramSpectrum(g), mean: g.diagonal().sum().item() / o.n };
        });
        const lr = 1 / s.lambdaMax;
        const losses = descend(model, x, y, { lr, steps: o.steps, loss: 'squared', onStep: untilResolved() });
        return { arch, depth, lambdaMin: s.lambdaMin, relativeLambdaMin: s.lambdaMin / mean, condition: s.condition, lr, rate: averageRate(losses), losses };
      })
    );
  } finally {
    dispose([x, y]);
  }
}
