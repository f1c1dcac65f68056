/**
 * The generalised discrimination value: Schilling, Metzner, Rietsch, Gerum, Schulze, Krauss, "How
 * deep is deep enough? Quantifying class separability in the hidden layers of deep neural networks",
 * 2018, arXiv:1811.01753 (docs/papers.md §5).
 *
 * For N points x_n ∈ R^D in L ≥ 2 classes C_l of N_l ≥ 2 points:
 *
 *   s_nd = ½ (x_nd − μ_d) / σ_d          σ_d the population standard deviation over all N points;
 *                                        a constant dimension (max = min) gives s_nd = 0, stays in D
 *   intra_l  = 2 / (N_l (N_l − 1)) · Σ_{i<j ∈ C_l} ‖s_i − s_j‖
 *   inter_lm = 1 / (N_l N_m) · Σ_{i ∈ C_l, j ∈ C_m} ‖s_i − s_j‖
 *   GDV = (1/√D) · [ (1/L) Σ_l intra_l − (2 / (L (L − 1))) Σ_{l<m} inter_lm ]
 *
 * The result's `intra` and `inter` are those two means divided by √D, so gdv = intra − inter.
 *
 * Computation, float64 throughout: the points are reordered by class and every distance comes from
 * the Gram identity ‖a − b‖² = ‖a‖² + ‖b‖² − 2aᵀb, a tile at a time (a matmul of 256 rows of class l
 * against 2048 rows of a later class, or of its own class for intra_l), so memory is the N×D data,
 * one class's rows and a few 4 MB tiles — never N×N. Each unordered pair is computed once
 * (N(N−1)/2·D multiply-adds in all). Squared distances that round below 0 are clamped to 0 before
 * the sqrt.
 * intra_l is computed on the class's rows centred on their own mean: the identity's rounding error
 * scales with ‖a‖², and centring makes it relative to the class's spread, so a class collapsed to
 * one point gives 0, not √(rounding error) ≈ 1e-8.
 *
 * `samplePerClass: {n, seed}` measures a seeded subsample of n points of each class (all points of a
 * class with ≤ n); the z-scoring then uses the sampled points.
 */
import { noGrad } from '../engine/autograd.js';
import { tensor, zeros } from '../engine/creation.js';
import { cat } from '../engine/ops.js';
import { scope, dispose } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { checkFinite } from './finite.js';
import { Rng } from '../data/rng.js';
import { evalMode, type Module } from '../nn/module.js';

export interface GdvResult {
  gdv: number;
  /** Mean over classes of the mean intra-class distance, divided by √D. */
  intra: number;
  /** Mean over class pairs of the mean inter-class distance, divided by √D. */
  inter: number;
  /** Points measured (after any subsampling). */
  n: number;
  dims: number;
  classes: number;
}

export interface GdvOptions {
  /** Rows per tile (default 256); a tile has max(blockSize, 2^19 / blockSize) columns. */
  blockSize?: number;
  /** Measure a seeded sample of n points of each class instead of all of them. */
  samplePerClass?: { n: number; seed: number };
}

export interface GdvLayerOptions extends GdvOptions {
  /** Probe points to measure (default: all of the model's, in forward order). */
  probes?: string[];
  /** Points per forward pass (default 256). */
  batchSize?: number;
  /** Use only the first `limit` points. */
  limit?: number;
}

/** Points grouped by class: `order` lists positions class by class, class l at [offsets[l], offsets[l+1]). */
interface Groups {
  order: Int32Array;
  offsets: number[];
  labels: number[];
}

/** The end of the message for a NaN or ±Inf in the activations. */
const NEEDS_FINITE = 'GDV needs finite values';
// 2^19 distances (4 MB) per tile: matmuls of 256 × D × 2048 stay efficient, and temporaries this
// size are reused by the allocator instead of being mapped afresh (and page-faulted) every tile.
const TILE_ELEMENTS = 2 ** 19;

function labelsOf(y: Tensor | ArrayLike<number>): number[] {
  const values = 'toNumbers' in y ? y.toNumbers() : Array.from(y);
  values.forEach((v, i) => check(Number.isSafeInteger(v), () => `label ${i} is ${v}, not an integer`));
  return values;
}

/** Positions grouped by ascending label, each class subsampled when asked; checks ≥ 2 classes of ≥ 2 points. */
function groupByClass(labels: number[], sample?: { n: number; seed: number }): Groups {
  const members = new Map<number, number[]>();
  labels.forEach((c, i) => (members.get(c) ?? members.set(c, []).get(c)!).push(i));
  const classes = [...members.keys()].sort((a, b) => a - b);
  check(classes.length >= 2, () => `only one class (${classes[0] ?? 'none'}) in the labels; GDV needs at least 2`);
  if (sample) check(Number.isInteger(sample.n) && sample.n >= 2, () => `samplePerClass ${sample.n}: need an integer ≥ 2`);
  const rng = sample ? new Rng(sample.seed) : undefined;
  const order: number[] = [];
  const offsets = [0];
  for (const c of classes) {
    let idx = members.get(c)!;
    check(idx.length >= 2, () => `class ${c} has ${idx.length} point; GDV needs at least 2 points per class`);
    // One generator for all classes, drawn in class order, so a seed fixes the whole sample.
    if (rng && idx.length > sample!.n) idx = Array.from(rng.permutation(idx.length).subarray(0, sample!.n).sort(), (k) => idx[k]);
    order.push(...idx);
    offsets.push(order.length);
  }
  return { order: Int32Array.from(order), offsets, labels: classes };
}

