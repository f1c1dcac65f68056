/**
 * The coordinator of a zoo or sweep on a queue: enqueues each model the run store lacks as a
 * BullMQ job whose id is its run id (BullMQ ignores a second job of an id it holds, so enqueuing twice
 * is harmless), collects what the workers return, and commits each run into the store (weights file
 * renamed into place, then the run and its epochs in one transaction) before removing its job.
 * Killed and started again it first commits the jobs that completed meanwhile, then enqueues only
 * what is neither stored nor queued. A job that failed its last attempt is recorded in the store as
 * a run `ID.failed` of kind 'failed' (its error in `hparams.error`), and stays failed in Redis
 * until `dltheory queue retry-failed`; the coordinator stops once every model is stored or failed.
 */
import { Queue, type Job } from 'bullmq';
import type { RunStore } from '../store/runs.js';
import { progress } from '../report/progress.js';
import { cellId, gridCells, type ZooGrid } from '../experiments/zoo.js';
import { sweepRunId, sweepRuns, type SweepGrid } from '../experiments/sweep.js';
import { checkRedis, QUEUE_NAME, redisOptions } from './connection.js';
import { parseResult, sweepJob, zooJob, type Job as Payload } from './payload.js';

/** The times of one committed job, in milliseconds since the epoch (bench/queue.ts reads the queue's overhead from them). */
export interface JobTimes {
  id: string;
  enqueued: number;
  started: number;
  finished: number;
  committed: number;
  /** Time the coordinator spent checking the result and committing it (weights file and transaction). */
  commitMs: number;
}

export interface QueueRunOptions {
  store: RunStore;
  /** redis:// or rediss:// URL. */
  url: string;
  /** Tries of each job before it fails; default 3. */
  attempts?: number;
  /** First retry delay in milliseconds, doubled at each retry; default 1000. */
  backoffMs?: number;
  /** How often to look for finished jobs, in milliseconds; default 250. */
  pollMs?: number;
  progress?: boolean;
  json?: boolean;
  log?: (message: string) => void;
  onCommit?: (times: JobTimes) => void;
}

/** A job that failed its last attempt. */
export interface FailedJob {
  id: string;
  error: string;
  attempts: number;
}

/** Jobs missing from Redis (lost in a crash of a Redis without its append-only file) are looked for this often and enqueued again. */
const RECHECK_MS = 10_000;

/** Runs the grid's missing models on the queue's workers; returns the ids of the stored runs in cell order, and the failed jobs. */
export async function runZooOnQueue(grid: ZooGrid, o: QueueRunOptions): Promise<{ ids: string[]; failed: FailedJob[] }> {
  const jobs = new Map(gridCells(grid).map((c) => [cellId(grid, c), zooJob(grid, c)]));
  const failed = await runOnQueue(jobs, `zoo/${grid.name}`, o);
  return { ids: [...jobs.keys()].filter((id) => o.store.hasRun(id)), failed };
}

/** Runs the sweep's missing runs on the queue's workers; returns the ids of the stored runs in order, and the failed jobs. */
export async function runSweepOnQueue(grid: SweepGrid, o: QueueRunOptions): Promise<{ ids: string[]; failed: FailedJob[] }> {
  const jobs = new Map(sweepRuns(grid).map((r) => [sweepRunId(grid, r), sweepJob(grid, r)]));
  const failed = await runOnQueue(jobs, `sweep/${grid.name}`, o);
  return { ids: [...jobs.keys()].filter((id) => o.store.hasRun(id)), failed };
}

/** Enqueues the jobs the store lacks and commits their results until each one is stored or failed. */
async function runOnQueue(jobs: Map<string, Payload>, tag: string, o: QueueRunOptions): Promise<FailedJob[]> {
  await checkRedis(o.url);
  const queue = new Queue(QUEUE_NAME, { connection: redisOptions(o.url) });
  const pending = new Set([...jobs.keys()].filter((id) => !o.store.hasRun(id)));
  const failed = new Map<string, FailedJob>();
  o.log?.(`${tag}: ${jobs.size} runs, ${jobs.size - pending.size} already stored`);
  const bar = o.progress ? progress({ total: jobs.size, label: tag, json: o.json }) : undefined;
  bar?.tick(jobs.size - pending.size);
  try {
    // A run stored before its job was removed (the coordinator killed in between) leaves a completed job behind;
    // a job a worker holds cannot be removed, and is left alone.
    for (const id of jobs.keys()) if (!pending.has(id)) await queue.remove(id).catch((e: Error) => o.log?.(`${id}: stored, but its job stays: ${e.message}`));
    await collect(queue, jobs, pending, failed, o, () => bar?.tick(1));
    await enqueueMissing(queue, jobs, pending, failed, o);
    let checked = Date.now();
    while ([...pending].some((id) => !failed.has(id))) {
      await new Promise((done) => setTimeout(done, o.pollMs ?? 250));
      await collect(queue, jobs, pending, failed, o, () => bar?.tick(1));
      if (Date.now() - checked > RECHECK_MS) {
        await enqueueMissing(queue, jobs, pending, failed, o);
        checked = Date.now();
      }
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
      bar?.tick(0, { waiting: counts.waiting + counts.prioritized + counts.delayed, active: counts.active, failed: failed.size });
    }
  } finally {
    bar?.done();
    await queue.close();
  }
  return [...failed.values()];
}

