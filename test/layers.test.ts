/**
 * The layers of src/ and the one rule between them: an import points down, never up, and no two
 * folders depend on each other, directly or around a loop. From the top:
 *
 *   cli → serve → claims, queue → experiments → train, measures → nn → data → engine
 *
 * with io, store and report beside that stack, open to the layers listed in MAY_IMPORT; `engine`
 * and `errors.ts` are open to every layer, and `index.ts` (the library API) re-exports anything
 * below cli. bench/ may import anything in src/ below cli, and only cli imports bench/; test/ may
 * import anything and is not checked. Every `import … from '…'` and `export … from '…'` of a
 * relative path counts, type-only ones too: they are dependencies all the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const OPEN_TO_ALL = ['engine', 'errors.ts'];
const BELOW_CLI = ['io', 'store', 'report', 'data', 'nn', 'measures', 'train', 'experiments', 'claims', 'queue', 'serve'];

/** The layers a layer may import besides itself and OPEN_TO_ALL: a folder of src/, a file directly in src/, or bench. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  'errors.ts': [],
  engine: [],
  io: [],
  store: [],
  report: ['io'],
  data: ['io'],
  nn: ['io', 'data'],
  measures: ['io', 'data', 'nn', 'store'],
  train: ['io', 'data', 'nn', 'store', 'report'],
  experiments: ['io', 'data', 'nn', 'store', 'report', 'measures', 'train'],
  claims: ['io', 'data', 'nn', 'store', 'report', 'measures', 'train', 'experiments'],
  serve: ['io', 'data', 'nn', 'store', 'report', 'measures', 'train', 'experiments', 'claims'],
  queue: ['io', 'data', 'nn', 'store', 'report', 'measures', 'train', 'experiments'],
  cli: [...BELOW_CLI, 'bench'],
  'index.ts': BELOW_CLI,
  bench: BELOW_CLI,
};

/**
 * Upward imports that stay for now, each with its reason. A listed import that is gone fails the
 * test too, so the list only shrinks.
 */
const KNOWN: { from: string; to: string; why: string }[] = [];

interface Import {
  file: string;
  line: number;
  /** The import as written, and the file it names (relative to the root, .ts). */
  spec: string;
  target: string;
}

/** The relative imports and re-exports of a TypeScript source, with the files they name. */
function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(/^[ \t]*(?:(?:import|export)\b[^;'"]*?\bfrom|import)\s*['"](\.[^'"]*)['"]/gm)) {
    const target = posix.normalize(posix.join(posix.dirname(file), m[1])).replace(/\.js$/, '.ts');
    out.push({ file, line: text.slice(0, m.index).split('\n').length, spec: m[1], target });
  }
  return out;
}

/** The layer of a file: its folder under src/, its name when directly in src/, `bench`, or undefined elsewhere. */
function layerOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] === 'bench') return 'bench';
  return parts[0] === 'src' ? parts[1] : undefined;
}

const allowed = (from: string, to: string): boolean => from === to || OPEN_TO_ALL.includes(to) || MAY_IMPORT[from].includes(to);

/** Every import that points up or out of the layers (KNOWN aside), and every KNOWN import that is gone, as messages. */
function violations(imports: Import[], known = KNOWN): string[] {
  const out: string[] = [];
  const used = new Set<(typeof known)[number]>();
  for (const i of imports) {
    const [from, to] = [layerOf(i.file)!, layerOf(i.target)];
    if (!(from in MAY_IMPORT)) {
      out.push(`${i.file}: layer '${from}' is not in MAY_IMPORT (test/layers.test.ts); place it in the order`);
      continue;
    }
    if (to !== undefined && allowed(from, to)) continue;
    const k = known.find((e) => e.from === i.file && e.to === i.target);
    if (k) used.add(k);
    else out.push(`${i.file}:${i.line}: imports '${i.spec}' (${to ?? i.target}): ${from} may import ${[...MAY_IMPORT[from], ...OPEN_TO_ALL].join(', ')}`);
  }
  for (const k of known) if (!used.has(k)) out.push(`KNOWN lists ${k.from} → ${k.to}, which is not imported any more: remove it from the list`);
  return [...new Set(out)];
}

/** The loops among layers (each as a → b → … → a, with one import per step), found by depth-first search. */
function cycles(imports: Import[]): string[] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const [from, to] = [layerOf(i.file)!, layerOf(i.target)];
    if (to === undefined || from === to) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, i);
  }
  const found = new Set<string>();
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (layer: string): void => {
    const at = path.indexOf(layer);
    if (at >= 0) {
      const loop = [...path.slice(at), layer];
      const steps = loop.slice(1).map((to, k) => {
        const i = edges.get(loop[k])!.get(to)!;
        return `${i.file}:${i.line} imports '${i.spec}'`;
      });
      found.add(`${loop.join(' → ')} (${steps.join('; ')})`);
      return;
    }
    if (done.has(layer)) return;
    path.push(layer);
    for (const next of edges.get(layer)?.keys() ?? []) visit(next);
    path.pop();
    done.add(layer);
  };
  for (const layer of edges.keys()) visit(layer);
  return [...found];
}

/** The .ts files under dir (relative to the root, with / separators). */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => relative(root, join(root, dir, f)).split('\\').join('/'))
    .sort();
}

const treeImports = (): Import[] => [...sources('src'), ...sources('bench')].flatMap((f) => importsOf(f, readFileSync(join(root, f), 'utf8')));

test('every import in src/ and bench/ points down the layers', () => {
  const imports = treeImports();
  assert.ok(imports.length > 300, `only ${imports.length} imports found: is the pattern still right?`);
  const bad = violations(imports);
  assert.deepEqual(bad, [], `imports that point up:\n${bad.join('\n')}`);
});

test('no two layers import each other, directly or around a loop', () => {
  const loops = cycles(treeImports());
  assert.deepEqual(loops, [], `loops between layers:\n${loops.join('\n')}`);
});

test('the checks name the file, the line and the import of an upward import and of a loop', () => {
  const files: Record<string, string> = {
    'src/data/a.ts': "import { x } from '../engine/tensor.js';\nimport type {\n  Claim,\n} from '../claims/claim.js';\n",
    'src/claims/claim.ts': "export { y } from '../data/a.js';\n",
    'src/nn/b.ts': "import { z } from './c.js';\nimport 'node:fs';\nimport './d.js';\nexport const e = '../claims/x.js';\n",
  };
  const imports = Object.entries(files).flatMap(([f, text]) => importsOf(f, text));
  assert.deepEqual(imports.map((i) => [i.file, i.line, i.target]), [
    ['src/data/a.ts', 1, 'src/engine/tensor.ts'],
    ['src/data/a.ts', 2, 'src/claims/claim.ts'],
    ['src/claims/claim.ts', 1, 'src/data/a.ts'],
    ['src/nn/b.ts', 1, 'src/nn/c.ts'],
    ['src/nn/b.ts', 3, 'src/nn/d.ts'],
  ]);
  const bad = violations(imports, []);
  assert.equal(bad.length, 1);
  assert.match(bad[0], /^src\/data\/a\.ts:2: imports '\.\.\/claims\/claim\.js' \(claims\): data may import io, engine, errors\.ts$/);
  assert.deepEqual(cycles(imports), [
    "data → claims → data (src/data/a.ts:2 imports '../claims/claim.js'; src/claims/claim.ts:1 imports '../data/a.js')",
  ]);
  assert.match(violations([], [{ from: 'src/data/a.ts', to: 'src/nn/b.ts', why: '' }])[0], /not imported any more/);
});