/** ‖row‖² of every row, a block of rows at a time (no second N×D array). */
function rowSquares(t: Tensor): Tensor {
  const parts: Tensor[] = [];
  for (let r = 0; r < t.size(0); r += 1024) parts.push(t.narrow(0, r, Math.min(1024, t.size(0) - r)).square().sum(1));
  return cat(parts);
}

/**
 * Adds to acc[j] the distances from every row of `rows` to row j of `cols` ([·, D], squared norms
 * nr and nc), a tile of rows × cols at a time. With `diagonal` (rows and cols the same points) only
 * pairs j > i count, each unordered pair once, and tiles wholly below the diagonal are skipped.
 */
function addDistances(acc: Tensor, rows: Tensor, nr: Tensor, cols: Tensor, nc: Tensor, tile: Tile, diagonal: boolean): void {
  const [R, M] = [rows.size(0), cols.size(0)];
  for (let r = 0; r < R; r += tile.rows) {
    const lr = Math.min(tile.rows, R - r);
    for (let c = diagonal ? r : 0; c < M; c += tile.cols) {
      const lc = Math.min(tile.cols, M - c);
      scope(() => {
        // −2 on the small block of rows, not on the product: exact (a power of 2) and one pass fewer.
        const g = rows.narrow(0, r, lr).mul(-2).matmul(cols.narrow(0, c, lc).t());
        g.add_(nr.narrow(0, r, lr).unsqueeze(1)).add_(nc.narrow(0, c, lc).unsqueeze(0));
        const d = g.clamp(0).sqrt();
        // Element (i, j) is the pair (r + i, c + j): keep c + j > r + i.
        acc.narrow(0, c, lc).add_((diagonal && c < r + lr ? d.triu(r - c + 1) : d).sum(0));
      });
    }
  }
}

/** Tile shape: `rows` × `cols` distances per matmul. */
interface Tile {
  rows: number;
  cols: number;
}

/** GDV of xs [N, D] float64, rows grouped by class; xs is standardised in place. */
function gdvGrouped(xs: Tensor, offsets: number[], blockSize = 256): Omit<GdvResult, 'classes'> {
  const [n, dims] = xs.shape;
  const L = offsets.length - 1;
  check(Number.isInteger(blockSize) && blockSize >= 1, () => `block size ${blockSize}: need an integer ≥ 1`);
  check(dims >= 1, 'the points have no dimension; GDV needs at least one');
  const tile = { rows: blockSize, cols: Math.max(blockSize, Math.ceil(TILE_ELEMENTS / blockSize)) };
  return scope(() => {
    const constant = xs.amax(0).eq(xs.amin(0));
    // z-scoring does not depend on a dimension's scale; dividing by its largest |x| first keeps the
    // squares inside float64's range for values beyond 1e±150, which would overflow or vanish.
    xs.copy_(xs.div(xs.abs().amax(0).maskedFill(constant, 1)));
    const factor = xs.std(0, { correction: 0 }).reciprocal().mul(0.5).maskedFill(constant, 0);
    xs.add_(xs.mean(0), -1).mul_(factor);
    const norms = rowSquares(xs);

    const intra = new Float64Array(L);
    const inter = Array.from({ length: L }, () => new Float64Array(L));
    for (let l = 0; l < L; l++) {
      const [a, b] = [offsets[l], offsets[l + 1]];
      intra[l] = scope(() => {
        const own = xs.narrow(0, a, b - a);
        const c = own.sub(own.mean(0));
        const nc = rowSquares(c);
        const acc = zeros([b - a], 'float64');
        addDistances(acc, c, nc, c, nc, tile, true);
        return acc.sum().item() / (((b - a) * (b - a - 1)) / 2);
      });
      if (l === L - 1) continue;
      // Rows of class l against every later class at once; the column sums are split by class after.
      const sums = scope(() => {
        const acc = zeros([n - b], 'float64');
        addDistances(acc, xs.narrow(0, a, b - a), norms.narrow(0, a, b - a), xs.narrow(0, b, n - b), norms.narrow(0, b, n - b), tile, false);
        return acc.toArray() as Float64Array;
      });
      for (let m = l + 1; m < L; m++) {
        let s = 0;
        for (let j = offsets[m] - b; j < offsets[m + 1] - b; j++) s += sums[j];
        inter[l][m] = s / ((b - a) * (offsets[m + 1] - offsets[m]));
      }
    }
    const meanIntra = intra.reduce((s, v) => s + v, 0) / L;
    let meanInter = 0;
    for (let l = 0; l < L; l++) for (let m = l + 1; m < L; m++) meanInter += inter[l][m] / ((L * (L - 1)) / 2);
    const root = Math.sqrt(dims);
    return { gdv: (meanIntra - meanInter) / root, intra: meanIntra / root, inter: meanInter / root, n, dims };
  });
}

