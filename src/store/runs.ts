import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { InputError, check } from '../errors.js';

/** Named scalar metrics such as `{ loss: 0.12, acc: 0.97 }`; NaN and ±Infinity survive a round trip. */
export type Metrics = Record<string, number>;

/** One finished run: a trained model, a zoo member or a checked claim. */
export interface RunRecord {
  /** Unique id: `newRunId()` or a caller's deterministic id (letters, digits, `.`, `_`, `-`). */
  id: string;
  /** What produced the run: 'train', 'zoo', 'claim', ... */
  kind: string;
  /** ISO 8601 time the run was created. */
  created: string;
  /** Model spec as given on the command line or in a file. */
  spec: string;
  /** Data set name. */
  data: string;
  hparams: Record<string, unknown>;
  seed: number;
  /** Metrics at the end of the run. */
  final: Metrics;
  /** Weights file relative to the store folder (see `RunStore.weightsDir`), or null. */
  weights: string | null;
  /** Wall-clock duration of the run. */
  seconds: number | null;
  /** Free grouping key, e.g. a zoo grid name plus cell key, searched by prefix. */
  tag: string | null;
}

/** Metrics recorded after one epoch of a run. */
export interface EpochRecord {
  epoch: number;
  metrics: Metrics;
}

/** Filters for `RunStore.listRuns`. */
export interface ListOptions {
  kind?: string;
  tag?: string;
  limit?: number;
}

/**
 * Bumped whenever the tables change; `migrate` brings older files up to date and refuses newer
 * ones, so a file never gets read with the wrong column meanings.
 */
const SCHEMA_VERSION = 1;

const SCHEMA_V1 = `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created TEXT NOT NULL,
    spec TEXT NOT NULL,
    data TEXT NOT NULL,
    hparams TEXT NOT NULL,
    seed INTEGER NOT NULL,
    final TEXT NOT NULL,
    weights TEXT,
    seconds REAL,
    tag TEXT
  );
  CREATE INDEX runs_created ON runs(created);
  CREATE INDEX runs_tag ON runs(tag);
  CREATE TABLE epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
  ) WITHOUT ROWID;
`;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Database errors that mean the file is not a usable SQLite database rather than a bug. */
const BAD_FILE_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CANTOPEN']);

