/**
 * The Redis connection of workers and coordinators, from a URL:
 * `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://…` for TLS (the server's certificate
 * checked against the system's CAs, as Node does by default).
 */
import type { RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { InputError } from '../errors.js';

/** The name of the BullMQ queue that workers take jobs from and coordinators fill. */
export const QUEUE_NAME = 'dltheory';

/**
 * ioredis options for a Redis URL; an InputError names what is wrong with it. Requests wait for a
 * lost connection to come back rather than fail (`maxRetriesPerRequest: null`, which BullMQ's
 * workers require): a restarted Redis interrupts the work, it does not end it.
 */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`--queue: '${url}' is not a URL (redis://HOST:PORT or rediss://HOST:PORT)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new InputError(`--queue: '${u.protocol}' is not redis: or rediss:`);
  if (u.hostname === '') throw new InputError(`--queue: '${url}' names no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const db = u.pathname === '' || u.pathname === '/' ? 0 : Number(u.pathname.slice(1));
  if (!Number.isSafeInteger(db) || db < 0) throw new InputError(`--queue: database '${u.pathname.slice(1)}' is not an integer ≥ 0`);
  if (u.search !== '' || u.hash !== '') throw new InputError(`--queue: '${url}' has a query or fragment, which this reads nothing from`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    maxRetriesPerRequest: null,
  };
}

/** The URL with its password hidden, for logs. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** How long the first contact with Redis may take before it counts as unreachable. */
const FIRST_CONTACT_MS = 5000;

/**
 * The first contact with the Redis of `url`, before a worker or coordinator starts: an InputError
 * when it cannot be reached within 5 s, refuses the credentials, or has no such database. Later
 * losses of the connection are waited out (redisOptions); a first one that cannot succeed is not,
 * so a mistyped URL or password ends the command instead of retrying for ever.
 */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null,
    connectTimeout: FIRST_CONTACT_MS });
  // The cause (a refused password, a refused connection) comes as an event; the failed call says only that the connection closed.
  let cause = '';
  client.on('error', (e: Error) => (cause ||= e.message.split('\n')[0]));
  const where = redactedUrl(url);
  try {
    await client.connect();
    await client.ping();
    // ioredis selects the database on connecting but reports a failure only as an event: ask again, and wait for the answer.
    await client.select(redisOptions(url).db ?? 0);
  } catch (e) {
    const message = cause || (e as Error).message.split('\n')[0];
    if (/WRONGPASS|NOAUTH|NOPERM|invalid password/i.test(message)) throw new InputError(`--queue: Redis at ${where} refused the credentials: ${message}`);
    if (/DB index is out of range/i.test(message)) throw new InputError(`--queue: Redis at ${where} has no database ${redisOptions(url).db}`);
    throw new InputError(`--queue: cannot reach Redis at ${where} (${message})`);
  } finally {
    client.disconnect();
  }
}
