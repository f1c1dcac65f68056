/**
 * `dltheory reproduce`: runs claims, prints the verdict table and writes the report folder.
 * Each finished claim is saved as DIR/claims/ID.json at once, so an interrupted run started again
 * with the same --out, mode and seed redoes only the claims that had not finished. With --jobs N
 * the claims run in N child processes first (reproduce-jobs.ts), and this process reports them.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InputError, warn } from '../errors.js';
import { openStore, type RunStore } from '../store/runs.js';
import { createReport } from '../report/report.js';
import { writeFileAtomic } from '../io/files.js';
import { formatTable } from '../report/progress.js';
import { selectClaims } from '../claims/registry.js';
import type { Claim, ClaimResult, Mode } from '../claims/claim.js';
import { ExperimentCache } from '../experiments/context.js';
import { numberOpt, parse, type Command } from './args.js';
import { runInChildren, schedulingUnits } from './reproduce-jobs.js';

/** A claim's result, with the run store its trainings are in (a saved result is reused only with it). */
type Row = (ClaimResult | (Omit<ClaimResult, 'verdict'> & { verdict: 'error' })) & { store: string };

async function runClaim(claim: Claim, mode: Mode, seed: number, progress: boolean, store: RunStore, cache: ExperimentCache): Promise<Row> {
  const start = performance.now();
  const base = { id: claim.id, group: claim.group, statement: claim.statement, paper: claim.paper, rule: claim.rule, mode, seed, store: store.dir };
  try {
    const outcome = await claim.run({ mode, seed, store, progress, cache, log: (m) => process.stderr.write(`${m}\n`) });
    return { ...base, ...outcome, seconds: (performance.now() - start) / 1000 };
  } catch (e) {
    if (e instanceof InputError) throw e;
    const reason = `the experiment failed: ${(e as Error).message.split('\n')[0]}`;
    return { ...base, verdict: 'error', reason, figures: [], charts: [], runs: [], seconds: (performance.now() - start) / 1000 };
  }
}

async function writeReport(dir: string, rows: Row[]): Promise<void> {
  const report = createReport(dir, 'dltheory reproduce');
  report.paragraph(`Mode **${rows[0]?.mode}**, seed ${rows[0]?.seed}. Each verdict follows the rule stated with its claim, fixed in code before the run.`);
  report.table(['claim', 'verdict', 'numbers', 'seconds'], rows.map((r) => [r.id, r.verdict, r.reason, r.seconds]), 'verdicts');
  for (const r of rows) {
    report.heading(`${r.id}: ${r.verdict}`, 2);
    report.paragraph(`**Claim.** ${r.statement}\n\n**Paper.** ${r.paper}\n\n**Rule.** ${r.rule}\n\n**Result.** ${r.reason}`);
    if (r.figures.length)
      report.table(['figure', 'measured', 'paper'], r.figures.map((f) => [f.name + (f.unit ? ` (${f.unit})` : ''), f.value, f.paper ?? '']), `${r.id}-figures`);
    for (const c of r.charts) await report.chart(c.name, c.spec);
    if (r.runs.length) report.paragraph(`Runs in the store: ${r.runs.map((id) => `\`${id}\``).join(', ')} (\`dltheory runs show ID\`).`);
  }
  report.json('results', rows);
  await report.finish();
}

/** A claim's result saved by an earlier run, or undefined (with a warning) when the file is not one: the claim then runs again. */
function savedRow(path: string): Row | undefined {
  try {
    const row = JSON.parse(readFileSync(path, 'utf8')) as Row;
    if (typeof row === 'object' && row !== null && typeof row.verdict === 'string') return row;
    warn(`${path}: not a saved claim result; running the claim again`);
  } catch (e) {
    warn(`${path}: not a saved claim result (${(e as Error).message.split('\n')[0]}); running the claim again`);
  }
  return undefined;
}

