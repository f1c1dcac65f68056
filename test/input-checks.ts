// Assertions about bad input, shared by the file-format tests: an InputError in one line, and the
// warning lines warn() writes on stderr.
import assert from 'node:assert/strict';
import { InputError } from '../src/errors.js';

/** Asserts that `fn` throws a one-line InputError matching `problem`. */
export function rejects(fn: () => unknown, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.match(err.message, problem);
    assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
    return true;
  });
}

/** Calls `fn` with process.stderr.write captured; returns its value or the error it threw, and the lines it wrote there. */
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

/** `fn`'s value and the warning lines it wrote on stderr; what it throws is thrown on. */
export function withWarnings<T>(fn: () => T): { value: T; warnings: string[] } {
  const r = capturingStderr(fn);
  if ('error' in r) throw r.error;
  return { value: r.value as T, warnings: r.lines };
}
