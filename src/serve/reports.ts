/**
 * The claims routes over a folder of `reproduce` outputs: the folder itself and each folder
 * directly in it that holds a results.json is one report. The verdict table and each claim's
 * figures and charts come from a report's results.json (written by src/claims via `reproduce`),
 * the history from every report's verdicts in the order of their results.json's times. Files of a
 * report (SVG, HTML, CSV) are served under /files/, checked by src/serve/files.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { httpError, readJsonInside, resolveInside } from './files.js';

export interface ReportFolder {
  /** Path relative to the reports folder, `.` for the folder itself. */
  name: string;
  /** Modification time of its results.json, ISO 8601. */
  time: string;
}

/** The result of one claim as `reproduce` writes it in results.json (the fields the dashboard shows). */
interface ClaimResult {
  id: string;
  verdict: string;
}

/** Report folders under `root`, oldest first. */
export function listReports(root: string): ReportFolder[] {
  const names = ['.', ...fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()];
  return names
    .filter((n) => fs.existsSync(path.join(root, n, 'results.json')))
    .map((name) => ({ name, time: fs.statSync(path.join(root, name, 'results.json')).mtime.toISOString() }))
    .sort((a, b) => a.time.localeCompare(b.time) || a.name.localeCompare(b.name));
}

/** A report's claim results; an HTTP error naming its file when it is not a list of {id, verdict}. */
function results(root: string, report: string): ClaimResult[] {
  const file = path.posix.join(report, 'results.json');
  let r: unknown;
  try {
    r = readJsonInside(root, file);
  } catch (e) {
    if (typeof (e as { statusCode?: unknown }).statusCode === 'number') throw e;
    throw httpError(422, `${file}: not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const ok = Array.isArray(r) && r.every((c) => c !== null && typeof c === 'object' && typeof c.id === 'string' && typeof c.verdict === 'string');
  if (!ok) throw httpError(422, `${file} is not a list of claim results ({"id", "verdict", …})`);
  return r as ClaimResult[];
}

/** The results of a report for the history, or undefined when they cannot be read: one bad folder must not hide the others. */
function readableResults(root: string, report: string): ClaimResult[] | undefined {
  try {
    return results(root, report);
  } catch {
    return undefined;
  }
}

/** Registers the claims and file routes on `app`, reading the reports folder `root` (none: the routes answer 404). */
export function reportRoutes(app: FastifyInstance, root: string | undefined): void {
  app.get('/api/claims', async (req) => {
    if (root === undefined) throw httpError(404, 'no reports folder: start the server with --reports DIR');
    const reports = listReports(root);
    if (reports.length === 0) throw httpError(404, `no results.json in ${root} or the folders directly in it`);
    const asked = (req.query as Record<string, string | undefined>).report;
    const report = asked ?? reports[reports.length - 1].name;
    if (!reports.some((r) => r.name === report)) throw httpError(404, `no report '${report}'`);
    const verdicts = reports.map((r) => new Map((readableResults(root, r.name) ?? []).map((c) => [c.id, c.verdict])));
    const claims = [...new Set(verdicts.flatMap((v) => [...v.keys()]))];
    return {
      reports,
      report,
      history: claims.map((id) => ({ id, verdicts: verdicts.map((v) => v.get(id) ?? null) })),
      results: results(root, report),
    };
  });

  app.get('/files/*', async (req, reply) => {
    if (root === undefined) throw httpError(404, 'no reports folder');
    const f = resolveInside(root, (req.params as { '*': string })['*']);
    return reply.type(f.type).header('x-content-type-options', 'nosniff').send(fs.createReadStream(f.file));
  });
}