export const reproduceCommand: Command = {
  name: 'reproduce',
  summary: "run the papers' claims and report a verdict for each",
  usage: `
dltheory reproduce [CLAIM|GROUP...] [--quick|--full] [--seed S] [--out DIR] [--fresh] [--json] [--runs DIR]

  CLAIM|GROUP   claim ids or groups (default: all); e.g. random-labels
  --quick       small experiments, minutes on 2 cores (default)
  --full        the full experiments (up to an hour)
  --out DIR     report folder (default reports/reproduce-MODE); finished claims there are reused
  --fresh       rerun every claim even if DIR holds its result
  --jobs N      run the claims in N processes, a claim group each at a time (default: one per core,
                each with cores/N threads); --jobs 1 runs them all in this process
  --no-report   save each claim's result in DIR/claims only (what --jobs asks of its children)
  --json        print the results as one JSON array on the last line
Exit code 1 when a claim does not hold or its experiment failed.
`,
  options: {
    quick: { type: 'boolean' },
    full: { type: 'boolean' },
    seed: { type: 'string' },
    out: { type: 'string' },
    fresh: { type: 'boolean' },
    json: { type: 'boolean' },
    runs: { type: 'string' },
    jobs: { type: 'string' },
    'no-report': { type: 'boolean' },
  },
  async run(argv) {
    const { values: v, positionals } = parse(this, argv);
    if (v.quick && v.full) throw new InputError('reproduce: give --quick or --full, not both');
    const mode: Mode = v.full ? 'full' : 'quick';
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    let claims: Claim[];
    try {
      claims = selectClaims(positionals);
    } catch (e) {
      throw new InputError(`reproduce: ${(e as Error).message}`);
    }
    const out = (v.out as string | undefined) ?? join('reports', `reproduce-${mode}`);
    mkdirSync(join(out, 'claims'), { recursive: true });
    const cores = availableParallelism();
    const jobs = numberOpt(v.jobs, 'jobs', cores, { integer: true, min: 1 });
    const rows: Row[] = [];
    using store = openStore(v.runs as string | undefined);
    const savedPath = (claim: Claim) => join(out, 'claims', `${claim.id}.json`);
    const reusable = (claim: Claim, quiet: boolean): Row | undefined => {
      if (!existsSync(savedPath(claim))) return undefined;
      const prev = savedRow(savedPath(claim));
      if (prev && prev.mode === mode && prev.seed === seed && prev.store === store.dir && prev.verdict !== 'error') {
        if (!quiet) process.stderr.write(`${claim.id}: reusing the result in ${savedPath(claim)} (--fresh to rerun)\n`);
        return prev;
      }
      return undefined;
    };
    const units = schedulingUnits(claims.filter((c) => v.fresh || !reusable(c, true)));
    const inChildren = jobs > 1 && units.length > 1;
    if (inChildren) {
      const threads = Number(process.env.DLTHEORY_THREADS ?? Math.max(1, Math.floor(cores / Math.min(jobs, units.length))));
      process.stderr.write(
        `reproduce: ${units.length} groups of claims on ${Math.min(jobs, units.length)} processes, ${threads} thread${threads > 1 ? 's' : ''} each\n`,
      );
      await runInChildren(units, { mode, seed, out, store: store.dir, fresh: Boolean(v.fresh), jobs, threads });
    }
    // Claims that share an experiment (the margin claims' zoo, the shape lab's models) run it once in this invocation.
    const cache = new ExperimentCache();
    for (const claim of claims) {
      const saved = savedPath(claim);
      const prev = !v.fresh || inChildren ? reusable(claim, inChildren) : undefined;
      if (prev) {
        rows.push(prev);
        continue;
      }
      process.stderr.write(`${claim.id}: running (${mode})\n`);
      const row = await runClaim(claim, mode, seed, !v.json, store, cache);
      writeFileAtomic(saved, JSON.stringify(row, null, 2));
      rows.push(row);
    }
    if (v['no-report']) return rows.some((r) => r.verdict === 'does not hold' || r.verdict === 'error') ? 1 : 0;
    await writeReport(out, rows);
    const table = formatTable(['claim', 'verdict', 'numbers', 's'], rows.map((r) => [r.id, r.verdict, r.reason, r.seconds.toFixed(1)]));
    if (v.json) console.log(JSON.stringify(rows.map(({ charts: _c, ...r }) => r)));
    else console.log(`${table}\nreport: ${join(out, 'report.md')} and report.html`);
    return rows.some((r) => r.verdict === 'does not hold' || r.verdict === 'error') ? 1 : 0;
  },
};
