/** Runs a reference script of bench/ under Debian's /usr/bin/python3 and parses its JSON output. */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';

/** bench/NAME from the source tree or from dist/bench. */
function script(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++, dir = dirname(dir)) {
    for (const p of [join(dir, name), join(dir, 'bench', name)]) if (existsSync(p)) return p;
  }
  throw new Error(`bench/${name} not found`);
}

/** Why a script failed, in one line, from its stderr: the missing module and its Debian package, or the last line. */
function scriptError(name: string, stderr: string, needs: string, fallback: string): string {
  const module = /No module named '?(\w+)'?/.exec(stderr);
  return module
    ? `${PYTHON} has no ${module[1]} module (install Debian ${needs})`
    : `${name} failed: ${(stderr.trim().split('\n').pop() || fallback).slice(0, 300)}`;
}

/**
 * The script's JSON, or why it could not run (`needs` names the Debian package it wants). `env`
 * replaces the environment, for runs that must not inherit dltheory's thread settings.
 */
export function runPython<T>(name: string, args: string[], needs: string, env?: NodeJS.ProcessEnv): Promise<T | { error: string }> {
  if (!existsSync(PYTHON)) return Promise.resolve({ error: `${PYTHON} not found (the reference side needs Debian ${needs})` });
  return new Promise((resolve) =>
    execFile(PYTHON, [script(name), ...args], { env, maxBuffer: 1 << 22, timeout: 30 * 60_000 }, (err, stdout, stderr) => {
      if (err) resolve({ error: scriptError(name, stderr, needs, err.message) });
      else {
        try {
          resolve(JSON.parse(stdout) as T);
        } catch {
          resolve({ error: `${name} printed no JSON: ${stdout.slice(0, 200)}` });
        }
      }
    })
  );
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * A reference script kept running, so that its timed passes can alternate with dltheory's: on a
 * shared machine the load drifts over seconds, and pairs of passes run back to back see the same
 * load, where two blocks of passes a minute apart do not. The script prints one line when it has
 * loaded and warmed up (`ready()` waits for it, so its start-up does not overlap a timed pass), then
 * answers each "pass" on its standard input with one JSON line (its seconds and whatever it
 * reports). A script that dies or stays silent for `timeoutMs` makes the call reject; `close()` ends it.
 */
export interface PythonSession<T> {
  ready(): Promise<void>;
  pass(): Promise<T>;
  close(): void;
}

export function startPython<T>(name: string, args: string[], needs: string, timeoutMs = 30 * 60_000): PythonSession<T> | { error: string } {
  if (!existsSync(PYTHON)) return { error: `${PYTHON} not found (the reference side needs Debian ${needs})` };
  const child = spawn(PYTHON, [script(name), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A script that died must not take this process with it: writing to its closed stdin raises EPIPE
  // here, and the next call reports the script's own error instead.
  child.stdin.on('error', () => {});
  child.on('error', (e) => (stderr += `${e.message}\n`));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  /** The script's next line; its error (stderr read once it has exited) when there is none, or a timeout. */
  const next = async (): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${name} gave no answer in ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    try {
      const line = await Promise.race([lines.next(), timeout]);
      if (line.done) {
        await exited;
        throw new Error(scriptError(name, stderr, needs, 'no output'));
      }
      return line.value;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async ready() {
      await next();
    },
    async pass() {
      child.stdin.write('pass\n');
      return JSON.parse(await next()) as T;
    },
    close() {
      child.stdin.end();
    },
  };
}