/**
 * A new run id, `YYYYMMDD-HHMMSS-xxxxxx` in UTC: ids sort by creation time, and the random suffix
 * keeps runs started in the same second apart.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}

/** JSON cannot hold NaN or Infinity, and a diverged loss is exactly what one wants to see later. */
function metricsToJson(metrics: Metrics): string {
  return JSON.stringify(metrics, (_key, v: unknown) => typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
}

function metricsFromJson(text: string): Metrics {
  return JSON.parse(text, (_key, v: unknown) => v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v) as Metrics;
}

/** A row of the runs table as SQLite returns it. */
export interface RunRow {
  id: string;
  kind: string;
  created: string;
  spec: string;
  data: string;
  hparams: string;
  seed: number;
  final: string;
  weights: string | null;
  seconds: number | null;
  tag: string | null;
}

/** A run from its table row: JSON columns parsed, NaN and ±Infinity metrics restored. */
export function fromRow(row: RunRow): RunRecord {
  return {
    ...row,
    hparams: JSON.parse(row.hparams) as Record<string, unknown>,
    final: metricsFromJson(row.final),
  };
}

/** The runs folder: a SQLite database of runs and their epochs, plus a folder of weights files. */
export class RunStore {
  /** Absolute path of the runs folder. */
  readonly dir: string;
  /** Absolute path of the folder where weights files go; `RunRecord.weights` is relative to `dir`. */
  readonly weightsDir: string;
  /** The SQLite connection; store/query.ts reads through it. */
  readonly db: Database.Database;

  /**
   * Use `openStore`, which picks the folder. `readonly` opens an existing store for reading only
   * (SQLite refuses every write on the connection), creating nothing: `dltheory serve` reads this way.
   */
  constructor(dir: string, options: { readonly?: boolean } = {}) {
    this.dir = path.resolve(dir);
    this.weightsDir = path.join(this.dir, 'weights');
    const file = path.join(this.dir, 'runs.sqlite');
    if (!options.readonly) {
      try {
        fs.mkdirSync(this.weightsDir, { recursive: true });
      } catch (err) {
        throw new InputError(`${this.dir}: cannot hold a run store (${(err as Error).message.split('\n')[0]})`);
      }
    }
    let db: Database.Database | undefined;
    try {
      if (options.readonly) {
        db = new Database(file, { readonly: true, fileMustExist: true });
        checkVersion(db, file);
      } else {
        db = new Database(file);
        // WAL lets a report read the store while a zoo is writing to it.
        db.pragma('journal_mode = WAL');
        db.pragma('foreign_keys = ON');
        migrate(db, file);
      }
    } catch (err) {
      db?.close();
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && BAD_FILE_CODES.has(code)) {
        throw new InputError(`${file} is not a usable dltheory run store (${(err as Error).message})`);
      }
      throw err;
    }
    this.db = db;
  }

  /**
   * Writes a run and all its epochs in one transaction, so a crash or kill leaves either the whole
   * run or none of it. An id that exists already is an error unless `replace` is set.
   */
  saveRun(run: RunRecord, epochs: EpochRecord[], options: { replace?: boolean } = {}): void {
    check(RUN_ID.test(run.id), `run id ${JSON.stringify(run.id)} may hold only letters, digits, '.', '_' and '-'`);
    check(Number.isSafeInteger(run.seed), `run ${run.id}: seed must be an integer, got ${run.seed}`);
    const insertRun = this.db.prepare(
      `INSERT INTO runs (id, kind, created, spec, data, hparams, seed, final, weights, seconds, tag)
       VALUES (@id, @kind, @created, @spec, @data, @hparams, @seed, @final, @weights, @seconds, @tag)`,
    );
    const insertEpoch = this.db.prepare('INSERT INTO epochs (run_id, epoch, metrics) VALUES (?, ?, ?)');
    const write = this.db.transaction(() => {
      if (this.hasRun(run.id)) {
        if (!options.replace) throw new InputError(`run ${run.id} already exists in ${this.dir}`);
        this.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
      }
      insertRun.run({
        ...run,
        hparams: JSON.stringify(run.hparams),
        final: metricsToJson(run.final),
      });
      for (const e of epochs) insertEpoch.run(run.id, e.epoch, metricsToJson(e.metrics));
    });
    write.immediate();
  }

  /**
   * Stores a run recorded elsewhere (by a queue worker), keeping its id and creation time: its
   * weights file first (`weights` holds the file name under `weightsDir` and its bytes; written to
   * a temporary name and renamed, so a kill leaves no partial file), then the run and its epochs in
   * one transaction, which also deletes the run `replaces` names (a failure record). A run already
   * stored is left as it is: returns false.
   */
  importRun(run: RunRecord, epochs: EpochRecord[], weights: { file: string; bytes: Uint8Array } | null, options: { replaces?: string } = {}): boolean {
    if (this.hasRun(run.id)) return false;
    let relativePath: string | null = null;
    if (weights) {
      check(RUN_ID.test(weights.file), `run ${run.id}: weights file name ${JSON.stringify(weights.file)} is not a plain file name`);
      const target = path.join(this.weightsDir, weights.file);
      const temp = `${target}.${process.pid}.tmp`;
      fs.writeFileSync(temp, weights.bytes);
      fs.renameSync(temp, target);
      relativePath = path.relative(this.dir, target);
    }
    const write = this.db.transaction(() => {
      if (this.hasRun(run.id)) return false;
      if (options.replaces !== undefined) this.db.prepare('DELETE FROM runs WHERE id = ?').run(options.replaces);
      this.saveRun({ ...run, weights: relativePath }, epochs);
      return true;
    });
    return write.immediate();
  }

  /**
   * Adds metrics to a stored run's final metrics (a metric already there keeps its value unless
   * given again), in one transaction; the run must exist.
   */
  addMetrics(id: string, metrics: Metrics): void {
    const write = this.db.transaction(() => {
      const row = this.db.prepare('SELECT final FROM runs WHERE id = ?').get(id) as { final: string } | undefined;
      if (!row) throw new InputError(`run ${id} is not in ${this.dir}`);
      this.db.prepare('UPDATE runs SET final = ? WHERE id = ?').run(metricsToJson({ ...metricsFromJson(row.final), ...metrics }), id);
    });
    write.immediate();
  }

  /** The run with this id and its epochs in order, or undefined. */
  getRun(id: string): { run: RunRecord; epochs: EpochRecord[] } | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) return undefined;
    const epochs = this.db
      .prepare('SELECT epoch, metrics FROM epochs WHERE run_id = ? ORDER BY epoch')
      .all(id) as { epoch: number; metrics: string }[];
    return {
      run: fromRow(row),
      epochs: epochs.map((e) => ({ epoch: e.epoch, metrics: metricsFromJson(e.metrics) })),
    };
  }

  /** Runs newest first, optionally of one kind and/or one exact tag, at most `limit` of them. */
  listRuns(options: ListOptions = {}): RunRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.kind !== undefined) {
      where.push('kind = ?');
      params.push(options.kind);
    }
    if (options.tag !== undefined) {
      where.push('tag = ?');
      params.push(options.tag);
    }
    const sql = 'SELECT * FROM runs' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY created DESC, id DESC' +
      (options.limit !== undefined ? ' LIMIT ?' : '');
    if (options.limit !== undefined) params.push(options.limit);
    return (this.db.prepare(sql).all(...params) as RunRow[]).map(fromRow);
  }

  /** Whether a run with this id is stored; the zoo asks this to skip finished cells on resume. */
  hasRun(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(id) !== undefined;
  }

  /** Runs whose tag starts with `tagPrefix` (case-sensitive), ordered by tag, then creation time. */
  findByTag(tagPrefix: string): RunRecord[] {
    // instr rather than LIKE: LIKE ignores ASCII case and treats '%' and '_' in the prefix as wildcards.
    const rows = this.db
      .prepare('SELECT * FROM runs WHERE instr(tag, ?) = 1 ORDER BY tag, created')
      .all(tagPrefix) as RunRow[];
    return rows.map(fromRow);
  }

  /** Absolute path of a run's weights file, or null when it has none. */
  weightsPath(run: RunRecord): string | null {
    return run.weights === null ? null : path.resolve(this.dir, run.weights);
  }

  /** Closes the database; the store cannot be used afterwards. */
  close(): void {
    this.db.close();
  }

  /** Closes the store at the end of a `using` block: `using store = openStore(dir)`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const schemaVersion = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;

/** A read-only connection cannot migrate: the file must hold the current schema already. */
function checkVersion(db: Database.Database, file: string): void {
  if (schemaVersion(db) !== SCHEMA_VERSION) {
    throw new InputError(`${file} has run store schema version ${schemaVersion(db)}; reading it read-only needs version ${SCHEMA_VERSION}`);
  }
}

