/**
 * The live route: server-sent events (the browser's EventSource) carrying each run as it is
 * committed to the store by a zoo, sweep or `reproduce` running meanwhile (locally or on workers
 * that write to the same store). The store is polled every `intervalMs`; SQLite's WAL lets this
 * read-only connection see each committed transaction while the writer goes on.
 */
import type { FastifyInstance } from 'fastify';
import { lastCommitted, runsAfter } from '../store/query.js';
import type { RunRecord, RunStore } from '../store/runs.js';

/** What an event carries of a run: enough for a progress line, not its hundred metrics. */
function brief(r: RunRecord) {
  const { gap, trainAccuracy, testAccuracy, testLoss } = r.final;
  return { id: r.id, kind: r.kind, tag: r.tag, spec: r.spec, created: r.created, seconds: r.seconds, final: { gap, trainAccuracy, testAccuracy, testLoss } };
}

/** Registers GET /api/live on `app`: a `hello` event with the last committed run's id, then a `run` event per run committed after it. */
export function liveRoutes(app: FastifyInstance, store: RunStore, intervalMs = 1000): void {
  // Open streams, ended before the server closes: a stream never ends by itself, and close would wait for it.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });
  app.get('/api/live', (req, reply) => {
    const start = lastCommitted(store);
    let last = start.rowid;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('hello', { last: start.id });
    const timer = setInterval(() => {
      for (const { rowid, run } of runsAfter(store, last)) {
        send('run', brief(run));
        last = rowid;
      }
    }, intervalMs);
    const end = () => {
      clearInterval(timer);
      streams.delete(end);
      reply.raw.end();
    };
    streams.add(end);
    req.raw.on('close', end);
  });
}
