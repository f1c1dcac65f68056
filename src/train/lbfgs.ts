/**
 * Limited-memory BFGS for a smooth function on ℝⁿ in float64: Nocedal & Wright, Numerical
 * Optimization (2nd ed., 2006), Algorithm 7.5 (L-BFGS), with the search direction −H_k∇f by the
 * two-loop recursion (Algorithm 7.4) from the last `memory` pairs s_i = x_{i+1} − x_i,
 * y_i = ∇f_{i+1} − ∇f_i, the initial matrix H⁰_k = γ_k I with γ_k = sᵀy / yᵀy of the newest pair
 * (eq. 7.20), and a step length satisfying the strong Wolfe conditions (eq. 3.7, c₁ = 1e-4,
 * c₂ = 0.9) by the bracketing line search of Algorithm 3.5 with `zoom` (Algorithm 3.6), the trial
 * step inside a bracket the minimiser of the cubic through both ends' values and slopes (eq. 3.59),
 * safeguarded to the middle 80% of the bracket. The first step is 1/‖∇f‖∞ (so it moves each
 * coordinate by at most 1), every later one first tries 1, as §7.2 advises. A pair with sᵀy ≤ 1e-12·yᵀy
 * (no positive curvature seen, which the Wolfe conditions exclude but round-off need not) is skipped.
 *
 * Plain TypeScript on Float64Arrays: the caller evaluates f and ∇f however it likes (tensors, closed
 * forms), and this file holds only the O(n·memory) vector algebra.
 */

/** f(x) and ∇f(x) [n]; the gradient may be a new array each call (it is not modified). */
export type Objective = (x: Float64Array) => { value: number; gradient: Float64Array };

export interface LbfgsOptions {
  /** Pairs (s, y) kept: m of Algorithm 7.5 (default 10). */
  memory?: number;
  /** Iterations at most (default 1000). */
  maxIterations?: number;
  /** Stop once ‖∇f‖∞ ≤ this (default 1e-10). */
  gradientTolerance?: number;
  /** Called at x₀ (iteration 0) and after every iteration; return true to stop there. */
  stop?: (value: number, iteration: number) => boolean;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  /** ‖∇f(x)‖∞. */
  gradientNorm: number;
  iterations: number;
  /** Calls of f, line searches included. */
  evaluations: number;
  /** Why it stopped: the gradient tolerance, `stop`, the iteration limit, or a line search that found no Wolfe step (round-off). */
  reason: 'gradient' | 'stop' | 'iterations' | 'line search';
}

const C1 = 1e-4;
const C2 = 0.9;
/** Function evaluations one line search may spend. */
const LINE_SEARCH_EVALUATIONS = 30;

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** x + αp, a new array. */
const step = (x: Float64Array, alpha: number, p: Float64Array): Float64Array => x.map((v, i) => v + alpha * p[i]);

/** −H∇f by the two-loop recursion (Algorithm 7.4), pairs oldest first. */
function direction(g: Float64Array, s: Float64Array[], y: Float64Array[], rho: number[]): Float64Array {
  const q = g.map((v) => -v);
  const a = new Array<number>(s.length);
  for (let i = s.length - 1; i >= 0; i--) {
    a[i] = rho[i] * dot(s[i], q);
    for (let j = 0; j < q.length; j++) q[j] -= a[i] * y[i][j];
  }
  const k = s.length - 1;
  const gamma = k >= 0 ? dot(s[k], y[k]) / dot(y[k], y[k]) : 1;
  for (let j = 0; j < q.length; j++) q[j] *= gamma;
  for (let i = 0; i < s.length; i++) {
    const b = rho[i] * dot(y[i], q);
    for (let j = 0; j < q.length; j++) q[j] += (a[i] - b) * s[i][j];
  }
  return q;
}

/** A trial point of the line search φ(α) = f(x + αp): α, φ(α), φ'(α) = ∇f·p, and ∇f there. */
interface Trial {
  alpha: number;
  value: number;
  slope: number;
  gradient: Float64Array;
}

