/**
 * Files the dashboard serves from a folder it was given (the report folders): only regular files
 * whose real path lies inside the folder's real path, so neither `..` nor a symbolic link leads
 * out of it, and none larger than a bound. Errors carry the HTTP status fastify replies with.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Report files are charts, tables and JSON of at most a few MiB; anything far larger was not written by a report. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** The content types of the files a report writes; any other file is not served. */
export const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.csv': 'text/csv; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** An Error that fastify answers with `statusCode` and the message. */
export function httpError(statusCode: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

/**
 * The real path of the file `rel` (a relative, `/`-separated path) inside `root`, after checking:
 * 400 for an absolute path, a `..` segment or a NUL byte; 404 when missing or not a regular file;
 * 403 when its real path leaves the real `root` (a symbolic link out) or its type is not served;
 * 413 when larger than `maxBytes`.
 */
export function resolveInside(root: string, rel: string, maxBytes = MAX_FILE_BYTES): { file: string; size: number; type: string } {
  const parts = rel.split(/[/\\]/);
  if (rel.includes('\0') || path.isAbsolute(rel) || parts.includes('..')) throw httpError(400, `bad path '${rel}'`);
  const realRoot = fs.realpathSync(root);
  let file: string;
  try {
    file = fs.realpathSync(path.join(realRoot, ...parts));
  } catch {
    throw httpError(404, `no file '${rel}'`);
  }
  const inside = path.relative(realRoot, file);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) throw httpError(403, `'${rel}' leads out of the served folder`);
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw httpError(404, `'${rel}' is not a file`);
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
  if (type === undefined) throw httpError(403, `'${rel}': only ${Object.keys(CONTENT_TYPES).join(' ')} files are served`);
  if (stat.size > maxBytes) throw httpError(413, `'${rel}' is ${stat.size} bytes, over the ${maxBytes}-byte limit`);
  return { file, size: stat.size, type };
}

/** The JSON in file `rel` inside `root`, under resolveInside's checks. */
export function readJsonInside(root: string, rel: string): unknown {
  return JSON.parse(fs.readFileSync(resolveInside(root, rel).file, 'utf8'));
}