/** Enqueues each pending job that Redis does not hold, unless it failed in this run. */
async function enqueueMissing(queue: Queue, jobs: Map<string, Payload>, pending: Set<string>, failed: Map<string, FailedJob>,
  o: QueueRunOptions): Promise<void>
{
  const missing: string[] = [];
  for (const id of pending) if (!failed.has(id) && (await queue.getJobState(id)) === 'unknown') missing.push(id);
  if (!missing.length) return;
  o.log?.(`enqueuing ${missing.length} jobs`);
  await queue.addBulk(missing.map((id) => ({
    name: jobs.get(id)!.kind,
    data: jobs.get(id)!,
    opts: { jobId: id, attempts: o.attempts ?? 3, backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 }, removeOnComplete: false, removeOnFail: false },
  })));
}

/**
 * Commits the completed jobs among `pending` and removes them from Redis; records the failed ones
 * (`failed` is set to exactly the pending jobs that are failed now: a job retried meanwhile leaves it).
 */
async function collect(queue: Queue, jobs: Map<string, Payload>, pending: Set<string>, failed: Map<string, FailedJob>, o: QueueRunOptions,
  tick: () => void): Promise<void>
{
  for (const id of await queue.getRanges(['completed'], 0, -1)) {
    if (!pending.has(id)) continue;
    const job = await queue.getJob(id);
    if (!job) continue;
    try {
      commit(job, o);
      pending.delete(id);
      failed.delete(id);
      tick();
    } catch (e) {
      // A result that does not parse (from a worker of another version, say) is recorded as a failure; the job is removed, so the next run enqueues it again.
      const f = { id, error: (e as Error).message.split('\n')[0], attempts: job.attemptsMade };
      recordFailure(id, jobs.get(id)!, f, o.store);
      failed.set(id, f);
    }
    await job.remove();
  }
  const failedNow = new Set((await queue.getRanges(['failed'], 0, -1)).filter((id) => pending.has(id)));
  for (const id of failed.keys()) if (!failedNow.has(id) && (await queue.getJobState(id)) !== 'unknown') failed.delete(id);
  for (const id of failedNow) {
    if (failed.has(id)) continue;
    const job = await queue.getJob(id);
    if (!job) continue;
    const f = { id, error: job.failedReason ?? 'unknown error', attempts: job.attemptsMade };
    recordFailure(id, jobs.get(id)!, f, o.store);
    failed.set(id, f);
    o.log?.(`${id} failed after ${f.attempts} attempts: ${f.error}`);
  }
}

/** Commits a completed job's run, keeping the id and creation time the worker gave it. */
function commit(job: Job, o: QueueRunOptions): void {
  const t0 = performance.now();
  const result = parseResult(job.returnvalue);
  if (result.run.id !== job.id) throw new Error(`job ${job.id} returned run ${result.run.id}`);
  const weights = result.weights && { file: result.weights.file, bytes: Buffer.from(result.weights.base64, 'base64') };
  o.store.importRun(result.run, result.epochs, weights, { replaces: `${job.id}.failed` });
  o.onCommit?.({ id: job.id, enqueued: job.timestamp, started: job.processedOn ?? NaN, finished: job.finishedOn ?? NaN, committed: Date.now(),
    commitMs: performance.now() - t0 });
}

/** A failed job as a run of kind 'failed' with id `ID.failed`, replacing an earlier record of it; `runs ls --kind failed` lists them. */
function recordFailure(id: string, job: Payload, f: FailedJob, store: RunStore): void {
  const [spec, hparams, seed] = job.kind === 'zoo'
    ? [job.grid.arch, { ...job.cell, grid: job.grid.name }, job.cell.seed]
    : [job.run.model, { ...job.run, sweep: job.grid.name }, job.run.seed];
  store.saveRun({
    id: `${id}.failed`,
    kind: 'failed',
    created: new Date().toISOString(),
    spec,
    data: job.grid.data,
    hparams: { ...hparams, error: f.error, attempts: f.attempts },
    seed,
    final: {},
    weights: null,
    seconds: null,
    tag: `failed/${job.kind}/${job.grid.name}`,
  }, [], { replace: true });
}
