/**
 * The queue's throughput and overhead (README, "Many machines: workers on a queue"), against a
 * running Redis at URL, with workers started here as `dltheory worker` processes:
 *
 * - throughput: the same 24-MLP grid (MNIST, widths 128/512, depths 1–3, 1,000/2,000 training
 *   points, seeds 0/1, 5 epochs, every zoo measure) trained by the local zoo with 2 threads, by
 *   1 worker × 2 threads, and by 2 workers × 1 thread; models per minute from the first enqueue to
 *   the last commit (the workers' start-up excluded: they are up before the clock starts).
 * - overhead: `jobs` tiny jobs (mlp:784-4-10 on 20 MNIST points, 1 epoch, every measure) through
 *   one worker with one thread: per job, the worker's gap between finishing one job and starting
 *   the next (BullMQ's `finishedOn` → next `processedOn`: lock release, move to completed, fetch),
 *   the coordinator's delay from a job's finish to its commit (its polling every 250 ms included),
 *   and the commit itself (result check, weights file, SQLite transaction). Medians and 90th percentiles.
 *
 * node dist/bench/queue.js --queue redis://127.0.0.1:6379 [--part throughput|overhead] [--jobs 1000]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { openStore } from '../src/store/runs.js';
import { gridCells, type ZooGrid } from '../src/experiments/zoo.js';
import { runZooOnQueue, type JobTimes } from '../src/queue/coordinator.js';
import { QUEUE_NAME, redisOptions } from '../src/queue/connection.js';

const bin = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'bin', 'dltheory.js');

const ZOO_24: ZooGrid = {
  name: 'bench-24',
  data: 'mnist',
  arch: 'mlp',
  optimizer: 'adam',
  batchSize: 128,
  epochs: 5,
  targetTrainAccuracy: 1.01,
  axes: { width: [128, 512], depth: [1, 2, 3], trainSize: [1000, 2000], seed: [0, 1], weightDecay: [0], dropout: [0], batchNorm: [false], labelNoise: [0],
    lr: [1e-3], augment: [0] },
};

const tinyGrid = (jobs: number): ZooGrid => ({
  ...ZOO_24,
  name: `bench-tiny-${jobs}`,
  epochs: 1,
  axes: { ...ZOO_24.axes, width: [4], depth: [1], trainSize: [20], seed: Array.from({ length: jobs }, (_, i) => i) },
});

/** Starts `n` workers of `threads` threads and waits until each is taking jobs. */
async function startWorkers(url: string, n: number, threads: number): Promise<ChildProcess[]> {
  const workers = Array.from({ length: n },
    () => spawn(process.execPath, [bin, 'worker', '--queue', url, '--threads', String(threads)], { stdio: ['ignore', 'ignore', 'pipe'] }));
  await Promise.all(workers.map((w) => new Promise<void>((done) => w.stderr!.on('data', (c: Buffer) => c.toString().includes('"event":"worker"') && done()))));
  return workers;
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) =>
    new Promise((done) => {
      w.once('exit', done);
      w.kill('SIGTERM');
    })
  ));
}

/** Empties the queue of the jobs of earlier runs. */
async function clearQueue(url: string): Promise<void> {
  const queue = new Queue(QUEUE_NAME, { connection: redisOptions(url) });
  await queue.obliterate({ force: true });
  await queue.close();
}

/** Trains `grid` on the queue into a new store; returns the wall-clock seconds and the jobs' times. */
async function onQueue(url: string, grid: ZooGrid): Promise<{ seconds: number; times: JobTimes[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-bench-queue-'));
  try {
    using store = openStore(dir);
    const times: JobTimes[] = [];
    const t0 = Date.now();
    const { failed } = await runZooOnQueue(grid, { store, url, onCommit: (t) => times.push(t) });
    if (failed.length) throw new Error(`${failed.length} jobs failed: ${failed[0].error}`);
    return { seconds: (Date.now() - t0) / 1000, times };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Seconds the local zoo (`dltheory zoo`, 2 threads) takes over `grid`, start-up included. */
function locally(grid: ZooGrid): number {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-bench-local-'));
  try {
    writeFileSync(join(dir, 'grid.json'), JSON.stringify(grid));
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [bin, 'zoo', '--grid', join(dir, 'grid.json'), '--runs', dir, '--json'], {
      env: { ...process.env, DLTHEORY_THREADS: '2' },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`local zoo: ${r.stderr}`);
    return (Date.now() - t0) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughput(url: string): Promise<void> {
  const models = gridCells(ZOO_24).length;
  const row = (setup: string, seconds: number) => `| ${setup} | ${models} | ${(seconds / 60).toFixed(2)} | ${(models / (seconds / 60)).toFixed(1)} |`;
  console.log(`| setup | models | minutes | models per minute |\n| --- | --- | --- | --- |`);
  console.log(row('local zoo, 2 threads', locally(ZOO_24)));
  for (const [n, threads] of [[1, 2], [2, 1]] as const) {
    await clearQueue(url);
    const workers = await startWorkers(url, n, threads);
    const { seconds } = await onQueue(url, ZOO_24);
    await stopWorkers(workers);
    console.log(row(`${n} worker${n > 1 ? 's' : ''} × ${threads} thread${threads > 1 ? 's' : ''}`, seconds));
  }
}

async function overhead(url: string, jobs: number): Promise<void> {
  await clearQueue(url);
  const workers = await startWorkers(url, 1, 1);
  const { seconds, times } = await onQueue(url, tinyGrid(jobs));
  await stopWorkers(workers);
  const byStart = [...times].sort((a, b) => a.started - b.started);
  const gap = byStart.slice(1).map((t, i) => t.started - byStart[i].finished);
  const toCommit = times.map((t) => t.committed - t.finished);
  const job = times.map((t) => t.finished - t.started);
  const row = (name: string, xs: number[]) => `| ${name} | ${quantile(xs, 0.5).toFixed(1)} | ${quantile(xs, 0.9).toFixed(1)} |`;
  console.log(
    `${jobs} jobs in ${seconds.toFixed(1)} s (${(jobs / seconds).toFixed(1)} jobs/s)\n\n| per job (ms) | median | 90th percentile |\n| --- | --- | --- |`,
  );
  console.log(
    [row('training and measuring the tiny model (worker)', job), row('finish → next start on the worker', gap), row('finish → commit (coordinator)', toCommit),
      row('commit: result check, weights file, transaction', times.map((t) => t.commitMs))].join('\n'),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: v } = parseArgs({ options: { queue: { type: 'string' }, part: { type: 'string' }, jobs: { type: 'string' } } });
  if (!v.queue) throw new Error('give --queue redis://HOST:PORT');
  if (v.part !== 'overhead') await throughput(v.queue);
  if (v.part !== 'throughput') await overhead(v.queue, Number(v.jobs ?? 1000));
}
