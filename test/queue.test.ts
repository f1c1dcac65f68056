// Zoos on BullMQ workers over a real redis-server (test/redis.ts): what the queue promises when
// anything is killed, and what it does with a job that fails. Workers run with one thread, as the
// local zoo they are compared with, so the two train bit for bit alike on this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellId, gridCells, readGrid } from '../src/experiments/zoo.js';
import { openStore, type RunRecord } from '../src/store/runs.js';
import { manualSeed } from '../src/engine/creation.js';
import { buildModel } from '../src/nn/models/spec.js';
import { saveModel } from '../src/nn/serialize.js';
import { redisMissing, startRedis } from './redis.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'dltheory.js');
const env = { ...process.env, DLTHEORY_THREADS: '1' };
const skip = redisMissing();
if (skip) console.log(`# queue tests skipped: ${skip}`);

/** A worker in its own process group, so that a SIGKILL takes its job processes down with it, as a machine that dies. */
function startWorker(url: string, lines: string[], args: string[] = []): ChildProcess {
  const w = spawn(process.execPath, [bin, 'worker', '--queue', url, '--threads', '1', '--lock-seconds', '1', ...args], { env, detached: true,
    stdio: ['ignore', 'ignore', 'pipe'] });
  w.stderr!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return w;
}

const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise((done) => p.once('exit', (code) => done(code)));

