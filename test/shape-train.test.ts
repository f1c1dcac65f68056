/**
 * The shape models' training loop (src/train/shapes.ts) beyond a plain run:
 * - the learning rate: linear warm-up then cosine decay, against the closed form;
 * - checkpoints: training interrupted after a checkpoint (in the front-end phase and in the joint
 *   phase) and resumed from it takes the same steps as an uninterrupted run — the same losses and
 *   bit-identical weights — continuing the step count; a finished checkpoint resumes to itself;
 *   resuming with other options or other data is an InputError naming the file;
 * - the learning curve: a point every K steps and at the end, its loss the mean of its window;
 * - no tensor leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, scope } from '../src/engine/index.js';
import { InputError } from '../src/errors.js';
import { generateShapes, shapeBatch } from '../src/data/shapes.js';
import { learningRate, trainShapeModel, type ShapeTrainOptions } from '../src/train/shapes.js';
import { disposeShapeModel, type ShapeModel } from '../src/train/shape-files.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-shape-train-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('learning rate: linear warm-up, then cosine decay to 0 at the end of the phase', () => {
  const o = { lr: 0.01, schedule: 'cosine', warmup: 4 } as const;
  [0, 1, 2, 3].forEach((t) => assert.equal(learningRate(t, 20, o), (0.01 * (t + 1)) / 4));
  for (const t of [4, 9, 14, 19]) {
    const want = (0.01 * (1 + Math.cos((Math.PI * (t - 4)) / 16))) / 2;
    assert.ok(Math.abs(learningRate(t, 20, o) - want) < 1e-15, `step ${t}`);
  }
  assert.equal(learningRate(7, 20, { lr: 0.01 }), 0.01, 'constant without a schedule');
  assert.equal(learningRate(0, 2, { lr: 0.01, warmup: 5 }), 0.01 / 2, 'a warm-up longer than the phase is cut to it');
});

const weights = (m: ShapeModel) => scope(() => [...m.ae.stateDict(), ...(m.align?.stateDict() ?? [])].map(([k, t]) => [k, t.toNumbers()] as const));

test('a run interrupted after a checkpoint and resumed equals the uninterrupted run', () => {
  const before = liveTensors();
  const x = shapeBatch(generateShapes({ seed: 2, subjects: 1, size: 16 }));
  const base: ShapeTrainOptions = {
    size: 16,
    latent: 4,
    width: 1,
    align: 'rigid',
    alignWidth: 1,
    moments: true,
    steps: 4,
    alignSteps: 2,
    batchSize: 4,
    lr: 3e-3,
    schedule: 'cosine',
    warmup: 1,
    seed: 5,
    monitor: { every: 2, x },
  };
  const whole = trainShapeModel(x, base);
  assert.equal(whole.losses.length, 6);
  assert.deepEqual(whole.curve.map((p) => [p.step, p.phase]), [[2, 'front end'], [4, 'joint'], [6, 'joint']]);
  assert.ok(Math.abs(whole.curve[1].loss - (whole.losses[2] + whole.losses[3]) / 2) < 1e-12, 'a point holds the mean loss of its window');
  whole.curve.forEach((p) => assert.ok(p.heldOutDice >= 0 && p.heldOutDice <= 1));
  // Interrupted in the front-end phase (after step 1) and in the joint phase (after step 3).
  for (const stop of [1, 3]) {
    const path = join(dir, `stop${stop}.safetensors`);
    const checkpoint = { path, every: 1 };
    assert.throws(() =>
      trainShapeModel(x, { ...base, checkpoint, onStep: (step) => {
        if (step === stop) throw new Error('killed');
      } }), /killed/);
    const seen: number[] = [];
    const resumed = trainShapeModel(x, { ...base, checkpoint, resume: path, onStep: (step) => void seen.push(step) });
    assert.deepEqual(seen, Array.from({ length: 6 - stop }, (_, i) => stop + 1 + i), 'the step count continues');
    assert.deepEqual(resumed.losses, whole.losses, `interrupted after step ${stop}: the same losses`);
    assert.deepEqual(resumed.curve, whole.curve);
    assert.deepEqual(weights(resumed.model), weights(whole.model), `interrupted after step ${stop}: the same weights`);
    // The finished checkpoint resumes to itself, taking no step.
    const again = trainShapeModel(x, { ...base, resume: path, onStep: () => assert.fail('a finished run takes no step') });
    assert.deepEqual(weights(again.model), weights(whole.model));
    [resumed, again].forEach((r) => disposeShapeModel(r.model));
  }
  const path = join(dir, 'stop3.safetensors');
  assert.throws(() => trainShapeModel(x, { ...base, lr: 1e-3, resume: path }),
    (e) => e instanceof InputError && /stop3\.safetensors: written with other training options/.test(e.message));
  const other = scope(() => x.narrow(0, 0, 6));
  assert.throws(() => trainShapeModel(other, { ...base, resume: path }),
    (e) => e instanceof InputError && /written for other data \(8 volumes/.test(e.message));
  disposeShapeModel(whole.model);
  [x, other].forEach((t) => t.dispose());
  assert.equal(liveTensors(), before);
});