/**
 * The GDV of the points x [n, ...] (each flattened to D numbers) with integer labels y [n]. Unitless: distances are
 * between z-scored points (halved), divided by √D; below 0 when classes are separated, about 0 for none.
 *
 * @example
 * ```ts
 * import { gaussianMixture, gdv } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 400, dim: 10, classes: 4, separation: 8, seed: 0 });
 * const r = gdv(x, y); // { gdv, intra, inter, n: 400, dims: 10, classes: 4 }
 * r.gdv;               // intra − inter, < 0: the classes are well separated
 * ```
 */
export function gdv(x: Tensor, y: Tensor | ArrayLike<number>, opts: GdvOptions = {}): GdvResult {
  const labels = labelsOf(y);
  check(x.ndim >= 1 && x.size(0) === labels.length, () => `${labels.length} labels for ${x.ndim ? x.size(0) : 0} points`);
  return noGrad(() =>
    scope(() => {
      const x2 = x.ndim === 1 ? x.unsqueeze(1) : x.flatten(1);
      checkFinite(x2, 'activations', NEEDS_FINITE);
      const g = groupByClass(labels, opts.samplePerClass);
      const sel = x2.indexSelect(0, tensor(BigInt64Array.from(g.order, BigInt), [g.order.length], 'int64'));
      const xs = sel.to('float64'); // a copy of the caller's data either way: standardised in place
      sel.dispose(); // now, not at the end of the scope: a float32 input would otherwise be held twice
      return { ...gdvGrouped(xs, g.offsets, opts.blockSize), classes: g.labels.length };
    })
  );
}

/**
 * The GDV at each probe point of `model` over inputs x [n, ...] with labels y, the activations
 * flattened to [n, D] and widened to float64. One probe point at a time (a forward pass per batch
 * and probe point), so memory holds one layer's n × D activations.
 *
 * @example
 * ```ts
 * import { buildModel, gaussianMixture, gdvPerLayer } from 'dltheory';
 * const { x, y } = gaussianMixture({ n: 400, dim: 10, classes: 4, separation: 8, seed: 0 });
 * const layers = gdvPerLayer(buildModel('mlp:10-64-64-4'), x, y);
 * layers.map((l) => [l.probe, l.dims]); // [['input', 10], ['layers.0', 64], ['layers.1', 64]], each with its gdv
 * ```
 */
export function gdvPerLayer(model: Module, x: Tensor, y: Tensor | ArrayLike<number>, opts: GdvLayerOptions = {}): (GdvResult & { probe: string })[] {
  const known = model.probePoints();
  const names = opts.probes ?? model.defaultProbePoints();
  for (const p of names) check(known.includes(p), () => `no probe point '${p}' in ${model.label} (have: ${known.join(', ')})`);
  const batch = opts.batchSize ?? 256;
  check(Number.isInteger(batch) && batch >= 1, () => `batch size ${batch}: need an integer ≥ 1`);
  let labels = labelsOf(y);
  check(labels.length === x.size(0), () => `${labels.length} labels for ${x.size(0)} points`);
  if (opts.limit !== undefined) {
    check(Number.isInteger(opts.limit) && opts.limit >= 1, () => `limit ${opts.limit}: need an integer ≥ 1`);
    labels = labels.slice(0, opts.limit);
  }
  // Points are fed in class order, so every layer's activations arrive already grouped.
  const g = groupByClass(labels, opts.samplePerClass);
  using index = tensor(BigInt64Array.from(g.order, BigInt), [g.order.length], 'int64');
  const dtype = model.dtype;
  using _eval = evalMode(model);
  return names.map((probe) =>
    noGrad(() => {
      const parts: Tensor[] = [];
      try {
        for (let s = 0; s < g.order.length; s += batch) {
          const len = Math.min(batch, g.order.length - s);
          parts.push(
            scope(() => {
              const xb = x.indexSelect(0, index.narrow(0, s, len)).to(dtype);
              let h: Tensor;
              try {
                h = model.forwardWithProbes(xb, [probe]).probes.get(probe)!;
              } catch (e) {
                throw new InputError(`inputs of shape [${x.shape}] do not fit model ${model.label}: ${(e as Error).message.split('\n')[0]}`);
              }
              return h.flatten(1).to('float64');
            }),
          );
        }
        using xs = cat(parts);
        dispose(parts.splice(0));
        checkFinite(xs, `activations at probe point ${probe}`, NEEDS_FINITE, g.order);
        return { probe, ...gdvGrouped(xs, g.offsets, opts.blockSize), classes: g.labels.length };
      } finally {
        dispose(parts);
      }
    })
  );
}
