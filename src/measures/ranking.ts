/**
 * The granulated Kendall coefficient Ψ of Jiang, Neyshabur, Mobahi, Krishnan, Bengio, "Fantastic
 * Generalization Measures and Where to Find Them" (ICLR 2020; docs/papers.md, "Also cited"),
 * eqs. (3)–(5): how well a measure μ orders the generalisation gaps g of models that differ in one
 * hyper-parameter only, averaged over which hyper-parameter that is — so a measure that follows only
 * the design's strongest effect does not score as one that follows every effect.
 *
 * Kendall's τ of a set T of (μ, g) values, eq. (3), over ordered pairs of distinct models (τ-a: a tie
 * in μ or in g scores 0 and stays in the denominator):
 *   τ(T) = 1/(|T|(|T| − 1)) Σ_{(μ₁,g₁) ∈ T} Σ_{(μ₂,g₂) ∈ T∖{(μ₁,g₁)}} sgn(μ₁ − μ₂)·sgn(g₁ − g₂)
 * With hyper-parameter axes Θ₁ … Θ_n,
 *   ψ_i = (1/m_i) Σ_{θ₁∈Θ₁} … Σ_{θ_{i−1}} Σ_{θ_{i+1}} … Σ_{θ_n∈Θ_n} τ(∪_{θ_i∈Θ_i} {(μ(θ), g(θ))})    (4)
 *   m_i = |Θ₁ × … × Θ_{i−1} × Θ_{i+1} × … × Θ_n|
 *   Ψ = (1/n) Σ_i ψ_i                                                                               (5)
 *
 * dltheory's choices, for populations that are not a full product with one model a cell:
 * - Groups. The group of a model for axis i is the set of models that agree with it on every other
 *   hyper-parameter (and on the seed, below). ψ_i is the mean of τ over the groups of two or more
 *   models, each group weighted equally as in (4); a group of one model has no pair and is skipped.
 *   ψ_i is NaN when axis i has no such group, and Ψ is the mean of the ψ_i that are defined (NaN when
 *   none is). Which groups count depends on the hyper-parameters alone, never on the measure, so every
 *   measure of one population is averaged over the same groups and axes.
 * - Ties. τ is eq. (3)'s, not τ-b: a measure constant within a group scores 0 there — it does not
 *   order what axis i changes — rather than leaving the group undefined, which would drop from the
 *   average exactly the axes a measure ignores. Without ties τ equals τ-b (scipy.stats.kendalltau).
 * - Axes. An axis is a hyper-parameter that takes two or more values in the population; one that does
 *   not vary is no axis (every group agrees on it anyway).
 * - Seed. The entry `seed` (opts.replicate) is not a hyper-parameter in Jiang et al.: it is never an
 *   axis, but groups must agree on it, so two models are compared only when they differ in axis i and
 *   in nothing else. Models that differ only in seed are never compared: their gaps differ by
 *   training noise, which no measure is asked to order.
 * Each axis reports the groups, models and pairs (unordered) its ψ_i rests on: on a sampled grid
 * most groups hold a single model and ψ_i may rest on a handful of pairs.
 */
import { check } from '../errors.js';

/** One model's hyper-parameters, by name. */
export type HParams = Record<string, string | number | boolean>;

/** The hyper-parameter entry that holds a model's random seed: a replicate, not a hyper-parameter of the design. */
export const SEED = 'seed';

/** A hyper-parameter's value for each model as an integer code in [0, size), in order of first appearance. */
export interface CodedHParam {
  name: string;
  code: Int32Array;
  size: number;
}

/**
 * Codes every hyper-parameter of `hparams` (one entry per model, each with the same names); `what`
 * names the caller in the InputError raised when a model's names differ from model 0's.
 */
export function codeHyperParameters(hparams: readonly HParams[], what: string): CodedHParam[] {
  const names = Object.keys(hparams[0] ?? {});
  for (const [i, h] of hparams.entries())
    check(Object.keys(h).length === names.length && names.every((k) => k in h),
      () => `${what}: model ${i} has hyper-parameters {${Object.keys(h)}}, model 0 {${names}}`);
  return names.map((name) => {
    const index = new Map<string, number>();
    const code = Int32Array.from(hparams, (h) => {
      const key = `${typeof h[name]}:${String(h[name])}`;
      if (!index.has(key)) index.set(key, index.size);
      return index.get(key)!;
    });
    return { name, code, size: index.size };
  });
}

