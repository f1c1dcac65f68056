/**
 * Long training runs neither leak native tensors nor grow the process: 10,000 SGD-with-momentum
 * steps and 3,000 Adam steps of `mlp:20-32-2` (batch 16) leave `liveTensors()` unchanged and the
 * resident set size flat (under 5% growth between the end of a 1,000-step warm-up and the end).
 *
 * RSS is only meaningful after a full garbage collection, so each run happens in a child Node
 * process started with --expose-gc: this very file, which runs the workload instead of registering
 * tests when DLTHEORY_MEMORY_CHILD names the optimiser, and prints one JSON line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { liveTensors, manualSeed, randint, randn, scope, keep, type Tensor } from '../src/engine/index.js';
import * as F from '../src/nn/functional.js';
import { buildModel } from '../src/nn/models/spec.js';
import { SGD } from '../src/nn/optim/sgd.js';
import { Adam } from '../src/nn/optim/adam.js';
import type { Optimizer } from '../src/nn/optim/optimizer.js';

interface Report {
  optimizer: string;
  steps: number;
  seconds: number;
  liveAfterWarmup: number;
  liveAtEnd: number;
  rssAfterWarmup: number;
  rssAtEnd: number;
  heapAfterWarmup: number;
  heapAtEnd: number;
  firstLoss: number;
  lastLoss: number;
}

const WARMUP = 1000;
const BATCH = 16;

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  // Several passes: FinalizationRegistry callbacks and weak cells need more than one.
  for (let i = 0; i < 4; i++) gc();
}

/** Trains for `steps` steps and reports tensor counts and memory after the warm-up and at the end. */
function workload(optimizer: string, steps: number): Report {
  manualSeed(0);
  const model = buildModel('mlp:20-32-2');
  // '-leak' variants keep one tensor per step on purpose, to show that the checks can fail.
  const leak = optimizer.endsWith('-leak');
  const opt: Optimizer = optimizer.startsWith('adam')
    ? new Adam(model.parameters(), { lr: 1e-3 })
    : new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  // A fixed data set of 512 points with a learnable rule (the sign of the first feature).
  const x: Tensor = keep(randn([512, 20]));
  const y: Tensor = keep(scope(() => x.select(1, 0).gt(0).long()));
  const step = (i: number): number =>
    scope(() => {
      const at = (i * BATCH) % 512;
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x.narrow(0, at, BATCH)), y.narrow(0, at, BATCH));
      loss.backward();
      opt.step();
      if (leak) keep(loss.detach());
      return loss.item();
    });
  const epochLoss = (): number => scope(() => F.crossEntropy(model.forward(x), y).item());

  const firstLoss = epochLoss();
  const t0 = performance.now();
  for (let i = 0; i < WARMUP; i++) step(i);
  fullGc();
  const liveAfterWarmup = liveTensors();
  const rssAfterWarmup = process.memoryUsage().rss;
  const heapAfterWarmup = process.memoryUsage().heapUsed;
  for (let i = WARMUP; i < steps; i++) step(i);
  const seconds = (performance.now() - t0) / 1000;
  fullGc();
  const liveAtEnd = liveTensors();
  const rssAtEnd = process.memoryUsage().rss;
  const heapAtEnd = process.memoryUsage().heapUsed;
  const lastLoss = epochLoss();
  return {
    optimizer,
    steps,
    seconds,
    liveAfterWarmup,
    liveAtEnd,
    rssAfterWarmup,
    rssAtEnd,
    heapAfterWarmup,
    heapAtEnd,
    firstLoss,
    lastLoss,
  };
}

/** Runs the workload in a child process with --expose-gc and parses its report. */
function runChild(optimizer: string, steps: number): Report {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
    env: { ...process.env, DLTHEORY_MEMORY_CHILD: optimizer, DLTHEORY_MEMORY_STEPS: String(steps) },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(child.status, 0, `child failed (${child.signal ?? child.status}): ${child.stderr}`);
  const line = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Report;
}

function check(r: Report, diagnostic: (msg: string) => void): void {
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const growth = (r.rssAtEnd - r.rssAfterWarmup) / r.rssAfterWarmup;
  const summary = `${r.optimizer}: ${r.steps} steps in ${r.seconds.toFixed(1)} s; live tensors ${r.liveAfterWarmup} → ${r.liveAtEnd}; ` +
    `RSS ${mb(r.rssAfterWarmup)} → ${mb(r.rssAtEnd)} (${(100 * growth).toFixed(2)}%); heap ${mb(r.heapAfterWarmup)} → ${mb(r.heapAtEnd)}; ` +
    `loss ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)}`;
  diagnostic(summary);
  assert.equal(r.liveAtEnd, r.liveAfterWarmup, `native tensors leaked: ${summary}`);
  assert.ok(growth < 0.05, `RSS grew by more than 5%: ${summary}`);
  assert.ok(r.heapAtEnd < r.heapAfterWarmup * 1.5 + 4 * 2 ** 20, `JS heap grew: ${summary}`);
  // The run really trained (so every step did the full forward/backward/update work).
  assert.ok(r.lastLoss < 0.8 * r.firstLoss, `training did not progress: ${summary}`);
}

const childMode = process.env.DLTHEORY_MEMORY_CHILD;
if (childMode) {
  const report = workload(childMode, Number(process.env.DLTHEORY_MEMORY_STEPS));
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  test('10,000 SGD-with-momentum steps: no leaked tensors, RSS flat', (t) => {
    check(runChild('sgd', 10_000), (m) => t.diagnostic(m));
  });

  test('3,000 Adam steps: no leaked tensors, RSS flat', (t) => {
    check(runChild('adam', 3_000), (m) => t.diagnostic(m));
  });

  test('the leak check can fail: a run that keeps one tensor per step is caught', () => {
    const r = runChild('sgd-leak', 2_000);
    assert.equal(r.liveAtEnd - r.liveAfterWarmup, 2_000 - WARMUP);
    assert.throws(() => check(r, () => {}), /native tensors leaked/);
  });

  test('in process: a training step inside scope leaves liveTensors unchanged', () => {
    manualSeed(1);
    const model = buildModel('mlp:20-32-2');
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = randn([16, 20]);
    const y = randint(0, 2, [16]);
    const step = (): void =>
      scope(() => {
        opt.zeroGrad();
        F.crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
    step(); // creates the momentum buffers
    const before = liveTensors();
    for (let i = 0; i < 200; i++) step();
    assert.equal(liveTensors(), before);
    opt.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
    assert.equal(liveTensors(), before - 4 - 4 - 2, 'model (4), momentum buffers (4) and data (2) freed');
  });
}
