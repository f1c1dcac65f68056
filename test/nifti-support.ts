// What the NIfTI and volume tests share: InputError and warning assertions, and nibabel's availability.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { InputError } from '../src/errors.js';

export const PYTHON = '/usr/bin/python3';

let nibabelState: string | null | undefined;
/** Why Debian's nibabel cannot be used (for `t.skip`), or null when /usr/bin/python3 imports it; asked once. */
export function noNibabel(): string | null {
  if (nibabelState === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import nibabel'], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) nibabelState = `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
    else nibabelState = r.status === 0 ? null : `${PYTHON} cannot import nibabel (install Debian python3-nibabel): ${r.stderr.trim().split('\n').pop()}`;
  }
  return nibabelState;
}

/** Asserts that `fn` throws a one-line InputError matching `problem`. */
export function rejects(fn: () => unknown, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.match(err.message, problem);
    assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
    return true;
  });
}

/**
 * Runs `fn` with process.stderr.write replaced, and returns its value with the lines it wrote there
 * (warn() writes `dltheory: warning: …` lines). stderr is restored however `fn` ends.
 */
export function withWarnings<T>(fn: () => T): { value: T; warnings: string[] } {
  const chunks: string[] = [];
  const write = process.stderr.write;
  const capture = (chunk: string | Uint8Array) => chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()) > 0;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    const value = fn();
    return { value, warnings: chunks.join('').split('\n').filter((line) => line !== '') };
  } finally {
    process.stderr.write = write;
  }
}
