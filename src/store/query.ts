/**
 * Read queries over a run store for the dashboard (src/serve): runs filtered by any column,
 * hyper-parameter or final metric, sorted and paged inside SQLite (json_extract), so a page of a
 * store of tens of thousands of runs never loads the rest; groups of runs that differ only in the
 * seed, with mean and standard deviation of each metric; the runs committed after a given one.
 */
import { InputError } from '../errors.js';
import { fromRow, type RunRecord, type RunRow, type RunStore } from './runs.js';

/** The run table's plain columns that a field may name; others are `hparams.NAME` or `final.NAME`. */
export const COLUMNS = ['id', 'kind', 'created', 'spec', 'data', 'seed', 'seconds', 'tag'] as const;

const NOT_NULL: readonly string[] = ['id', 'kind', 'created', 'spec', 'data', 'seed'];

export const OPERATORS = ['=', '!=', '<', '<=', '>', '>=', '~'] as const;
export type Operator = (typeof OPERATORS)[number];

/** `field op value`; `~` is a case-insensitive substring test, the others compare numbers when `value` is one. */
export interface Filter {
  field: string;
  op: Operator;
  value: string;
}

export interface RunQuery {
  filters?: Filter[];
  /** A field to sort by (default `created`); runs without it come last. */
  sort?: string;
  descending?: boolean;
  offset?: number;
  limit?: number;
}

export interface RunPage {
  /** Runs that pass the filters, on every page. */
  total: number;
  runs: RunRecord[];
}

/** Mean and sample standard deviation (n − 1; NaN for one run) of one metric over a group's finite values. */
export interface Spread {
  mean: number;
  sd: number;
  n: number;
}

/** Runs equal in everything the group key holds (kind, spec, data and the hyper-parameters but the seed). */
export interface RunGroup {
  key: Record<string, unknown>;
  ids: string[];
  seeds: number[];
  metrics: Record<string, Spread>;
}

/** A field as SQL: a checked column name, or json_extract with the JSON path bound as a parameter. */
function expression(name: string): { sql: string; params: string[] } {
  if ((COLUMNS as readonly string[]).includes(name)) return { sql: name, params: [] };
  const m = /^(hparams|final)\.(.+)$/.exec(name);
  // A quote or backslash would end the quoted key of the JSON path early.
  if (!m || /["\\]/.test(m[2])) {
    throw new InputError(`unknown field '${name}': a column (${COLUMNS.join(', ')}), hparams.NAME or final.NAME`);
  }
  return { sql: `json_extract(${m[1]}, ?)`, params: [`$."${m[2]}"`] };
}

function where(filters: readonly Filter[]): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const f of filters) {
    if (!(OPERATORS as readonly string[]).includes(f.op)) throw new InputError(`unknown operator '${f.op}' (${OPERATORS.join(' ')})`);
    const e = expression(f.field);
    const n = f.value.trim() === '' ? Number.NaN : Number(f.value);
    if (f.op === '~') {
      parts.push(`instr(lower(CAST(${e.sql} AS TEXT)), lower(?)) > 0`);
      params.push(...e.params, f.value);
    } else if (Number.isFinite(n)) {
      // NaN metrics are stored as the text 'NaN', which SQLite would rank above every number.
      parts.push(`typeof(${e.sql}) IN ('integer', 'real') AND ${e.sql} ${f.op} ?`);
      params.push(...e.params, ...e.params, n);
    } else if (f.op === '=' || f.op === '!=') {
      parts.push(`CAST(${e.sql} AS TEXT) ${f.op} ?`);
      params.push(...e.params, f.value);
    } else {
      throw new InputError(`filter ${f.field} ${f.op} '${f.value}': ${f.op} needs a number`);
    }
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** One page of the runs that pass `q.filters`, sorted by `q.sort` then id, and how many pass in all. */
export function pageRuns(store: RunStore, q: RunQuery = {}): RunPage {
  const w = where(q.filters ?? []);
  const s = expression(q.sort ?? 'created');
  const dir = q.descending ? 'DESC' : 'ASC';
  // Missing values last; a NOT NULL column needs no such term, and without it SQLite can walk runs_created in order.
  const nullsLast = NOT_NULL.includes(q.sort ?? 'created') ? '' : `(${s.sql}) IS NULL, `;
  const total = (store.db.prepare(`SELECT count(*) AS n FROM runs${w.sql}`).get(...w.params) as { n: number }).n;
  const rows = store.db
    .prepare(`SELECT * FROM runs${w.sql} ORDER BY ${nullsLast}${s.sql} ${dir}, id ${dir} LIMIT ? OFFSET ?`)
    .all(...w.params, ...(nullsLast ? s.params : []), ...s.params, q.limit ?? 50, q.offset ?? 0) as RunRow[];
  return { total, runs: rows.map(fromRow) };
}

/** The hyper-parameter and metric names that occur in the store, sorted. */
export function fieldNames(store: RunStore): { hparams: string[]; final: string[] } {
  const keys = (column: string) =>
    (store.db.prepare(`SELECT DISTINCT j.key AS k FROM runs, json_each(runs.${column}) AS j ORDER BY k`).all() as { k: string }[]).map((r) => r.k);
  return { hparams: keys('hparams'), final: keys('final') };
}

/**
 * The runs that pass `filters`, grouped by everything but the seed (kind, spec, data, hparams without
 * `seed`), largest group first; each metric's mean and sd over the group's finite values, in two
 * passes (the mean first) rather than from a running sum of squares, which cancels.
 */
export function groupRuns(store: RunStore, filters: readonly Filter[] = []): RunGroup[] {
  const w = where(filters);
  const rows = store.db.prepare(`SELECT id, kind, spec, data, hparams, seed, final FROM runs${w.sql} ORDER BY id`).all(...w.params) as RunRow[];
  const groups = new Map<string, { key: Record<string, unknown>; runs: RunRecord[] }>();
  for (const row of rows) {
    const run = fromRow({ ...row, created: '', weights: null, seconds: null, tag: null });
    const { seed: _seed, ...rest } = run.hparams;
    const key: Record<string, unknown> = { kind: run.kind, spec: run.spec, data: run.data, ...rest };
    const text = JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]));
    const g = groups.get(text) ?? { key, runs: [] };
    g.runs.push(run);
    groups.set(text, g);
  }
  return [...groups.values()]
    .map(({ key, runs }) => ({ key, ids: runs.map((r) => r.id), seeds: runs.map((r) => r.seed), metrics: spreads(runs) }))
    .sort((a, b) => b.ids.length - a.ids.length);
}