async function until(what: string, ok: () => boolean, seconds = 60): Promise<void> {
  for (const t0 = Date.now(); !ok();) {
    if (Date.now() - t0 > seconds * 1000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

function storedRuns(dir: string): { run: RunRecord; epochs: { epoch: number; metrics: Record<string, number> }[]; weights: Buffer | null }[] {
  using store = openStore(dir);
  return store.listRuns().sort((a, b) => a.id.localeCompare(b.id)).map((r) => {
    const { run, epochs } = store.getRun(r.id)!;
    const path = store.weightsPath(run);
    return { run, epochs, weights: path === null ? null : readFileSync(path) };
  });
}

/** A run's metrics without the wall-clock times, which no two runs share. */
const timeless = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'seconds'));

test('two workers, one killed mid-job, a coordinator killed and restarted, Redis restarted: every model stored once, as the local zoo trains it', { skip,
  timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-queue-'));
  const redis = await startRedis(dir);
  const workers: ChildProcess[] = [];
  try {
    const gridFile = join(dir, 'grid.json');
    writeFileSync(gridFile, JSON.stringify({ name: 'qkill', epochs: 3, axes: { width: [16], trainSize: [200, 300], seed: [0, 1, 2] } }));
    const grid = readGrid(gridFile);
    const expected = gridCells(grid).map((c) => cellId(grid, c)).sort();
    const runsDir = join(dir, 'runs');
    const [logA, logB]: string[][] = [[], []];
    workers.push(startWorker(redis.url, logA), startWorker(redis.url, logB));
    await until('the workers', () => [logA, logB].every((l) => l.some((x) => x.includes('"event":"worker"'))));

    const coordinator = () =>
      spawn(process.execPath, [bin, 'zoo', '--grid', gridFile, '--queue', redis.url, '--runs', runsDir, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const first = coordinator();
    // Worker A dies, with its job process, as soon as it has started a job.
    await until('a job on worker A', () => logA.some((x) => x.includes('"state":"active"')));
    process.kill(-workers[0].pid!, 'SIGKILL');
    const killedJob = (JSON.parse(logA.find((x) => x.includes('"state":"active"'))!) as { id: string }).id;
    // The coordinator dies once it has committed a model, and Redis restarts while it is down.
    await until('a committed model', () => storedRuns(runsDir).length > 0);
    first.kill('SIGKILL');
    await exited(first);
    const before = storedRuns(runsDir);
    await redis.restart();

    const second = coordinator();
    let out = '';
    let err = '';
    second.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    second.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    assert.equal(await exited(second), 0, err);
    assert.match(err, new RegExp(`6 runs, ${before.length} already stored`));

    const after = storedRuns(runsDir);
    assert.deepEqual(after.map((r) => r.run.id), expected, 'every model exactly once');
    for (const b of before) assert.equal(after.find((a) => a.run.id === b.run.id)!.run.created, b.run.created, `${b.run.id} was committed once`);
    assert.ok(logB.some((x) => x.includes(`"id":"${killedJob}","state":"completed"`)), `worker B took over ${killedJob}, the job of the killed worker A`);
    assert.deepEqual((JSON.parse(out) as { id: string }[]).map((r) => r.id).sort(), expected);

    // The same grid trained here by the local zoo, with the same seeds and one thread.
    const local = spawnSync(process.execPath, [bin, 'zoo', '--grid', gridFile, '--runs', join(dir, 'local'), '--json'], { env, encoding: 'utf8' });
    assert.equal(local.status, 0, local.stderr);
    const reference = storedRuns(join(dir, 'local'));
    for (const [i, r] of after.entries()) {
      const l = reference[i];
      const { created: _c, seconds: _s, final, ...rest } = r.run;
      const { created: _lc, seconds: _ls, final: lFinal, ...lRest } = l.run;
      assert.deepEqual(rest, lRest, `${r.run.id}: the run record`);
      assert.ok(Object.keys(final).length > 10, `${r.run.id}: measured, with ${Object.keys(final).join(', ')}`);
      assert.deepEqual(timeless(final), timeless(lFinal), `${r.run.id}: the final metrics and every measure`);
      assert.deepEqual(r.epochs.map((e) => timeless(e.metrics)), l.epochs.map((e) => timeless(e.metrics)), `${r.run.id}: the epochs`);
      assert.ok(r.weights?.equals(l.weights!), `${r.run.id}: the weights file, byte for byte`);
    }

    // Nothing is left in the queue; SIGTERM stops worker B cleanly.
    const status = spawnSync(process.execPath, [bin, 'queue', 'status', '--queue', redis.url, '--json'], { env, encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    const counts = JSON.parse(status.stdout) as Record<string, number>;
    for (const k of ['waiting', 'delayed', 'active', 'completed', 'failed']) assert.equal(counts[k], 0, `${k} jobs left`);
    workers[1].kill('SIGTERM');
    assert.equal(await exited(workers[1]), 0);
    assert.ok(logB.some((x) => x.includes('"event":"stopped"')));
  } finally {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) process.kill(-w.pid!, 'SIGKILL');
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'a job that fails is tried --attempts times, then shows as failed in queue status and the run store; the others finish; a sweep runs on the workers as here',
  { skip, timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dltheory-queue-'));
    const redis = await startRedis(dir);
    const log: string[] = [];
    const worker = startWorker(redis.url, log, ['--data-root', dir]);
    try {
      // 100,000 training points is more than MNIST has: that cell fails on the worker, the other trains.
      const gridFile = join(dir, 'grid.json');
      writeFileSync(gridFile, JSON.stringify({ name: 'qfail', epochs: 1, axes: { width: [8], trainSize: [100, 100000] } }));
      const grid = readGrid(gridFile);
      const [good, bad] = gridCells(grid).map((c) => cellId(grid, c));
      const runsDir = join(dir, 'runs');
      const r = spawnSync(process.execPath, [bin, 'zoo', '--grid', gridFile, '--queue', redis.url, '--runs', runsDir, '--attempts', '2'], { env,
        encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /qfail: 1 models failed after their last attempt/);
      assert.match(r.stdout, new RegExp(good));

      const status = spawnSync(process.execPath, [bin, 'queue', 'status', '--queue', redis.url, '--json'], { env, encoding: 'utf8' });
      const s = JSON.parse(status.stdout) as { failed: number; failedJobs: { id: string; attempts: number; error: string }[] };
      assert.equal(s.failed, 1);
      assert.equal(s.failedJobs[0].id, bad);
      assert.equal(s.failedJobs[0].attempts, 2);
      assert.match(s.failedJobs[0].error, /trainSize 100000 exceeds the 8000 training points of mnist/);
      // The worker's log line of the last try may reach this process after the coordinator has seen the failure.
      await until('the worker to log both tries', () => log.filter((x) => x.includes(`"id":"${bad}","state":"failed"`)).length >= 2, 10);
      assert.equal(log.filter((x) => x.includes(`"id":"${bad}","state":"failed"`)).length, 2, 'tried twice');

      using store = openStore(runsDir);
      assert.ok(store.hasRun(good));
      const failed = store.listRuns({ kind: 'failed' });
      assert.deepEqual(failed.map((f) => f.id), [`${bad}.failed`]);
      assert.match(String(failed[0].hparams.error), /exceeds the 8000 training points/);
      assert.equal(failed[0].hparams.attempts, 2);

      // A sweep of a spec and of a model file (a path under the worker's --data-root), on the worker and here.
      mkdirSync(join(dir, 'models'));
      manualSeed(7);
      using start = buildModel('mlp:784-8-10');
      saveModel(start, join(dir, 'models', 'start.safetensors'));
      writeFileSync(join(dir, 'sweep.json'),
        JSON.stringify({ name: 'qsweep', data: 'mnist',
          axes: { model: ['mlp:784-8-10', 'models/start.safetensors'], epochs: [1], trainSize: [100], lr: [1e-3, 1e-2] } }));
      const sweep = (...args: string[]) => spawnSync(process.execPath, [bin, 'sweep', '--grid', 'sweep.json', ...args], { env, cwd: dir, encoding: 'utf8' });
      const queued = sweep('--queue', redis.url, '--runs', runsDir, '--json');
      assert.equal(queued.status, 0, queued.stderr);
      const here = sweep('--runs', join(dir, 'here'), '--json');
      assert.equal(here.status, 0, here.stderr);
      const [a, b] = [queued, here].map((r) =>
        (JSON.parse(r.stdout) as RunRecord[]).map(({ created: _c, seconds: _s, weights: _w, final, ...rest }) => ({ ...rest, final: timeless(final) }))
      );
      assert.equal(a.length, 4);
      assert.deepEqual(a, b, 'the same runs, metrics and hyper-parameters on the worker as here');
      assert.deepEqual(a.map((r) => [r.kind, r.tag, r.spec]).slice(1, 3), [['train', 'sweep/qsweep', 'mlp:784-8-10'], ['train', 'sweep/qsweep',
        'models/start.safetensors']]);
    } finally {
      process.kill(-worker.pid!, 'SIGKILL');
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
