/**
 * The verdict rules of `measures-ranking` (src/claims/ranking.ts) and `margins-train-size`
 * (src/claims/train-size.ts) on made-up populations put in the claims' cache in place of a trained
 * zoo, as test/margin-claims.test.ts does for the four margin claims (200 bootstrap resamples):
 * a measure built from the gap with little noise scores high, one with much noise low, and the
 * verdicts follow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/data/rng.js';
import { measuresRanking } from '../src/claims/ranking.js';
import { marginsTrainSize } from '../src/claims/train-size.js';
import type { ClaimContext, Outcome } from '../src/claims/claim.js';
import { ExperimentCache } from '../src/experiments/context.js';
import { scorePopulation } from '../src/experiments/margins.js';
import { FEATURE_SETS, type Population } from '../src/measures/population.js';
import type { RunRecord, RunStore } from '../src/store/runs.js';

/**
 * 96 models, the full product width × depth × lr × trainSize (3 × 2 × 2 × 2) with 4 seeds each; gaps
 * g = 0.05 + effect·log(8000/n)/10 + N(0, 0.01²); every one-feature set is g + σ·0.01·noise (σ by name, default 3), the
 * signature's 20 features g + σ·0.01·noise each (σ_signature), optionally blind to n (`blind`: the features see g
 * without the size's effect).
 */
function population(sigma: Record<string, number>, seed: number, o: { sizeEffect?: number; blind?: boolean } = {}): Population {
  const rng = new Rng(seed);
  const hparams = [];
  for (const width of [64, 128, 256]) {
    for (const depth of [1, 2]) {
      for (const lr of [1e-3, 3e-3]) {
        for (const trainSize of [1000, 8000]) for (const s of [0, 1, 2, 3]) hparams.push({ width, depth, lr, trainSize, seed: s });
      }
    }
  }
  const size = hparams.map((h) => (o.sizeEffect ?? 0) * Math.log(8000 / h.trainSize) / 10);
  const base = hparams.map(() => 0.05 + 0.01 * rng.normal());
  const gaps = Float64Array.from(base, (b, i) => b + size[i]);
  const seen = o.blind ? Float64Array.from(base) : gaps;
  // Only the sets the claims read, so that scoring the population (every set, 200 resamples) stays short.
  const names = Object.keys(FEATURE_SETS).filter((n) =>
    n === 'signature' || n.startsWith('baseline: ') || /^(pac-bayes: (magnitude-aware )?flatness|spectra: )/.test(n)
  );
  const features = Object.fromEntries(names.map((name) => {
    const width = FEATURE_SETS[name]({}).length;
    const s = sigma[name] ?? 3;
    return [name, Array.from(seen, (g) => Float64Array.from({ length: width }, () => g + s * 0.01 * rng.normal()))];
  }));
  const runs = hparams.map((h, i) => ({ id: `model-${i}`, hparams: h, final: {} }) as unknown as RunRecord);
  return { runs, gaps, features, hparams, excluded: [], nonFinite: {} };
}

async function run(claim: { run: (ctx: ClaimContext) => Promise<Outcome> }, p: Population, sets: 'margins' | 'all'): Promise<Outcome> {
  const cache = new ExperimentCache();
  cache.get(`margins|synthetic|quick|0|${sets}`, () => scorePopulation(p, { folds: 10, minModels: 60, resamples: 200 }, 0));
  return claim.run({ mode: 'quick', seed: 0, store: { dir: 'synthetic' } as RunStore, progress: false, log: () => {}, cache });
}

const flatGood = { signature: 0.3, 'pac-bayes: flatness': 0.2, 'pac-bayes: magnitude-aware flatness': 0.2 };

test('measures-ranking: a sharp signature and flatness above every norm holds; flatness below a norm does not', async () => {
  const good = await run(measuresRanking, population(flatGood, 1), 'all');
  assert.equal(good.verdict, 'holds', good.reason);
  assert.match(good.reason, /\(a\) signature CV R² 0\.\d{3} − best classic \+0\.\d{3} \[0\.\d{3}, 0\.\d{3}\]/);
  assert.ok(good.figures.some((f) => f.name === 'pac-bayes: flatness: Ψ' && f.value > 0.5), JSON.stringify(good.figures.slice(0, 8)));
  assert.equal(good.charts[0].name, 'measures-ranking');
  const bad = await run(measuresRanking,
    population({ ...flatGood, 'pac-bayes: flatness': 3, 'pac-bayes: magnitude-aware flatness': 3, 'spectra: alpha': 0.2 }, 2), 'all');
  assert.equal(bad.verdict, 'does not hold', bad.reason);
  assert.match(bad.reason, /spectra: alpha Ψ/);
});

test('measures-ranking: flatness and norms alike are inconclusive; a margin-like measure is negated before Ψ', async () => {
  const same = await run(measuresRanking, population({ ...flatGood, 'baseline: pathNorm': 0.2 }, 3), 'all');
  assert.equal(same.verdict, 'inconclusive', same.reason);
  // The output margin shrinks as the gap grows: given as −g + noise, it is oriented back to +g and scores Ψ > 0.
  const p = population(flatGood, 4);
  p.features['baseline: outputMargin'] = p.features['baseline: outputMargin'].map((r, i) => Float64Array.of(-p.gaps[i] + 0.1 * (r[0] - p.gaps[i])));
  const out = await run(measuresRanking, p, 'all');
  assert.ok(out.figures.find((f) => f.name === 'baseline: outputMargin: Ψ')!.value > 0.5, out.reason);
});

test('margins-train-size: a signature that sees the size holds, one blind to it does not; a fixed size is inconclusive', async () => {
  const carried = await run(marginsTrainSize, population({ signature: 0.3 }, 5, { sizeEffect: 0.05 }), 'margins');
  assert.equal(carried.verdict, 'holds', carried.reason);
  assert.match(carried.reason, /n ∈ \{1000, 8000\}: signature 0\.\d{3} \[/);
  const blind = await run(marginsTrainSize, population({ signature: 0.3 }, 6, { sizeEffect: 0.05, blind: true }), 'margins');
  assert.equal(blind.verdict, 'does not hold', blind.reason);
  const fixed = population({ signature: 0.3 }, 7);
  for (const r of fixed.runs) r.hparams.trainSize = 1000;
  assert.deepEqual([(await run(marginsTrainSize, fixed, 'margins')).verdict], ['inconclusive']);
});
