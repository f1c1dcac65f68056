/** Helpers of the NPY tests (test/io.test.ts, test/npy.test.ts). */
import { spawnSync } from 'node:child_process';

/** Debian's Python, whose numpy (python3-numpy 1.24) the NPY tests compare against. */
export const PYTHON = '/usr/bin/python3';

let why: string | undefined | null = null;

/** Why numpy cannot be used here, for t.skip, or undefined when PYTHON imports it; asked once. */
export function numpyUnavailable(): string | undefined {
  if (why === null) {
    const r = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) why = `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
    else why = r.status === 0 ? undefined : `${PYTHON} cannot import numpy`;
  }
  return why;
}

/** Calls `fn` with process.stderr.write captured; returns its value or error and the lines it wrote there. */
export function capturingStderr<T>(fn: () => T): { value?: T; error?: unknown; lines: string[] } {
  const write = process.stderr.write;
  const lines: string[] = [];
  process.stderr.write = (chunk: string | Uint8Array) => lines.push(...String(chunk).split('\n').filter((line) => line !== '')) > 0;
  try {
    return { value: fn(), lines };
  } catch (error) {
    return { error, lines };
  } finally {
    process.stderr.write = write;
  }
}

/** A .npy file of format `version` (1, 2 or 3) with this header text, as is (no padding), and data. */
export function npyFile(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Buffer {
  const text = Buffer.from(header, version === 3 ? 'utf8' : 'latin1');
  const prefix = Buffer.from(`\x93NUMPY${String.fromCharCode(version)}\x00`, 'latin1');
  const length = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) length.writeUInt16LE(text.length);
  else length.writeUInt32LE(text.length);
  return Buffer.concat([prefix, length, text, data]);
}
