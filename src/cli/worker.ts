/** `dltheory worker`: takes zoo jobs from a Redis queue and trains them (src/queue/worker.ts). */
import { availableParallelism } from 'node:os';
import { InputError } from '../errors.js';
import { cudaAvailable } from '../engine/runtime.js';
import { checkRedis, redactedUrl, redisOptions } from '../queue/connection.js';
import { startWorker } from '../queue/worker.js';
import { choiceOpt, numberOpt, parse, required, type Command } from './args.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'train the zoo jobs of a Redis queue, on this machine',
  usage: `
dltheory worker --queue redis://[:PASSWORD@]HOST:PORT [options]

Takes jobs from the queue that \`dltheory zoo --queue\` fills, trains and measures each model with the
local zoo's code, and returns the run with its weights. SIGTERM or SIGINT: finishes the current jobs,
then exits 0. Killed outright, its jobs go back to the queue once their lock lapses (--lock-seconds).
Logs one JSON line per job on stderr.

  --queue URL         redis://HOST:PORT[/DB], with :PASSWORD@ or USER:PASSWORD@; rediss:// for TLS
  --concurrency N     jobs at once, each in its own process (default 1)
  --threads T         threads of each job (default: the cores divided by N, at least 1)
  --device cpu|cuda   where the models train (default cpu)
  --data-root DIR     the folder a job's data paths are relative to (default: the current folder)
  --lock-seconds S    a killed worker's jobs wait this long before another worker takes them (default 30)
`,
  options: {
    queue: { type: 'string' },
    concurrency: { type: 'string' },
    threads: { type: 'string' },
    device: { type: 'string' },
    'data-root': { type: 'string' },
    'lock-seconds': { type: 'string' },
  },
  async run(argv) {
    const { values: v, positionals } = parse(this, argv);
    if (positionals.length) throw new InputError(`worker: unexpected arguments: ${positionals.join(' ')}`);
    const url = required(v.queue, 'queue');
    redisOptions(url);
    const concurrency = numberOpt(v.concurrency, 'concurrency', 1, { integer: true, min: 1 });
    const threads = numberOpt(v.threads, 'threads', Math.max(1, Math.floor(availableParallelism() / concurrency)), { integer: true, min: 1 });
    const device = choiceOpt(v.device, 'device', ['cpu', 'cuda'] as const, 'cpu');
    if (device === 'cuda' && !cudaAvailable()) throw new InputError('--device cuda: this machine has no CUDA device that libtorch can use');
    const lockMs = 1000 * numberOpt(v['lock-seconds'], 'lock-seconds', 30, { min: 0.5 });
    const dataRoot = (v['data-root'] as string | undefined) ?? '.';
    const log = (event: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(event)}\n`);
    await checkRedis(url);

    const worker = startWorker({ url, concurrency, threads, device, dataRoot, lockMs });
    worker.on('active', (job) => log({ event: 'job', id: job.id, state: 'active', attempt: job.attemptsMade + 1 }));
    worker.on('completed',
      (job) => log({ event: 'job', id: job.id, state: 'completed', seconds: ((job.finishedOn ?? NaN) - (job.processedOn ?? NaN)) / 1000 }));
    worker.on('failed', (job, err) => log({ event: 'job', id: job?.id, state: 'failed', attempt: job?.attemptsMade, error: err.message.split('\n')[0] }));
    // A job of a worker that died (or lost its lock), given back to the queue by this worker's check.
    worker.on('stalled', (id) => log({ event: 'job', id, state: 'stalled' }));
    // Connection errors are reported and waited out: ioredis reconnects by itself.
    worker.on('error', (err) => log({ event: 'error', error: err.message.split('\n')[0] }));
    const stop = new Promise<string>((done) => {
      process.once('SIGTERM', () => done('SIGTERM'));
      process.once('SIGINT', () => done('SIGINT'));
    });
    // A signal ends the wait for Redis too (it may go away between the check and here).
    const signal = await Promise.race([worker.waitUntilReady().then(() => undefined), stop]);
    if (signal === undefined) log({ event: 'worker', queue: redactedUrl(url), pid: process.pid, concurrency, threads, device });
    log({ event: 'stopping', signal: signal ?? await stop });
    await worker.close();
    log({ event: 'stopped' });
    return 0;
  },
};
