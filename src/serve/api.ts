/**
 * The dashboard's JSON routes over the run store, opened read-only: runs paged, filtered, sorted
 * and grouped (src/store/query.ts), one run with its curves, measures and model summary, and the
 * differing fields of runs compared. Charts are the Vega-Lite specs of src/report/chart.ts, which
 * the page renders with vega-embed.
 */
import type { FastifyInstance } from 'fastify';
import type { TopLevelSpec } from 'vega-lite';
import { SLOTS } from '../measures/population.js';
import { buildModel } from '../nn/models/spec.js';
import { inferInputShape, modelSummary, type Summary } from '../nn/summary.js';
import { boxPlotChart, lineChart } from '../report/chart.js';
import { dataVersion, fieldNames, groupRuns, type Filter, OPERATORS, pageRuns } from '../store/query.js';
import type { EpochRecord, Metrics, RunRecord, RunStore } from '../store/runs.js';
import { httpError } from './files.js';

/** Rows a page may ask for: enough for any screen, few enough that a page stays small. */
export const MAX_LIMIT = 500;

type Query = Record<string, string | string[] | undefined>;

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `f=final.gap>0.1` (repeatable) as filters; the operator is the first of OPERATORS' symbols after the field. */
export function parseFilters(v: string | string[] | undefined): Filter[] {
  const ops = [...OPERATORS].sort((a, b) => b.length - a.length).map((o) => o.replace(/[<>=!~]/g, '\\$&')).join('|');
  return list(v).map((text) => {
    const m = new RegExp(`^([^<>=!~]+)(${ops})(.*)$`).exec(text);
    if (!m) throw httpError(400, `bad filter '${text}': FIELD OP VALUE with OP one of ${OPERATORS.join(' ')}`);
    return { field: m[1].trim(), op: m[2] as Filter['op'], value: m[3].trim() };
  });
}

/** A non-negative integer query parameter, at most `max`, or its default. */
export function intParam(v: string | string[] | undefined, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n > max) throw httpError(400, `${name} must be an integer from 0 to ${max}, got '${v}'`);
  return n;
}

/**
 * TensorBoard's smoothing: an exponential moving average with weight `w` in [0, 1), divided by
 * 1 − w^k so the first points are not pulled towards 0; NaN values are skipped and kept.
 */
export function smooth(values: number[], w: number): number[] {
  let last = 0;
  let k = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    k++;
    last = last * w + (1 - w) * v;
    return last / (1 - w ** k);
  });
}

const CURVES: [title: string, test: (metric: string) => boolean][] = [
  ['loss', (m) => /loss/i.test(m)],
  ['accuracy', (m) => /acc/i.test(m)],
  ['learning rate', (m) => m === 'lr'],
];

/** The training curves of a run, one chart per kind of metric, smoothed with weight `w` and on a log y axis when asked. */
export function curveCharts(epochs: EpochRecord[], o: { logY: boolean; smoothing: number }): { name: string; spec: TopLevelSpec }[] {
  const metrics = [...new Set(epochs.flatMap((e) => Object.keys(e.metrics)))].filter((m) => m !== 'epoch');
  return CURVES.flatMap(([title, test]) => {
    const series = metrics.filter(test);
    if (series.length === 0) return [];
    const data = series.flatMap((s) => {
      const ys = smooth(epochs.map((e) => e.metrics[s] ?? Number.NaN), o.smoothing);
      // A log axis cannot place 0 or a negative value, and NaN is no point at all.
      const kept = epochs.flatMap((e, i) => (Number.isFinite(ys[i]) && (!o.logY || ys[i] > 0) ? [{ epoch: e.epoch, y: ys[i] }] : []));
      return kept.map((p) => ({ epoch: p.epoch, series: s, [title]: p.y }));
    });
    const label = o.smoothing > 0 ? `${title} (smoothed ${o.smoothing})` : title;
    return [{ name: title, spec: lineChart({ title: label, x: 'epoch', y: title, series: 'series', logY: o.logY, data, width: 420, height: 240 }) }];
  });
}

