// The reference Python of the tests (Debian's /usr/bin/python3 with python3-numpy, -nibabel, -pandas,
// -torch), and why a test that needs it skips when it cannot be used.
import { spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

const probed = new Map<string, string | null>();

/** Why `import <modules>` fails in the reference Python (a reason to print when skipping), or null when it works. */
export function pythonUnavailable(modules: string): string | null {
  if (!probed.has(modules)) {
    const r = spawnSync(PYTHON, ['-c', `import ${modules}`], { encoding: 'utf8', timeout: 60_000 });
    probed.set(
      modules,
      r.error
        ? `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`
        : r.status === 0
        ? null
        : `${PYTHON} cannot import ${modules} (make setup installs it): ${r.stderr.trim().split('\n').pop()}`,
    );
  }
  return probed.get(modules)!;
}