/** An axis with the groups (model indices) of two or more models that agree on everything but it. */
interface AxisGroups {
  axis: string;
  groups: number[][];
}

/** The axes of `hparams` (those that vary, the replicate entry excepted) with their groups of two or more models. */
function granulatedGroups(hparams: readonly HParams[], opts: { replicate?: string } = {}): AxisGroups[] {
  const coded = codeHyperParameters(hparams, 'granulated Kendall');
  const replicate = opts.replicate ?? SEED;
  return coded.filter((c) => c.size > 1 && c.name !== replicate).map((axis) => {
    const others = coded.filter((c) => c !== axis);
    const byKey = new Map<string, number[]>();
    hparams.forEach((_, i) => {
      const key = others.map((c) => c.code[i]).join(',');
      const group = byKey.get(key);
      if (group) group.push(i);
      else byKey.set(key, [i]);
    });
    return { axis: axis.name, groups: [...byKey.values()].filter((g) => g.length > 1) };
  });
}

/** ψ_i of one axis, with what it rests on. */
export interface AxisPsi {
  axis: string;
  /** Mean τ over the axis's groups; NaN when it has none. */
  psi: number;
  /** Groups of two or more models. */
  groups: number;
  /** Models in those groups. */
  models: number;
  /** Unordered pairs within those groups: Σ m(m − 1)/2. */
  pairs: number;
}

export interface GranulatedKendall {
  /** Ψ, in [−1, 1]: the mean of the defined ψ_i; NaN when no axis has a group. */
  psi: number;
  byAxis: AxisPsi[];
}

/** Eq. (3) on the m models of `group`: its sum over ordered pairs is twice Σ_{i<j} sgn(μ_i − μ_j)·sgn(g_i − g_j). */
function tau(measure: ArrayLike<number>, gaps: ArrayLike<number>, group: number[]): number {
  let s = 0;
  for (let a = 0; a < group.length; a++) {
    for (let b = a + 1; b < group.length; b++) {
      const [i, j] = [group[a], group[b]];
      s += Math.sign(measure[i] - measure[j]) * Math.sign(gaps[i] - gaps[j]);
    }
  }
  return s / ((group.length * (group.length - 1)) / 2);
}

/**
 * Ψ of a measure against the gaps: `measure` [n] and `gaps` [n] finite, aligned with `hparams` (n
 * models, each with the same hyper-parameter names; `seed`, or `opts.replicate`, is the replicate).
 * Unitless, in [−1, 1]: 1 when the measure orders the gaps of every group, −1 when it reverses them.
 * Errors (InputError): lengths that differ, a value that is not finite, models with different names.
 *
 * @example
 * ```ts
 * import { granulatedKendall } from 'dltheory';
 * const hparams = [0, 1, 2, 3].map((i) => ({ width: i % 2, depth: i >> 1 }));
 * const gaps = [0.1, 0.2, 0.3, 0.4];
 * granulatedKendall([1, 2, 3, 4], gaps, hparams).psi; // 1: both axes ordered in both groups
 * granulatedKendall([1, 1, 2, 2], gaps, hparams);     // ψ_depth 1, ψ_width 0 (constant within its groups): Ψ 0.5
 * ```
 */
export function granulatedKendall(measure: ArrayLike<number>, gaps: ArrayLike<number>, hparams: readonly HParams[],
  opts: { replicate?: string } = {}): GranulatedKendall
{
  const n = gaps.length;
  check(measure.length === n && hparams.length === n,
    () => `granulated Kendall: ${measure.length} measure values, ${n} gaps, ${hparams.length} hyper-parameter sets`);
  for (const [what, v] of [['measure', measure], ['gap', gaps]] as const) {
    const bad = Array.prototype.findIndex.call(v, (x: number) => !Number.isFinite(x));
    check(bad < 0, () => `granulated Kendall: ${what} of model ${bad} is ${v[bad]}`);
  }
  const byAxis = granulatedGroups(hparams, opts).map(({ axis, groups }) => ({
    axis,
    psi: groups.length ? groups.reduce((s, g) => s + tau(measure, gaps, g), 0) / groups.length : NaN,
    groups: groups.length,
    models: groups.reduce((s, g) => s + g.length, 0),
    pairs: groups.reduce((s, g) => s + (g.length * (g.length - 1)) / 2, 0),
  }));
  const defined = byAxis.filter((a) => !Number.isNaN(a.psi));
  return { psi: defined.length ? defined.reduce((s, a) => s + a.psi, 0) / defined.length : NaN, byAxis };
}
