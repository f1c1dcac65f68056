/**
 * Benchmarks, side by side with PyTorch in one run: the same work, the same thread count.
 *
 *   mlp     MLP 784-1024-1024-10 (`buildModel('mlp:784-1024-1024-10')`), one SGD training step at
 *           batch 128: forward, cross-entropy, zero grad, backward, SGD step (lr 0.01, no momentum);
 *   cnn     the small CNN (`cnn:1x28x28-10`), the same step at batch 128;
 *   matmul  a 2048×2048 float32 matmul.
 *
 * Each case runs warm-up iterations, then timed iterations each timed on its own; the figure is the
 * median per-iteration time. dltheory's cases run here, each step inside `scope` (memory stays flat;
 * the live-tensor count before and after is reported), then bench/torch_bench.py runs all cases in
 * one process under /usr/bin/python3 (Debian `python3-torch`) with `torch.set_num_threads` set to
 * dltheory's `getNumThreads()`, in the environment this process was started with (PyTorch's
 * defaults). ratio = PyTorch time / dltheory time, so > 1 means dltheory is faster.
 *
 * dltheory sets two threading variables for itself before libtorch loads (src/engine/native.ts:
 * OMP_WAIT_POLICY=PASSIVE, OPENBLAS_THREAD_TIMEOUT=4, unless the user set them). So that the table
 * says what they account for, PyTorch runs a second time with them as a control (PyTorch*, the
 * `torchSameEnvMs` and `ratioSameEnv` fields; `sameEnv: false` skips it). Everything else is the
 * same libtorch on both sides: same kernels, same OpenBLAS (whose own thread count, the core count
 * by default, `set_num_threads` does not change on either side).
 *
 * node -e "import('./dist/bench/suite.js').then(async m => console.log(m.formatBenchTable(await m.runBench({}))))"
 */
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { randn, randint, manualSeed } from '../src/engine/creation.js';
import { scope, dispose, liveTensors } from '../src/engine/memory.js';
import { getNumThreads, setNumThreads } from '../src/engine/runtime.js';
import { launchEnvironment } from '../src/engine/native.js';
import { buildModel } from '../src/nn/models/spec.js';
import { SGD } from '../src/nn/optim/sgd.js';
import * as F from '../src/nn/functional.js';

import { median, runPython } from './python.js';

export interface BenchOptions {
  /** Intra-op threads for both sides (default: dltheory's current `getNumThreads()`). */
  threads?: number;
  /** Fewer warm-up and timed iterations (a smoke run, not a measurement). */
  quick?: boolean;
  /** Case names to run (mlp, cnn, matmul); all by default. */
  only?: string[];
  /**
   * Also run PyTorch a second time under the runtime settings dltheory applies to itself before
   * libtorch loads (OMP_WAIT_POLICY, OPENBLAS_THREAD_TIMEOUT; see src/engine/native.ts), as a
   * control: it separates what those settings give from the rest. Default true; skipped when
   * dltheory applied none (the user set them, so both runs would be the same).
   */
  sameEnv?: boolean;
}

export interface BenchCase {
  name: string;
  description: string;
  /** Median milliseconds per iteration. */
  dltheoryMs: number;
  torchMs: number | null;
  /** torchMs / dltheoryMs: > 1 means dltheory is faster. */
  ratio: number | null;
  dltheoryMinMs: number;
  torchMinMs: number | null;
  /** PyTorch under dltheory's runtime settings (the control run; null when not run). */
  torchSameEnvMs: number | null;
  /** torchSameEnvMs / dltheoryMs. */
  ratioSameEnv: number | null;
  /** Matmul only: 2n³ / median time. */
  dltheoryGflops?: number;
  torchGflops?: number | null;
  torchSameEnvGflops?: number | null;
  warmup: number;
  reps: number;
  /** Native tensors alive after the timed loop minus before it (0: memory stays flat). */
  liveTensorDelta: number;
}

export interface BenchReport {
  machine: {
    cpus: number;
    cpuModel: string;
    threads: number;
    torchVersion: string | null;
    torchThreads: number | null;
    nodeVersion: string;
    pythonVersion: string | null;
    /** Thread-related variables of the environment the process started with (PyTorch's run). */
    env: Record<string, string>;
    /** What dltheory set for itself before libtorch loaded (also the control run's additions). */
    dltheoryEnv: Record<string, string>;
  };
  cases: BenchCase[];
  /** Why the PyTorch columns are empty, when they are. */
  note?: string;
}

interface CaseDef {
  name: string;
  description: string;
  /** Builds the case's state and returns one iteration plus a cleanup. */
  setup: () => { step: () => void; cleanup: () => void };
  flops?: number;
}

