/**
 * What `dltheory zoo` and `dltheory sweep` share: their runs trained here, or with --queue by
 * `dltheory worker`s (src/queue/coordinator.ts), then printed as a table or JSON; exit code 1 when a
 * job failed after its last attempt.
 */
import { InputError } from '../errors.js';
import { openStore, type RunRecord, type RunStore } from '../store/runs.js';
import { formatTable } from '../report/progress.js';
import type { FailedJob, QueueRunOptions } from '../queue/coordinator.js';
import { numberOpt, type Parsed } from './args.js';

export interface PopulationCommand {
  /** 'zoo' or 'sweep', and the grid's name, for messages. */
  kind: 'zoo' | 'sweep';
  name: string;
  local: (store: RunStore) => RunRecord[];
  queued: (o: QueueRunOptions) => Promise<{ ids: string[]; failed: FailedJob[] }>;
  /** The table's columns after the id, and each run's values for them. */
  columns: string[];
  row: (r: RunRecord) => (string | number)[];
}

/** Trains (or collects) the population into the store at --runs and prints it; the exit code. */
export async function trainPopulation(v: Parsed['values'], c: PopulationCommand): Promise<number> {
  if (v.attempts !== undefined && v.queue === undefined) throw new InputError(`--attempts applies to a ${c.kind} on a queue: give --queue too`);
  using store = openStore(v.runs as string | undefined);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  let runs: RunRecord[];
  let failed = 0;
  if (typeof v.queue === 'string') {
    const attempts = numberOpt(v.attempts, 'attempts', 3, { integer: true, min: 1 });
    const done = await c.queued({ store, url: v.queue, attempts, progress: true, json: Boolean(v.json), log });
    runs = done.ids.map((id) => store.getRun(id)!.run);
    failed = done.failed.length;
    if (failed)
      log(
        `${c.kind} ${c.name}: ${failed} ${c.kind === 'zoo' ? 'models' : 'runs'} failed after their last attempt (dltheory queue status, runs ls --kind failed)`,
      );
  } else runs = c.local(store);
  if (v.json) console.log(JSON.stringify(runs));
  else console.log(formatTable(['id', ...c.columns], runs.map((r) => [r.id, ...c.row(r)])));
  return failed ? 1 : 0;
}
