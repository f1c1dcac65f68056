/** `dltheory queue status|drain|retry-failed`: the operator's view of the job queue. */
import { Queue } from 'bullmq';
import { InputError } from '../errors.js';
import { formatTable } from '../report/progress.js';
import { checkRedis, QUEUE_NAME, redactedUrl, redisOptions } from '../queue/connection.js';
import { parse, required, type Command } from './args.js';

/** How long to wait for Redis before saying it cannot be reached. */
const CONNECT_MS = 5000;

export const queueCommand: Command = {
  name: 'queue',
  summary: 'show, drain or retry the jobs of a Redis queue',
  usage: `
dltheory queue status --queue URL [--json]   jobs waiting, active, completed (not yet committed), failed; workers; the failed jobs and their errors
dltheory queue drain --queue URL             removes the waiting and delayed jobs (active ones finish)
dltheory queue retry-failed --queue URL      puts the failed jobs back in the queue, with their attempts anew
`,
  options: { queue: { type: 'string' }, json: { type: 'boolean' } },
  async run(argv) {
    const { values: v, positionals: [sub, ...extra] } = parse(this, argv);
    if (extra.length) throw new InputError(`queue: unexpected arguments: ${extra.join(' ')}`);
    if (sub !== 'status' && sub !== 'drain' && sub !== 'retry-failed')
      throw new InputError(`queue: expected status, drain or retry-failed, got '${sub ?? ''}'`);
    const url = required(v.queue, 'queue');
    await checkRedis(url);
    // An operator's command fails rather than waits when Redis is down.
    const queue = new Queue(QUEUE_NAME, {
      connection: { ...redisOptions(url), maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null },
    });
    queue.on('error', () => {});
    try {
      const ready = await Promise.race([queue.waitUntilReady().then(() => true, () => false), new Promise<boolean>((done) =>
        setTimeout(() => done(false), CONNECT_MS).unref()
      )]);
      if (!ready) throw new InputError(`--queue: cannot reach Redis at ${redactedUrl(url)}`);
      const counts = () => queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
      const before = await counts();
      if (sub === 'drain') {
        await queue.drain(true);
        console.log(`removed ${before.waiting + before.prioritized + before.delayed - (await counts()).waiting} waiting jobs`);
      } else if (sub === 'retry-failed') {
        await queue.retryJobs({ state: 'failed' });
        console.log(`retried ${before.failed} failed jobs`);
      } else {
        const failed = (await queue.getFailed(0, 99)).map((j) => ({ id: j.id, attempts: j.attemptsMade, error: j.failedReason }));
        const status = { ...before, workers: await queue.getWorkersCount(), failedJobs: failed };
        if (v.json) console.log(JSON.stringify(status));
        else {
          console.log(
            formatTable(['waiting', 'delayed', 'active', 'completed', 'failed', 'workers'], [[before.waiting + before.prioritized, before.delayed,
              before.active, before.completed, before.failed, status.workers]]),
          );
          if (failed.length) console.log(formatTable(['failed job', 'attempts', 'error'], failed.map((f) => [f.id ?? '', f.attempts, f.error])));
        }
      }
    } finally {
      await queue.close();
    }
    return 0;
  },
};