function spreads(runs: RunRecord[]): Record<string, Spread> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.final)))].sort();
  return Object.fromEntries(names.map((name) => {
    const xs = runs.map((r) => r.final[name]).filter((v) => typeof v === 'number' && Number.isFinite(v));
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : Number.NaN;
    return [name, { mean, sd, n: xs.length }];
  }));
}

/**
 * Runs committed after the one with SQLite rowid `after` (0: from the first), in commit order, at most
 * `limit`, each with its rowid. Commit order, not `created`: a run that trained for an hour is
 * committed after runs created later. (A run replaced while it is the newest keeps its rowid, and
 * a reader already past it does not see it again.)
 */
export function runsAfter(store: RunStore, after: number, limit = 100): { rowid: number; run: RunRecord }[] {
  const rows = store.db.prepare('SELECT rowid AS rowid_, * FROM runs WHERE rowid > ? ORDER BY rowid LIMIT ?').all(after,
    limit) as (RunRow & { rowid_: number })[];
  return rows.map(({ rowid_, ...row }) => ({ rowid: rowid_, run: fromRow(row) }));
}

/** The rowid of the last committed run (0 in an empty store) and the run: where a live view starts. */
export function lastCommitted(store: RunStore): { rowid: number; id: string | null } {
  const row = store.db.prepare('SELECT rowid AS rowid_, id FROM runs ORDER BY rowid DESC LIMIT 1').get() as { rowid_: number; id: string } | undefined;
  return { rowid: row?.rowid_ ?? 0, id: row?.id ?? null };
}

/** Every tag with its number of runs, by tag; runs without a tag are left out. */
export function tagCounts(store: RunStore): { tag: string; runs: number }[] {
  return store.db.prepare('SELECT tag, count(*) AS runs FROM runs WHERE tag IS NOT NULL GROUP BY tag ORDER BY tag').all() as { tag: string; runs: number }[];
}

/** SQLite's data_version: it changes when another connection commits to the file, so a reader knows its caches are stale. */
export function dataVersion(store: RunStore): number {
  return store.db.pragma('data_version', { simple: true }) as number;
}
