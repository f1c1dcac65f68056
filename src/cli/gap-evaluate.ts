/**
 * `dltheory gap evaluate`: every feature set of a zoo's population (whatever FEATURE_SETS holds)
 * fitted to the gap and scored (src/measures/regression.ts, src/measures/ranking.ts), in one ranking
 * table, also written as CSV, JSON and a Vega-Lite chart.
 */
import { InputError, check } from '../errors.js';
import { toCsv } from '../io/csv.js';
import { writeFileAtomic } from '../io/files.js';
import { populationFeatures, type Population } from '../measures/population.js';
import { evaluateMeasures, type MeasureRow } from '../measures/regression.js';
import { dotChart, renderSvg } from '../report/chart.js';
import { formatTable } from '../report/progress.js';
import { openStore, type RunStore } from '../store/runs.js';
import { choiceOpt, numberOpt, outputOpt } from './args.js';
import { resolveGrid } from './zoo.js';
import { fittedRuns } from '../experiments/zoo.js';

/** The population of the zoo of grid `gridName` in `store`, over the feature sets `sets` (default all). */
export function zooPopulation(store: RunStore, gridName: string, sets?: string[]): Population {
  const grid = resolveGrid(gridName);
  const runs = store.findByTag(`zoo/${grid.name}`);
  if (runs.length === 0) throw new InputError(`no zoo '${grid.name}' in ${store.dir}: run \`dltheory zoo --grid ${gridName}\` first`);
  const { fitted, unfitted } = fittedRuns(grid, runs);
  const p = populationFeatures(fitted, sets);
  const why = [
    ...(unfitted.length ? [`${unfitted.length} below ${grid.minTrainAccuracy} training accuracy`] : []),
    ...Object.entries(p.nonFinite).map(([set, count]) => `${count} with '${set}' not finite`),
  ];
  check(p.runs.length >= 3, () => `zoo '${grid.name}': only ${p.runs.length} of ${runs.length} models usable (${why.join('; ')})`);
  return { ...p, excluded: [...unfitted, ...p.excluded] };
}

/** The scores `--sort` takes, each the MeasureRow field it sorts on (descending) and the column it heads. */
const SCORES = {
  cvR2: { field: 'cvR2', title: 'CV R²' },
  tau: { field: 'kendallTau', title: 'Kendall τ' },
  psi: { field: 'psi', title: 'Ψ' },
  cmi: { field: 'cmi', title: 'CMI' },
} as const;
type Score = keyof typeof SCORES;

/** The table's columns: as printed, as CSV headers, each row's cell, and why the cell can be undefined (Ψ: psiNotes). */
const COLUMNS: [string, string, (r: MeasureRow) => string | number, string?][] = [
  ['measure', 'measure', (r) => r.measure],
  ['features', 'features', (r) => r.features],
  ['CV R²', 'cv_r2', (r) => r.cvR2, 'every gap is the same'],
  ['Kendall τ', 'kendall_tau', (r) => r.kendallTau, "the fit's predictions are constant"],
  ['Ψ', 'psi', (r) => r.psi],
  ['CMI', 'cmi', (r) => r.cmi, 'no conditioning cell holds two models of different gaps'],
  ['adjusted R²', 'adjusted_r2', (r) => r.adjustedR2, 'n − p − 1 ≤ 0: at least as many features as models − 1'],
];

/** Descending by `score`, an undefined (NaN) score last; equal scores keep FEATURE_SETS' order. */
function ranked(rows: MeasureRow[], score: Score): MeasureRow[] {
  const key = (r: MeasureRow): number => (Number.isNaN(r[SCORES[score].field]) ? -Infinity : r[SCORES[score].field]);
  // −∞ − (−∞) is NaN: two undefined scores compare equal.
  return [...rows].sort((a, b) => key(b) - key(a) || 0);
}

/** What each ψ_i rests on, and why one is undefined: the lines under the table. */
function psiNotes(rows: MeasureRow[]): string {
  const axes = rows[0]?.psiByAxis ?? [];
  if (axes.length === 0) return 'Ψ —: no hyper-parameter varies';
  const empty = axes.filter((a) => a.groups === 0).map((a) => a.axis);
  return `Ψ rests on ${axes.map((a) => `${a.axis}: ${a.groups} groups, ${a.models} models, ${a.pairs} pairs`).join('; ')}` +
    (empty.length ? `\nψ — for ${empty.join(', ')}: no two models differ in that hyper-parameter alone` : '') +
    (empty.length === axes.length ? '\nΨ —: no axis has two models that differ in it alone' : '');
}

/** `gap evaluate` with the gap command's parsed options; every option is checked before the store is read. */
export async function evaluate(v: Record<string, string | boolean | undefined>, seed: number): Promise<number> {
  const score = choiceOpt(v.sort, 'sort', Object.keys(SCORES) as Score[], 'cvR2');
  const csv = outputOpt(v.csv, 'csv', '.csv');
  const out = outputOpt(v.out, 'out', '.json');
  const chart = outputOpt(v.chart, 'chart', '.svg');
  const gridName = (v.grid as string | undefined) ?? 'quick';
  using store = openStore(v.runs as string | undefined, { existing: true });
  const p = zooPopulation(store, gridName);
  const folds = numberOpt(v.folds, 'folds', 10, { integer: true, min: 2, max: p.runs.length });
  const rows = ranked(evaluateMeasures(p.features, p.gaps, p.hparams, { folds, seed }), score);
  const axes = (rows[0]?.psiByAxis ?? []).map(({ psi: _psi, ...counts }) => counts);
  const json = JSON.stringify({ grid: gridName, models: p.runs.length, excluded: p.excluded, folds, seed, sort: score, axes, rows });
  if (out) writeFileAtomic(out, `${json}\n`);
  // An undefined score is an empty cell, which pandas reads as NaN.
  if (csv) writeFileAtomic(csv, toCsv(COLUMNS.map((c) => c[1]), rows.map((r) => COLUMNS.map((c) => c[2](r)).map((x) => (Number.isNaN(x) ? null : x)))));
  if (chart) {
    const data = rows.flatMap((r) =>
      ([['Ψ', r.psi], ['CV R²', r.cvR2]] as const).map(([s, x]) => ({ measure: r.measure, score: s, value: Number.isNaN(x) ? null : x }))
    );
    const title = `Measures of zoo '${gridName}' (${p.runs.length} models), by ${SCORES[score].title}`;
    writeFileAtomic(chart,
      await renderSvg(dotChart({ title, data, category: 'measure', value: 'value', series: 'score', xTitle: 'Ψ or CV R²', height: 22 * rows.length })));
  }
  if (v.json) console.log(json);
  else
    console.log(
      `${p.runs.length} models (${p.excluded.length} left out: unfitted, or a non-finite feature${
        Object.keys(p.nonFinite).length ? ` in ${Object.keys(p.nonFinite).join(', ')}` : ''
      }), sorted by ${SCORES[score].title}\n` +
        `${formatTable(COLUMNS.map((c) => c[0]), rows.map((r) => COLUMNS.map((c) => c[2](r))))}\n\n${psiNotes(rows)}` +
        COLUMNS.filter(([, , cell, why]) => why && rows.some((r) => Number.isNaN(cell(r)))).map(([name, , , why]) => `\n${name} —: ${why}`).join(''),
    );
  return 0;
}
