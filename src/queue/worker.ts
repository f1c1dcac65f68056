/**
 * A queue worker: a BullMQ Worker that takes zoo jobs from Redis and runs them in child processes
 * (src/queue/processor.ts), `concurrency` at a time. BullMQ gives a job back to the queue when its
 * worker dies: the worker renews each job's lock every `lockMs / 2`; a lock left to lapse (the
 * worker killed, its machine gone) is found by another worker's stalled-job check, which runs
 * every `lockMs`, and the job waits again.
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { Worker } from 'bullmq';
import { QUEUE_NAME, redisOptions } from './connection.js';

export interface WorkerOptions {
  /** redis:// or rediss:// URL (src/queue/connection.ts). */
  url: string;
  /** Jobs run at once, each in its own child process. */
  concurrency: number;
  /** Intra-op threads of each child (DLTHEORY_THREADS). */
  threads: number;
  /** 'cpu' or 'cuda' (DLTHEORY_DEVICE). */
  device: string;
  /** The folder a job's relative data paths are read under. */
  dataRoot: string;
  /** Job lock duration in milliseconds: how long a killed worker's job waits before another worker takes it (BullMQ's default 30 s). */
  lockMs: number;
}

/**
 * A running worker; close it (`await worker.close()`) to finish the current jobs and stop. A job
 * that the worker takes back after a lost lock more than twice fails (BullMQ's `maxStalledCount`),
 * so that a job that kills its worker cannot go round for ever.
 */
export function startWorker(o: WorkerOptions): Worker {
  const env = { ...process.env, DLTHEORY_THREADS: String(o.threads), DLTHEORY_DEVICE: o.device, DLTHEORY_DATA_ROOT: resolve(o.dataRoot) };
  return new Worker(QUEUE_NAME, fileURLToPath(new URL('./processor.js', import.meta.url)), {
    connection: redisOptions(o.url),
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: o.lockMs,
    maxStalledCount: 2,
    workerForkOptions: { env },
  });
}