/** Creates the tables in a new file and upgrades older ones; a current file is only read. */
function migrate(db: Database.Database, file: string): void {
  const version = () => schemaVersion(db);
  if (version() > SCHEMA_VERSION) {
    throw new InputError(`${file} has run store schema version ${version()}; this dltheory reads up to ${SCHEMA_VERSION}`);
  }
  if (version() === SCHEMA_VERSION) return;
  // Checked again under the write lock: two processes may open a new store at the same moment.
  db.transaction(() => {
    if (version() < 1) db.exec(SCHEMA_V1);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Opens (creating if needed) the run store in `dir`, else `$DLTHEORY_RUNS`, else `./runs`.
 * A file that is not a SQLite database gives an InputError naming it; with `existing` or
 * `readonly`, so does a folder that holds no store yet. `readonly`: see `RunStore`.
 */
export function openStore(dir?: string, options: { existing?: boolean; readonly?: boolean } = {}): RunStore {
  const folder = dir ?? process.env.DLTHEORY_RUNS ?? './runs';
  // A command that only reads must not leave an empty store behind a mistyped folder name.
  if ((options.existing || options.readonly) && !fs.existsSync(path.join(folder, 'runs.sqlite'))) {
    throw new InputError(`${path.resolve(folder)}: no run store here (no runs.sqlite); train, run a zoo or reproduce with --runs ${folder} first`);
  }
  return new RunStore(folder, { readonly: options.readonly });
}
