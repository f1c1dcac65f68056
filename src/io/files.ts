import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'ENOTDIR') return 'a part of the path is not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (err as Error).message.split('\n')[0];
}

/** Reads a whole file; failing to read it is an InputError that names the path and the reason. */
export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${describe(err)}`);
  }
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a
 * partial write: it goes to a temporary file in the same folder, is flushed, then renamed over `path`.
 * Failing to write is an InputError naming the path.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new InputError(`${path}: cannot write: ${describe(err)}`);
  }
}

/** `buf` gunzipped when it starts with the gzip magic, else `buf`; corrupt gzip data is an InputError naming `source`. */
export function gunzipIfGzipped(buf: Uint8Array, source: string): Uint8Array {
  if (buf[0] !== 0x1f || buf[1] !== 0x8b) return buf;
  try {
    return gunzipSync(buf);
  } catch (err) {
    throw new InputError(`${source}: corrupt or truncated gzip data: ${(err as Error).message.split('\n')[0]}`);
  }
}
