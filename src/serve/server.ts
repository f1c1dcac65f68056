/**
 * `dltheory serve`: a fastify app over a run store (opened read-only) and a folder of reports.
 * The page (src/serve/public: plain HTML, CSS and ES modules, served as they are, no bundler)
 * renders the Vega-Lite specs of the JSON routes with vega, vega-lite and vega-embed, served from
 * node_modules through a fixed allow-list: nothing is fetched from the network.
 *
 * Security: loopback only unless a token is given; with a token every request must carry it, as
 * `Authorization: Bearer TOKEN`, `?token=TOKEN` (a link, an EventSource) or the HttpOnly cookie set
 * by the first request that carried it (the page's scripts and stylesheet).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { InputError } from '../errors.js';
import { openStore } from '../store/runs.js';
import { runRoutes } from './api.js';
import { httpError } from './files.js';
import { liveRoutes } from './live.js';
import { populationRoutes } from './population.js';
import { reportRoutes } from './reports.js';

export interface ServeOptions {
  /** The run store's folder (default as openStore: $DLTHEORY_RUNS, else ./runs); it must hold a store. */
  runs?: string;
  /** A folder of `reproduce` outputs for the Claims page. */
  reports?: string;
  /** Address the caller will listen on; any but loopback requires `token`. */
  host?: string;
  token?: string;
  /** How often the live route polls the store. */
  liveIntervalMs?: number;
}

/** The page's files, served from the source tree: plain ES modules need no build, so dist never holds a stale copy. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../../src/serve/public/', import.meta.url));

/** The browser builds the page loads, by the name it asks for: package and file inside it. */
const VENDOR: Record<string, [pkg: string, file: string]> = {
  'vega.min.js': ['vega', 'build/vega.min.js'],
  'vega-lite.min.js': ['vega-lite', 'build/vega-lite.min.js'],
  'vega-embed.min.js': ['vega-embed', 'build/vega-embed.min.js'],
};

/** The file of a VENDOR entry in the first node_modules folder Node's resolution would search that holds it. */
function vendorFile(pkg: string, file: string): string {
  const require = createRequire(import.meta.url);
  const found = (require.resolve.paths(pkg) ?? []).map((dir) => path.join(dir, pkg, file)).find((f) => fs.existsSync(f));
  if (!found) throw new Error(`${pkg}/${file} is not installed: run npm ci`);
  return found;
}

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

const COOKIE = 'dltheory_token';

/** Constant-time comparison, so the time a refusal takes says nothing about how much of the token was right. */
function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const [a, b] = [crypto.createHash('sha256').update(given).digest(), crypto.createHash('sha256').update(token).digest()];
  return crypto.timingSafeEqual(a, b);
}

function tokenOf(req: FastifyRequest): { value: string | undefined; from: 'header' | 'query' | 'cookie' | undefined } {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) return { value: bearer, from: 'header' };
  const query = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof query === 'string') return { value: query, from: 'query' };
  const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === COOKIE)?.[1];
  if (cookie === undefined) return { value: undefined, from: undefined };
  try {
    return { value: decodeURIComponent(cookie), from: 'cookie' };
  } catch {
    // A malformed cookie is no token (401), not a server error.
    return { value: undefined, from: undefined };
  }
}

/**
 * The dashboard app, routes registered and not yet listening: `app.inject(…)` in tests,
 * `app.listen({ host, port })` to serve. Errors: InputError for a host that is not loopback without a
 * token, a folder without a run store, a reports folder that is not one. Closing the app closes the store.
 */
export async function createServer(o: ServeOptions = {}): Promise<FastifyInstance> {
  const host = o.host ?? '127.0.0.1';
  if (!isLoopback(host) && !o.token) throw new InputError(`serve: --host ${host} is reachable from other machines; give --token too`);
  if (o.token !== undefined && o.token.length < 8) throw new InputError('serve: --token must be at least 8 characters');
  if (o.reports !== undefined && !fs.statSync(o.reports, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InputError(`serve: --reports ${o.reports} is not a folder`);
  }
  const store = openStore(o.runs, { readonly: true });
  try {
    const app = Fastify({ logger: false });
    app.addHook('onClose', async () => store.close());
    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const status = err instanceof InputError ? 400 : err.statusCode ?? 500;
      if (status >= 500) process.stderr.write(`dltheory serve: ${err.stack}\n`);
      return reply.code(status).send({ error: err.message.split('\n')[0] });
    });
    if (o.token !== undefined) {
      const token = o.token;
      app.addHook('onRequest', async (req, reply) => {
        const t = tokenOf(req);
        if (!sameToken(t.value, token)) throw httpError(401, 'this server needs its token: Authorization: Bearer TOKEN or ?token=TOKEN');
        if (t.from !== 'cookie') reply.header('set-cookie', `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
      });
    }
    await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/' });
    const vendor = Object.fromEntries(Object.entries(VENDOR).map(([name, [pkg, file]]) => [name, vendorFile(pkg, file)]));
    app.get('/vendor/:name', async (req, reply) => {
      const file = vendor[(req.params as { name: string }).name];
      if (file === undefined) throw httpError(404, `not a served library: ${Object.keys(VENDOR).join(', ')}`);
      return reply.type('text/javascript; charset=utf-8').send(fs.createReadStream(file));
    });
    runRoutes(app, store);
    populationRoutes(app, store);
    reportRoutes(app, o.reports);
    liveRoutes(app, store, o.liveIntervalMs);
    return app;
  } catch (e) {
    store.close();
    throw e;
  }
}
