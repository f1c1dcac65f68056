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