const MATMUL_N = 2048;

function trainStep(spec: string, input: number[]): () => { step: () => void; cleanup: () => void } {
  return () => {
    manualSeed(0);
    const model = buildModel(spec);
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0 });
    const x = randn(input);
    const y = randint(0, 10, [input[0]]);
    const step = (): void =>
      scope(() => {
        const loss = F.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    return {
      step,
      cleanup: () => {
        opt.dispose();
        model.dispose();
        dispose([x, y]);
      },
    };
  };
}

const CASES: CaseDef[] = [
  {
    name: 'mlp',
    description: 'MLP 784-1024-1024-10 SGD step, batch 128',
    setup: trainStep('mlp:784-1024-1024-10', [128, 784]),
  },
  {
    name: 'cnn',
    description: 'CNN 1x28x28 (conv32-conv64-fc128) SGD step, batch 128',
    setup: trainStep('cnn:1x28x28-10', [128, 1, 28, 28]),
  },
  {
    name: 'matmul',
    description: `matmul ${MATMUL_N}x${MATMUL_N} float32`,
    flops: 2 * MATMUL_N ** 3,
    setup: () => {
      manualSeed(0);
      const a = randn([MATMUL_N, MATMUL_N]);
      const b = randn([MATMUL_N, MATMUL_N]);
      return {
        step: () => scope(() => void a.matmul(b)),
        cleanup: () => dispose([a, b]),
      };
    },
  },
];

function timeCase(c: CaseDef, warmup: number, reps: number): { median: number; min: number; liveDelta: number } {
  const { step, cleanup } = c.setup();
  try {
    for (let i = 0; i < warmup; i++) step();
    const before = liveTensors();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
    }
    return { median: median(times), min: Math.min(...times), liveDelta: liveTensors() - before };
  } finally {
    cleanup();
  }
}

interface TorchCase {
  medianMs: number;
  minMs: number;
  gflops?: number;
}
interface TorchReport {
  torchVersion: string;
  pythonVersion: string;
  threads: number;
  cases: Record<string, TorchCase>;
}

function runTorch(threads: number, warmup: number, reps: number, only: string[], env: NodeJS.ProcessEnv): Promise<TorchReport | { error: string }> {
  const args = ['--threads', String(threads), '--json', '--warmup', String(warmup), '--reps', String(reps), '--only', only.join(',')];
  return runPython<TorchReport>('torch_bench.py', args, 'python3-torch', env);
}

const THREAD_ENV = [
  'OMP_NUM_THREADS',
  'OMP_WAIT_POLICY',
  'GOMP_SPINCOUNT',
  'OPENBLAS_NUM_THREADS',
  'OPENBLAS_THREAD_TIMEOUT',
  'MKL_NUM_THREADS',
  'DLTHEORY_THREADS',
];

/** Variables dltheory set for itself at load (in process.env now, not in the launch environment). */
function dltheoryEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of THREAD_ENV) {
    const v = process.env[k];
    if (v !== undefined && launchEnvironment[k] !== v) out[k] = v;
  }
  return out;
}

