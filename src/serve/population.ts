/**
 * The population routes: every tag (a zoo grid, a sweep, a claim's runs) and, for one tag, any
 * measure against the generalisation gap coloured by a hyper-parameter, parallel coordinates over
 * the varied hyper-parameters, the measure and the gap, the ranking table of every feature set
 * (CV R², Kendall τ, Ψ, CMI; src/measures/regression.ts) and the cross-validated predicted-vs-true
 * gap of the margin signature (Jiang et al. 2019; src/claims/margins.ts).
 */
import type { FastifyInstance } from 'fastify';
import { predictedVsTrue } from '../claims/margins.js';
import { fittedRuns, GRIDS } from '../experiments/zoo.js';
import { measuredSets, populationFeatures } from '../measures/population.js';
import { evaluateMeasures, type MeasureRow } from '../measures/regression.js';
import { parallelCoordinatesChart, scatterChart } from '../report/chart.js';
import { dataVersion, tagCounts } from '../store/query.js';
import type { RunRecord, RunStore } from '../store/runs.js';
import { httpError } from './files.js';

/** 10-fold CV, as the margin claims use, needs at least as many models as folds. */
const MIN_MODELS = 10;

/** The runs of tag `tag`; for a zoo grid (`zoo/NAME`) only those that reached the grid's training accuracy, as the claims use. */
function members(store: RunStore, tag: string): { runs: RunRecord[]; unfitted: string[] } {
  const runs = store.listRuns({ tag }).reverse();
  const grid = tag.startsWith('zoo/') ? GRIDS[tag.slice(4)] : undefined;
  if (!grid) return { runs, unfitted: [] };
  const { fitted, unfitted } = fittedRuns(grid, runs);
  return { runs: fitted, unfitted };
}

interface Ranking {
  rows: MeasureRow[];
  /** Feature sets left out, with the number of models on which they are not finite (a log of a margin ≤ 0). */
  leftOut: Record<string, number>;
  predicted?: ReturnType<typeof predictedVsTrue>;
  /** Why there are no rows. */
  reason?: string;
}

/**
 * Every feature set that is finite on every model, scored on all of them: the rows compare measures
 * on the same models, and a set undefined on a few models (a log of a negative margin on an
 * underfitted one) is left out and named rather than shrinking the population for all.
 */
function ranking(runs: RunRecord[]): Ranking {
  const sets = measuredSets(runs);
  const { nonFinite } = populationFeatures(runs, sets);
  const p = populationFeatures(runs, sets.filter((s) => !(s in nonFinite)));
  if (p.runs.length < MIN_MODELS || Object.keys(p.features).length === 0) {
    return { rows: [], leftOut: nonFinite, reason: `${p.runs.length} models with a finite gap and measures; ${MIN_MODELS} needed` };
  }
  const rows = evaluateMeasures(p.features, p.gaps, p.hparams);
  const predicted = 'signature' in p.features ? predictedVsTrue({ population: p, rows, draws: {} }, 0) : undefined;
  return { rows, leftOut: nonFinite, predicted };
}

/** Registers the population routes on `app`, reading `store`; rankings are cached until the store changes. */
export function populationRoutes(app: FastifyInstance, store: RunStore): void {
  const cache = new Map<string, Ranking>();
  let version = dataVersion(store);
  app.get('/api/tags', async () => tagCounts(store));

  app.get('/api/population', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const tag = q.tag ?? '';
    const { runs, unfitted } = members(store, tag);
    if (runs.length === 0) throw httpError(404, `no runs tagged '${tag}'`);
    const measures = Object.keys(runs[0].final).filter((m) => m !== 'gap' && runs.every((r) => typeof r.final[m] === 'number'));
    const varied = Object.keys(runs[0].hparams).filter((k) => new Set(runs.map((r) => JSON.stringify(r.hparams[k]))).size > 1);
    const measure = q.measure ?? measures[0];
    const color = q.color ?? varied[0];
    if (measure === undefined || !measures.includes(measure)) throw httpError(400, `measure must be one of the tag's metrics, got '${measure}'`);
    if (color !== undefined && !varied.includes(color)) throw httpError(400, `color must be a varied hyper-parameter (${varied.join(', ')}), got '${color}'`);
    const data = runs.map((r) => ({
      id: r.id,
      gap: r.final.gap,
      [measure]: r.final[measure],
      ...Object.fromEntries(varied.map((k) => [k, r.hparams[k] as number | string])),
    }));
    if (dataVersion(store) !== version) {
      version = dataVersion(store);
      cache.clear();
    }
    const rank = cache.get(tag) ?? ranking(runs);
    cache.set(tag, rank);
    const numeric = varied.filter((k) => runs.every((r) => typeof r.hparams[k] === 'number'));
    return {
      tag,
      runs: runs.length,
      unfitted,
      measures,
      varied,
      measure,
      color,
      scatter: scatterChart({ title: `${measure} against the generalisation gap`, x: measure, y: 'gap', color, data, width: 420, height: 300 }),
      parallel: parallelCoordinatesChart({ title: 'hyper-parameters, measure and gap', axes: [...numeric, measure, 'gap'], color: 'gap', data, width: 560,
        height: 300 }),
      ranking: rank,
    };
  });
}
