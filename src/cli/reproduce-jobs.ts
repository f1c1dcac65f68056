/**
 * `reproduce --jobs N`: runs the claims in N child processes, each `dltheory reproduce` on a share
 * of the claims with `--no-report`, one intra-op thread per core it is given. The children save
 * every finished claim as DIR/claims/ID.json, as a single run does; the parent then reads them all
 * back and writes the one report, so a child that dies leaves its unfinished claims to the parent.
 *
 * Why processes rather than threads inside one: most of the quick experiments are small (MLPs of
 * 128–512 units, batches of 128), where libtorch's second intra-op thread gains nothing (measured:
 * 5 epochs of a 784-512-512-10 MLP on 2,000 digits, 1.09 s on one thread, 1.08 s on two), while two
 * processes on 2 cores train two such models in 1.5 s.
 *
 * The unit of scheduling is a claim group, except that groups sharing an experiment must share a
 * process (its result lives in that process's ExperimentCache, and two processes would train the
 * same zoo models into one store at once): SHARED lists them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Claim, Mode } from '../claims/claim.js';

/** Groups run in one process: `train-size` judges the quick zoo that the `margins` group trains. */
const SHARED: readonly (readonly string[])[] = [['margins', 'train-size']];

/** The claims in scheduling units, in the order of `claims` (a unit where its first claim is). */
export function schedulingUnits(claims: readonly Claim[]): Claim[][] {
  const unitOf = (group: string) => SHARED.find((s) => s.includes(group))?.[0] ?? group;
  const units = new Map<string, Claim[]>();
  for (const c of claims) units.set(unitOf(c.group), [...(units.get(unitOf(c.group)) ?? []), c]);
  return [...units.values()];
}

export interface JobOptions {
  mode: Mode;
  seed: number;
  out: string;
  store: string;
  fresh: boolean;
  jobs: number;
  /** Intra-op threads of each child. */
  threads: number;
}

/**
 * Runs `units` on `o.jobs` children at a time, each unit in one child, the next unit starting as a
 * child finishes; resolves when all have exited (a child's failure is reported, not thrown: its
 * claims are then missing from DIR/claims and the caller runs them).
 */
export async function runInChildren(units: Claim[][], o: JobOptions): Promise<void> {
  const queue = [...units];
  const forwardProgress = !process.stderr.isTTY;
  // A signal to this process alone (not its group, as Ctrl-C sends) must not leave the children running.
  const children = new Set<ChildProcess>();
  const onSignal = (signal: NodeJS.Signals) => {
    for (const c of children) c.kill(signal);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const worker = async (slot: number): Promise<void> => {
    for (let unit = queue.shift(); unit; unit = queue.shift()) {
      const ids = unit.map((c) => c.id);
      const args = [process.argv[1], 'reproduce', ...ids, `--${o.mode}`, '--seed', String(o.seed), '--out', o.out, '--runs', o.store, '--jobs', '1',
        '--no-report', ...(o.fresh ? ['--fresh'] : [])];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DLTHEORY_THREADS: String(o.threads) } });
      children.add(child);
      // Children write progress as JSON lines (their stderr is a pipe): passed on as they are when ours is not a
      // terminal either, dropped on a terminal; their messages are passed on marked with the child's number.
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (!line.startsWith('{"event":"progress"')) process.stderr.write(`[${slot + 1}] ${line}\n`);
        else if (forwardProgress) process.stderr.write(`${line}\n`);
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      children.delete(child);
      if (code !== 0 && code !== 1) process.stderr.write(`[${slot + 1}] ${ids.join(', ')}: the child exited with ${code}; running what it left here\n`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.jobs, units.length) }, (_, k) => worker(k)));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
