/**
 * The Redis connection of workers and coordinators, from a URL:
 * `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://…` for TLS (the server's certificate
 * checked against the system's CAs, as Node does by default).
 */
import type { RedisOptions } from 'bullmq';
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