/** The minimiser of the cubic through (a, φ(a), φ'(a)) and (b, φ(b), φ'(b)) (eq. 3.59), kept to the middle 80% of [a, b]; else the midpoint. */
function cubicStep(a: Trial, b: Trial): number {
  const d1 = a.slope + b.slope - (3 * (a.value - b.value)) / (a.alpha - b.alpha);
  const root = d1 * d1 - a.slope * b.slope;
  const mid = (a.alpha + b.alpha) / 2;
  if (!(root >= 0)) return mid;
  const d2 = Math.sign(b.alpha - a.alpha) * Math.sqrt(root);
  const t = b.alpha - (b.alpha - a.alpha) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2));
  const [lo, hi] = [Math.min(a.alpha, b.alpha), Math.max(a.alpha, b.alpha)];
  const margin = 0.1 * (hi - lo);
  return Number.isFinite(t) && t >= lo + margin && t <= hi - margin ? t : mid;
}

/** A step length satisfying the strong Wolfe conditions along the descent direction p (Algorithms 3.5 and 3.6), or null. */
function wolfeSearch(f: Objective, x: Float64Array, start: Trial, p: Float64Array, first: number, count: () => void): Trial | null {
  const sufficient = (t: Trial) => t.value <= start.value + C1 * t.alpha * start.slope;
  const curvature = (t: Trial) => Math.abs(t.slope) <= -C2 * start.slope;
  const trial = (alpha: number): Trial => {
    count();
    const r = f(step(x, alpha, p));
    return { alpha, value: r.value, slope: dot(r.gradient, p), gradient: r.gradient };
  };
  let evaluations = 0;
  // zoom(lo, hi): lo satisfies sufficient decrease with the lower value; the bracket holds a Wolfe step.
  const zoom = (lo: Trial, hi: Trial): Trial | null => {
    while (evaluations++ < LINE_SEARCH_EVALUATIONS) {
      const t = trial(cubicStep(lo, hi));
      if (!sufficient(t) || t.value >= lo.value) hi = t;
      else {
        if (curvature(t)) return t;
        if (t.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = t;
      }
    }
    return null;
  };
  let previous = start;
  let alpha = first;
  while (evaluations++ < LINE_SEARCH_EVALUATIONS) {
    const t = trial(alpha);
    if (!Number.isFinite(t.value)) {
      // Overflow: a shorter step, not a bracket.
      alpha = (previous.alpha + alpha) / 2;
      continue;
    }
    if (!sufficient(t) || (previous !== start && t.value >= previous.value)) return zoom(previous, t);
    if (curvature(t)) return t;
    if (t.slope >= 0) return zoom(t, previous);
    previous = t;
    alpha *= 2;
  }
  return null;
}

/**
 * Minimises f from x0 [n] (not modified) by L-BFGS (see the module comment).
 *
 * @example
 * ```ts
 * // f(x) = Σ (x_i − i)²: the minimiser is (0, 1, 2).
 * const r = lbfgs((x) => ({ value: x.reduce((s, v, i) => s + (v - i) ** 2, 0), gradient: x.map((v, i) => 2 * (v - i)) }), new Float64Array(3));
 * r.x; // ≈ [0, 1, 2]
 * ```
 */
export function lbfgs(f: Objective, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const memory = opts.memory ?? 10;
  const maxIterations = opts.maxIterations ?? 1000;
  const tolerance = opts.gradientTolerance ?? 1e-10;
  let evaluations = 1;
  let x: Float64Array = Float64Array.from(x0);
  let { value, gradient } = f(x);
  const [s, y, rho]: [Float64Array[], Float64Array[], number[]] = [[], [], []];
  const result = (iterations: number, reason: LbfgsResult['reason']): LbfgsResult => ({
    x,
    value,
    gradientNorm: maxAbs(gradient),
    iterations,
    evaluations,
    reason,
  });
  for (let k = 0;; k++) {
    if (opts.stop?.(value, k)) return result(k, 'stop');
    if (maxAbs(gradient) <= tolerance) return result(k, 'gradient');
    if (k === maxIterations) return result(k, 'iterations');
    const p = direction(gradient, s, y, rho);
    const start = { alpha: 0, value, slope: dot(gradient, p), gradient };
    const t = start.slope < 0 ? wolfeSearch(f, x, start, p, k === 0 ? 1 / maxAbs(gradient) : 1, () => evaluations++) : null;
    if (t === null) return result(k, 'line search');
    const sk = p.map((v) => t.alpha * v);
    const yk = t.gradient.map((v, i) => v - gradient[i]);
    const sy = dot(sk, yk);
    if (sy > 1e-12 * dot(yk, yk)) {
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
      if (s.length > memory) [s, y, rho].forEach((a) => a.shift());
    }
    x = step(x, t.alpha, p);
    ({ value, gradient } = t);
  }
}