/** Runs every case (or `only`) in dltheory, then PyTorch once, and pairs the results. */
export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const known = new Set(CASES.map((c) => c.name));
  const only = opts.only?.length ? opts.only : [...known];
  for (const n of only) if (!known.has(n)) throw new Error(`runBench: unknown case '${n}' (${[...known].join(', ')})`);
  const selected = CASES.filter((c) => only.includes(c.name));
  const warmup = opts.quick ? 1 : 5;
  const reps = opts.quick ? 3 : 20;

  const previousThreads = getNumThreads();
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error(`runBench: threads must be a positive integer, got ${opts.threads}`);
    setNumThreads(opts.threads);
  }
  const threads = getNumThreads();
  const mine = new Map<string, { median: number; min: number; liveDelta: number }>();
  try {
    for (const c of selected) mine.set(c.name, timeCase(c, warmup, reps));
  } finally {
    if (opts.threads !== undefined) setNumThreads(previousThreads);
  }

  const names = selected.map((c) => c.name);
  const torch = await runTorch(threads, warmup, reps, names, { ...launchEnvironment });
  const ok = 'cases' in torch ? torch : null;
  const dltEnv = dltheoryEnvironment();
  const control = ok && (opts.sameEnv ?? true) && Object.keys(dltEnv).length > 0
    ? await runTorch(threads, warmup, reps, names, { ...launchEnvironment, ...dltEnv })
    : null;
  const same = control && 'cases' in control ? control : null;
  const env: Record<string, string> = {};
  for (const k of THREAD_ENV) if (launchEnvironment[k] !== undefined) env[k] = launchEnvironment[k]!;

  const cases: BenchCase[] = selected.map((c) => {
    const d = mine.get(c.name)!;
    const t = ok?.cases[c.name] ?? null;
    const t2 = same?.cases[c.name] ?? null;
    const bc: BenchCase = {
      name: c.name,
      description: c.description,
      dltheoryMs: d.median,
      torchMs: t ? t.medianMs : null,
      ratio: t ? t.medianMs / d.median : null,
      dltheoryMinMs: d.min,
      torchMinMs: t ? t.minMs : null,
      torchSameEnvMs: t2 ? t2.medianMs : null,
      ratioSameEnv: t2 ? t2.medianMs / d.median : null,
      warmup,
      reps,
      liveTensorDelta: d.liveDelta,
    };
    if (c.flops) {
      bc.dltheoryGflops = c.flops / (d.median / 1000) / 1e9;
      bc.torchGflops = t ? c.flops / (t.medianMs / 1000) / 1e9 : null;
      bc.torchSameEnvGflops = t2 ? c.flops / (t2.medianMs / 1000) / 1e9 : null;
    }
    return bc;
  });

  const report: BenchReport = {
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      threads,
      torchVersion: ok?.torchVersion ?? null,
      torchThreads: ok?.threads ?? null,
      nodeVersion: process.version,
      pythonVersion: ok?.pythonVersion ?? null,
      env,
      dltheoryEnv: dltEnv,
    },
    cases,
  };
  if (!ok) report.note = (torch as { error: string }).error;
  else if (control && !same) report.note = `control run: ${(control as { error: string }).error}`;
  return report;
}

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '—' : v.toFixed(digits));
const ratioText = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}×`);
const hasControl = (r: BenchReport): boolean => r.cases.some((c) => c.torchSameEnvMs !== null);

function header(report: BenchReport): string[] {
  const h = ['case', 'dltheory ms', 'PyTorch ms', 'PyTorch/dltheory'];
  if (hasControl(report)) h.push('PyTorch* ms', 'PyTorch*/dltheory');
  h.push('GFLOP/s dltheory / PyTorch');
  return h;
}

function rows(report: BenchReport): string[][] {
  const control = hasControl(report);
  return report.cases.map((c) => {
    const r = [c.description, fmt(c.dltheoryMs), fmt(c.torchMs), ratioText(c.ratio)];
    if (control) r.push(fmt(c.torchSameEnvMs), ratioText(c.ratioSameEnv));
    r.push(c.dltheoryGflops !== undefined ? `${fmt(c.dltheoryGflops, 1)} / ${fmt(c.torchGflops, 1)}` : '');
    return r;
  });
}

const envText = (e: Record<string, string>): string => Object.entries(e).map(([k, v]) => `${k}=${v}`).join(' ');

function machineLine(r: BenchReport): string {
  const m = r.machine;
  const torch = m.torchVersion ? `torch ${m.torchVersion} (python ${m.pythonVersion}, ${m.torchThreads} threads)` : 'no PyTorch';
  return (
    `${m.cpuModel}, ${m.cpus} CPUs; ${m.threads} intra-op thread${m.threads === 1 ? '' : 's'} on both sides; node ${m.nodeVersion}; ${torch}` +
    (Object.keys(m.env).length ? `; launch environment ${envText(m.env)}` : '')
  );
}

function footer(r: BenchReport): string[] {
  const c0 = r.cases[0];
  const out: string[] = [];
  if (c0) out.push(`Median of ${c0.reps} timed iterations after ${c0.warmup} warm-up; a ratio > 1 means dltheory is faster.`);
  if (hasControl(r))
    out.push(
      `PyTorch ran in the launch environment (its defaults); PyTorch* ran again with the settings dltheory gives ` +
        `itself before libtorch loads (${envText(r.machine.dltheoryEnv)}), as a control.`,
    );
  if (r.note) out.push(`Note: ${r.note}`);
  return out;
}

/** A plain-text table with aligned columns (numbers right-aligned). */
export function formatBenchTable(report: BenchReport): string {
  const head = header(report);
  const body = rows(report);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [machineLine(report), '', line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '', ...footer(report)].join(
    '\n',
  );
}

/** The same table in Markdown, for the README. */
export function benchMarkdown(report: BenchReport): string {
  const head = header(report);
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows(report).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    `${machineLine(report)}.`,
    '',
    ...footer(report).join(' ').split('\n'),
  ].join('\n');
}
