// Runs the built `dltheory` command line in a child process, for the CLI tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'bin', 'dltheory.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `cli(...args)` runs `dltheory ...prefix ...args`; `rejects` asserts exit code 2 and one stderr line matching a pattern. */
export function cliRunner(prefix: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const cli = (...args: string[]): CliResult => {
    const r = spawnSync(process.execPath, [bin, ...prefix, ...args], { encoding: 'utf8', env: { ...process.env, DLTHEORY_THREADS: '1', ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const rejects = (args: string[], pattern: RegExp): void => {
    const r = cli(...args);
    assert.equal(r.code, 2, `exit code of dltheory ${[...prefix, ...args].join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
    assert.match(lines[0], /^dltheory: /);
    assert.match(lines[0], pattern);
  };
  return { cli, rejects };
}

/** The CLI tests' small classification set: n points of 6 features in 3 classes (class = index mod 3), shifted apart by class. */
export function tinyPoints(n: number): { X: Float32Array; Y: BigInt64Array } {
  return {
    X: Float32Array.from({ length: n * 6 }, (_, i) => Math.sin(1.7 * i + 0.3) + (Math.floor(i / 6) % 3)),
    Y: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)),
  };
}