/** Box plots of a run's log margin distributions per probe slot (src/measures/population.ts), from the recorded quartiles and fences. */
export function marginChart(final: Metrics, kind: 'margin' | 'rawmargin'): TopLevelSpec | undefined {
  const data = SLOTS.filter((s) => Number.isFinite(final[`${kind}.${s}.log_median`])).map((s) => ({
    'probe point': s,
    lower: final[`${kind}.${s}.log_lowerFence`],
    q1: final[`${kind}.${s}.log_q1`],
    median: final[`${kind}.${s}.log_median`],
    q3: final[`${kind}.${s}.log_q3`],
    upper: final[`${kind}.${s}.log_upperFence`],
  }));
  if (data.length === 0) return undefined;
  const what = kind === 'margin' ? 'normalised margins' : 'margins, not normalised';
  return boxPlotChart({ title: `log ${what} per probe point (quartiles, 1.5 IQR fences)`, group: 'probe point', yTitle: 'log margin', data, width: 300,
    height: 240 });
}

/** The summary `dltheory layers` prints for the run's model spec, or the reason there is none (a spec this dltheory does not build). */
export function specSummary(spec: string): Summary | { error: string } {
  try {
    using model = buildModel(spec);
    const shape = inferInputShape(model);
    return shape ? modelSummary(model, shape) : { error: `${spec} does not say what shape its points have` };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

/** Fields (columns, hparams.NAME, final.NAME) on which the runs do not all agree. */
export function differingFields(runs: RunRecord[]): string[] {
  const flat = runs.map((r) => ({
    kind: r.kind,
    spec: r.spec,
    data: r.data,
    seed: r.seed,
    tag: r.tag,
    ...Object.fromEntries(Object.entries(r.hparams).map(([k, v]) => [`hparams.${k}`, v])),
    ...Object.fromEntries(Object.entries(r.final).map(([k, v]) => [`final.${k}`, v])),
  } as Record<string, unknown>));
  const names = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  return names.filter((n) => new Set(flat.map((f) => JSON.stringify(f[n] ?? null))).size > 1);
}

/** Registers the run routes on `app`, reading `store`. */
export function runRoutes(app: FastifyInstance, store: RunStore): void {
  // A scan of every run's JSON: computed again only when the store has changed.
  let fields = { version: Number.NaN, names: { hparams: [] as string[], final: [] as string[] } };
  app.get('/api/fields', async () => {
    if (dataVersion(store) !== fields.version) fields = { version: dataVersion(store), names: fieldNames(store) };
    return fields.names;
  });

  app.get('/api/runs', async (req) => {
    const q = req.query as Query;
    return pageRuns(store, {
      filters: parseFilters(q.f),
      sort: typeof q.sort === 'string' && q.sort !== '' ? q.sort : undefined,
      descending: q.desc === '1',
      offset: intParam(q.offset, 'offset', 0),
      limit: intParam(q.limit, 'limit', 50, MAX_LIMIT),
    });
  });

  app.get('/api/groups', async (req) => {
    const q = req.query as Query;
    const groups = groupRuns(store, parseFilters(q.f));
    const offset = intParam(q.offset, 'offset', 0);
    return { total: groups.length, groups: groups.slice(offset, offset + intParam(q.limit, 'limit', 50, MAX_LIMIT)) };
  });

  app.get('/api/run/:id', async (req) => {
    const { id } = req.params as { id: string };
    const q = req.query as Query;
    const found = store.getRun(id);
    if (!found) throw httpError(404, `no run '${id}'`);
    const smoothing = Number(q.smooth ?? 0);
    if (!(smoothing >= 0 && smoothing < 1)) throw httpError(400, `smooth must be a number in [0, 1), got '${q.smooth}'`);
    const margins = (['margin', 'rawmargin'] as const).flatMap((k) => {
      const spec = marginChart(found.run.final, k);
      return spec ? [{ name: k, spec }] : [];
    });
    return {
      ...found,
      curves: curveCharts(found.epochs, { logY: q.log === '1', smoothing }),
      margins,
      summary: specSummary(found.run.spec),
    };
  });

  app.get('/api/compare', async (req) => {
    const ids = list((req.query as Query).ids).flatMap((s) => s.split(',')).filter((s) => s !== '');
    if (ids.length < 2 || ids.length > MAX_LIMIT) throw httpError(400, `compare needs 2 to ${MAX_LIMIT} run ids, got ${ids.length}`);
    const runs = ids.map((id) => {
      const found = store.getRun(id);
      if (!found) throw httpError(404, `no run '${id}'`);
      return found.run;
    });
    return { runs, differing: differingFields(runs) };
  });
}
