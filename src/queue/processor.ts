/**
 * The job processor of `dltheory worker`, run by BullMQ in a child process of the worker (a
 * sandboxed processor), so that the worker's own event loop keeps renewing the job's lock while
 * the model trains: a synchronous training loop in the worker itself would let the lock lapse and
 * the job be taken for stalled. The child reads the data folder, threads and device from the
 * environment the worker gives it (DLTHEORY_DATA_ROOT, DLTHEORY_THREADS, DLTHEORY_DEVICE).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { SandboxedJob } from 'bullmq';
import { check } from '../errors.js';
import type { Splits } from '../data/sources.js';
import { disposeDataset } from '../data/dataset.js';
import { openStore } from '../store/runs.js';
import { cellId, checkCells, loadZooData, trainCell } from '../experiments/zoo.js';
import { ZOO_MEASURES } from '../experiments/margins.js';
import { sweepRunId, trainSweepRun, underRoot } from '../experiments/sweep.js';
import { PAYLOAD_VERSION, encodeMetrics, parseJob, type JobGrid, type JobResultWire } from './payload.js';

/** The last data set loaded, kept for the next job of the same grid (a worker's jobs mostly share one). */
let cached: { key: string; splits: Splits } | undefined;

function gridData(grid: JobGrid, root: string): Splits {
  const key = JSON.stringify([grid.data, grid.dataDir ?? null]);
  if (cached?.key !== key) {
    if (cached) { for (const d of [cached.splits.train, cached.splits.test]) disposeDataset(d); }
    cached = undefined;
    const splits = loadZooData({ data: underRoot(grid.data, root), dataDir: grid.dataDir && join(root, grid.dataDir) });
    cached = { key, splits };
  }
  return cached.splits;
}

/**
 * Runs the job `id` with payload `data` (checked against the schema first) with the local code —
 * a zoo cell trained and measured by `trainCell`, a sweep run by `trainSweepRun` — into a scratch
 * run store, and returns the stored run, its epochs and its weights. Data and model paths are read
 * under `dataRoot`.
 */
export function runJob(id: string, data: unknown, dataRoot: string): JobResultWire {
  const job = parseJob(data);
  const expected = job.kind === 'zoo' ? cellId(job.grid, job.cell) : sweepRunId(job.grid, job.run);
  check(id === expected, `job ${id}: its id is not the id ${expected} of what it asks to train`);
  let splits: Splits | undefined;
  if (job.kind === 'zoo') {
    splits = gridData(job.grid, dataRoot);
    checkCells(job.grid, [job.cell], splits.train);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'dltheory-job-'));
  try {
    using store = openStore(scratch);
    if (job.kind === 'zoo') trainCell(job.grid, job.cell, splits!, store, ZOO_MEASURES);
    else trainSweepRun(job.grid, job.run, store, dataRoot);
    const { run, epochs } = store.getRun(id)!;
    const path = store.weightsPath(run);
    return {
      version: PAYLOAD_VERSION,
      run: { ...run, final: encodeMetrics(run.final) },
      epochs: epochs.map((e) => ({ epoch: e.epoch, metrics: encodeMetrics(e.metrics) })),
      weights: path === null ? null : { file: basename(path), base64: readFileSync(path).toString('base64') },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export default function processJob(job: SandboxedJob): Promise<JobResultWire> {
  return Promise.resolve(runJob(job.id!, job.data, resolve(process.env.DLTHEORY_DATA_ROOT ?? '.')));
}
