/**
 * Bad input from the user (a malformed file, a wrong shape, NaN, a bad argument).
 * The CLI prints its message on one line and exits with code 2; any other error exits with 1.
 */
export class InputError extends Error {
  override name = 'InputError';
}

/** Throws an InputError with `message` unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InputError(typeof message === 'string' ? message : message());
}

/**
 * Reports, as one line `dltheory: warning: …` on stderr, input that was read but not as written:
 * a header field fixed up the way the reference reader (nibabel, numpy) fixes it, or an ambiguous
 * file read one way of two. The message names the file and the field, as an InputError's does.
 */
export function warn(message: string): void {
  process.stderr.write(`dltheory: warning: ${message}\n`);
}
