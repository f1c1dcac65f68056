import { tensor, type Tensor } from '../engine/index.js';
import { check } from '../errors.js';
import { datasetFromRaw, type Dataset } from './dataset.js';
import { Rng } from './rng.js';

/** Options of gaussianMixture. */
export interface GaussianMixtureOptions {
  n: number;
  dim: number;
  classes: number;
  /** Distance between any two class means. */
  separation: number;
  seed: number;
}

/** A regression dataset: float32 inputs [n, d] and float32 targets [n]. */
export interface RegressionDataset {
  name: string;
  x: Tensor;
  y: Tensor;
}

function checkCount(value: number, what: string, min: number): void {
  check(Number.isInteger(value) && value >= min, () => `${what} must be an integer >= ${min}, got ${value}`);
}

/**
 * `n` points in R^dim from `classes` Gaussians with identity covariance, labels balanced
 * (example i has class i mod classes). The means are separation/√2 times a random orthonormal set
 * (Gram–Schmidt on Gaussian vectors), so every pair of means is exactly `separation` apart in a
 * random orientation; this needs classes <= dim.
 */
export function gaussianMixture({ n, dim, classes, separation, seed }: GaussianMixtureOptions): Dataset {
  checkCount(classes, 'gaussianMixture classes', 2);
  checkCount(n, 'gaussianMixture n', classes);
  checkCount(dim, 'gaussianMixture dim', classes);
  check(Number.isFinite(separation) && separation >= 0, `gaussianMixture separation must be finite and >= 0, got ${separation}`);
  const rng = new Rng(seed);
  const means: Float64Array[] = [];
  while (means.length < classes) {
    const v = Float64Array.from({ length: dim }, () => rng.normal());
    for (const q of means) {
      const dot = v.reduce((a, vi, i) => a + vi * q[i], 0);
      v.forEach((vi, i) => (v[i] = vi - dot * q[i]));
    }
    const norm = Math.sqrt(v.reduce((a, vi) => a + vi * vi, 0));
    // A draw (numerically) inside the span of the previous means is redrawn.
    if (norm > 1e-6) means.push(v.map((vi) => vi / norm));
  }
  const x = new Float32Array(n * dim);
  const y = new BigInt64Array(n);
  const radius = separation / Math.SQRT2;
  for (let i = 0; i < n; i++) {
    y[i] = BigInt(i % classes);
    for (let j = 0; j < dim; j++) x[i * dim + j] = radius * means[i % classes][j] + rng.normal();
  }
  const names = Array.from({ length: classes }, (_, k) => String(k));
  return datasetFromRaw('gaussian-mixture', { dtype: 'float32', shape: [n, dim], data: x }, { dtype: 'int64', shape: [n], data: y }, names);
}

/**
 * `n` points uniform on the unit sphere in R^d (normalised Gaussian vectors) with targets drawn
 * independently from N(0, 1), so the targets carry no signal: a pure memorisation task.
 */
export function sphereRegression({ n, d, seed }: { n: number; d: number; seed: number }): RegressionDataset {
  checkCount(n, 'sphereRegression n', 1);
  checkCount(d, 'sphereRegression d', 1);
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    let squares = 0;
    for (let j = 0; j < d; j++) {
      v[j] = rng.normal();
      squares += v[j] * v[j];
    }
    for (let j = 0; j < d; j++) x[i * d + j] = v[j] / Math.sqrt(squares);
    y[i] = rng.normal();
  }
  return { name: 'sphere-regression', x: tensor(x, [n, d], 'float32'), y: tensor(y, [n], 'float32') };
}
