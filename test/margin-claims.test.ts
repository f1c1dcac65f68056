/**
 * The verdict rules of the four margin claims (src/claims/margins.ts) on made-up populations whose
 * measures are the gap seen through noise of a chosen size, scored as `reproduce` scores the zoo
 * (scorePopulation: 10-fold CV; 300 bootstrap resamples, not 1000, to keep the test short) and put in the claims' cache in place of
 * the trained zoo: clearly separated measures give verdicts, measures equal in distribution give
 * "inconclusive", and each reason prints its estimates with their 95% intervals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/data/rng.js';
import { MARGIN_CLAIMS } from '../src/claims/margins.js';
import type { ClaimContext } from '../src/claims/claim.js';
import { ExperimentCache } from '../src/experiments/context.js';
import { scorePopulation } from '../src/experiments/margins.js';
import { FEATURE_SETS, type Population } from '../src/measures/population.js';
import type { RunRecord, RunStore } from '../src/store/runs.js';

/**
 * n models with gaps g ~ N(0.05, 0.02²); every feature set is one feature g + σ·0.02·noise, σ from
 * `sigma` by name (default 3: a poor measure), so its R² is about 1/(1 + σ²).
 */
function population(n: number, sigma: Record<string, number>, seed: number): Population {
  const rng = new Rng(seed);
  const gaps = Float64Array.from({ length: n }, () => 0.05 + 0.02 * rng.normal());
  const features = Object.fromEntries(
    Object.keys(FEATURE_SETS).map((name) => [name, Array.from(gaps, (g) => Float64Array.of(g + (sigma[name] ?? 3) * 0.02 * rng.normal()))]),
  );
  const runs = Array.from(gaps, (_, i) => ({ id: `model-${i}`, hparams: { trainSize: i % 2 ? 1000 : 8000 }, final: {} }) as unknown as RunRecord);
  return { runs, gaps, features, hparams: runs.map((_, i) => ({ width: i % 3 })), excluded: [], nonFinite: {} };
}

async function verdicts(p: Population): Promise<{ verdict: string; reason: string }[]> {
  const store = { dir: 'synthetic' } as RunStore;
  const cache = new ExperimentCache();
  // The claims' cache key for this store, mode and seed (src/claims/margins.ts): the zoo is never trained.
  cache.get(`margins|synthetic|quick|0|margins`, () => scorePopulation(p, { folds: 10, minModels: 60, resamples: 300 }, 0));
  const ctx: ClaimContext = { mode: 'quick', seed: 0, store, progress: false, log: () => {}, cache };
  return Promise.all(MARGIN_CLAIMS.map((c) => c.run(ctx)));
}

const interval = /-?\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]/;
const ids = MARGIN_CLAIMS.map((c) => c.id);
const signatureOnly = { signature: 0.1, 'signature, output layer only': 1, 'signature, not normalised': 0.5, 'signature, no log': 0.5 };

test('margin claims: a clearly better signature holds every rule, with intervals in the reasons', async () => {
  const out = await verdicts(population(72, signatureOnly, 1));
  assert.deepEqual(out.map((o) => o.verdict), ['holds', 'holds', 'holds', 'holds'], JSON.stringify(out.map((o) => o.reason)));
  for (const [k, o] of out.entries()) assert.match(o.reason, interval, ids[k]);
  assert.match(out[0].reason, /^CV R² 0\.9\d\d \[0\.9\d\d, 0\.9\d\d\] \(95% interval; target ≥ 0\.8\)/);
  assert.match(out[2].reason, /signature minus not normalised \+0\.\d{3} \[0\.\d{3}, 0\.\d{3}\], no log \+0\.\d{3} \[0\.\d{3}, 0\.\d{3}\]$/);
});

test('margin claims: differences inside the noise and a CV R² at the target are inconclusive', async () => {
  // Signature, output layer, both ablations and one baseline: the same noise (R² ≈ 0.8), drawn independently.
  const names = ['signature', 'signature, output layer only', 'signature, not normalised', 'signature, no log', 'baseline: distInit'];
  assert.ok(names.every((n) => n in FEATURE_SETS), 'names of feature sets');
  const out = await verdicts(population(72, Object.fromEntries(names.map((n) => [n, 0.5])), 2));
  assert.deepEqual(out.map((o) => o.verdict), ['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive'], JSON.stringify(out.map((o) => o.reason)));
});

test('margin claims: a clearly worse signature does not hold; too few usable models is inconclusive', async () => {
  const better = { signature: 1, 'signature, output layer only': 0.1, 'signature, no log': 0.1, 'baseline: distInit': 0.1 };
  const out = await verdicts(population(72, better, 3));
  assert.deepEqual(out.map((o) => o.verdict), ['does not hold', 'does not hold', 'does not hold', 'does not hold'], JSON.stringify(out.map((o) => o.reason)));
  assert.match(out[3].reason, /closest baseline in CV R² distInit/);
  const few = await verdicts(population(50, signatureOnly, 4));
  for (const o of few) assert.deepEqual([o.verdict, o.reason], ['inconclusive', 'only 50 models with finite features (60 needed)']);
});
