/**
 * The shape autoencoder and its Dice loss (src/nn/models/shape-ae.ts, src/nn/dice.ts):
 * - soft Dice loss: finite-difference gradients in p and t, closed forms, and the formula written
 *   out element by element in JS; Dice score closed forms;
 * - shapes of codes and reconstructions at 16³, 32³ and 48³; bad sizes are InputErrors;
 * - a few Adam steps on synthetic shapes lower the loss without leaking tensors;
 * - the same weights in PyTorch (bench/shape_ae_torch.py, Debian python3-torch) give the same codes,
 *   reconstructions, loss and every parameter gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, manualSeed, noGrad, scope, tensor, zeros } from '../src/engine/index.js';
import { Rng } from '../src/data/rng.js';
import { generateShapes, shapeBatch } from '../src/data/shapes.js';
import { diceScore, softDiceLoss } from '../src/nn/dice.js';
import { ShapeAutoencoder } from '../src/nn/models/shape-ae.js';
import { Adam } from '../src/nn/optim/adam.js';
import { autoencoderStep } from '../src/train/shapes.js';
import { readNpy, writeNpy } from '../src/data/npy.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { toRaw } from '../src/nn/serialize.js';
import { runPython } from '../bench/python.js';
import { gradcheck } from './gradcheck.js';
import { roundOff } from './round-off.js';

function uniform(shape: number[], seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.05 + 0.9 * rng.uniform());
}

test('soft Dice loss: gradients by finite differences, closed forms, the formula element by element', () => {
  const before = liveTensors();
  const shape = [3, 1, 2, 2, 2];
  scope(() => {
    const [p, t] = [tensor(uniform(shape, 1), shape, 'float64'), tensor(uniform(shape, 2), shape, 'float64')];
    gradcheck((a, b) => softDiceLoss(a, b, 'none'), [p, t], { name: 'softDiceLoss' });
    gradcheck((a, b) => softDiceLoss(a, b), [p, t], { name: 'softDiceLoss mean' });
    const [a, b] = [p.toArray() as Float64Array, t.toArray() as Float64Array];
    const expected = [0, 1, 2].map((n) => {
      let [pt, pp, tt] = [0, 0, 0];
      for (let i = 8 * n; i < 8 * n + 8; i++) [pt, pp, tt] = [pt + a[i] * b[i], pp + a[i] ** 2, tt + b[i] ** 2];
      return 1 - (2 * pt + 1) / (pp + tt + 1);
    });
    softDiceLoss(p, t, 'none').toNumbers().forEach((v, n) => assert.ok(Math.abs(v - expected[n]) < 1e-12, `${v} vs ${expected[n]}`));
    assert.ok(Math.abs(softDiceLoss(p, t, 'sum').item() - expected.reduce((x, y) => x + y)) < 1e-12);

    const mask = tensor([1, 1, 0, 1, 0, 0, 0, 0], [1, 8], 'float64');
    const other = tensor([0, 0, 1, 0, 1, 0, 0, 0], [1, 8], 'float64');
    assert.equal(softDiceLoss(mask, mask).item(), 0, 'identical masks');
    assert.ok(Math.abs(softDiceLoss(mask, other).item() - (1 - 1 / 6)) < 1e-15, 'disjoint masks: 1 − 1/(3 + 2 + 1)');
    assert.equal(softDiceLoss(zeros([2, 4], 'float64'), zeros([2, 4], 'float64')).item(), 0, 'both empty');
    assert.throws(() => softDiceLoss(mask, zeros([1, 7])), /one shape/);
  });
  assert.equal(liveTensors(), before);
});

test('Dice score of thresholded masks: 2|A∩B|/(|A|+|B|), 1 for two empty masks', () => {
  scope(() => {
    const a = tensor([0.9, 0.6, 0.7, 0.1, 0, 0, 0.2, 0.4], [2, 4]);
    const b = tensor([1, 0, 0, 0, 0, 0, 0, 0.49], [2, 4]);
    assert.deepEqual(diceScore(a, b).toNumbers(), [2 / 4, 1]);
  });
});

test('codes and reconstructions have the right shapes at 16³, 32³ and 48³', () => {
  const before = liveTensors();
  manualSeed(0);
  for (const [size, latent, width] of [[16, 8, 2], [32, 16, 2], [48, 12, 1]]) {
    const model = new ShapeAutoencoder({ size, latent, width });
    scope(() =>
      noGrad(() => {
        const x = zeros([2, 1, size, size, size]);
        const { output, probes } = model.forwardWithProbes(x, ['latent']);
        assert.deepEqual(probes.get('latent')!.shape, [2, latent]);
        assert.deepEqual(output.shape, [2, 1, size, size, size]);
        assert.ok(output.gt(0).logicalAnd(output.lt(1)).all().item(), 'sigmoid output in (0, 1)');
        assert.deepEqual(model.decode(model.encode(x)).shape, [2, 1, size, size, size]);
      })
    );
    const names = model.namedParameters().map(([n]) => n);
    assert.ok(names.includes('encoder_blocks.3.conv2.weight') && names.includes('decoder_blocks.0.conv1.bias') && names.includes('up.3.weight'), names.join());
    assert.deepEqual(model.toLatent.weight.shape, [latent, 8 * width, size / 16, size / 16, size / 16]);
    model.dispose();
  }
  assert.throws(() => new ShapeAutoencoder({ size: 40, latent: 8 }), /multiple of 16, got 40/);
  const model = new ShapeAutoencoder({ size: 16, latent: 8, width: 1 });
  assert.throws(() => scope(() => model.forward(zeros([1, 1, 16, 16, 8]))), /takes \[N, 1, 16, 16, 16\], got \[1,1,16,16,8\]/);
  assert.throws(() => scope(() => model.decode(zeros([1, 4]))), /codes must be \[N, 8\]/);
  model.dispose();
  assert.equal(liveTensors(), before);
});

test('a few Adam steps on synthetic shapes lower the soft Dice loss, without leaking tensors', () => {
  manualSeed(1);
  const model = new ShapeAutoencoder({ size: 16, latent: 8, width: 4 });
  const opt = new Adam(model.parameters(), { lr: 3e-3 });
  const x = shapeBatch(generateShapes({ seed: 2, subjects: 1, scans: 1, size: 16 }));
  const before = liveTensors();
  const losses: number[] = [];
  for (let step = 0; step < 25; step++) {
    losses.push(autoencoderStep(model, opt, x));
    if (step === 1) assert.equal(liveTensors(), before + 2 * model.parameters().length, 'only the Adam moments are new');
  }
  assert.equal(liveTensors(), before + 2 * model.parameters().length);
  const [first, last] = [losses[0], Math.min(...losses.slice(-3))];
  assert.ok(last < 0.75 * first, `loss ${first.toFixed(3)} → ${last.toFixed(3)}: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  opt.dispose();
  model.dispose();
  x.dispose();
});

test('PyTorch with the same weights gives the same codes, reconstructions, loss and gradients', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dltheory-shape-ae-'));
  manualSeed(3);
  const model = new ShapeAutoencoder({ size: 32, latent: 12, width: 2 });
  const x = shapeBatch(generateShapes({ seed: 4, subjects: 1, scans: 1, size: 32, families: ['tube', 'comma'] }));
  try {
    writeSafetensors(join(dir, 'ae.safetensors'), Object.fromEntries([...model.stateDict()].map(([k, v]) => [k, toRaw(v)])), { 'dltheory.model': 'shape-ae' });
    writeNpy(join(dir, 'x.npy'), toRaw(x));
    const ref = await runPython<{ loss: number }>('shape_ae_torch.py', ['--model', join(dir, 'ae.safetensors'), '--input', join(dir, 'x.npy'), '--out', dir],
      'python3-torch');
    if ('error' in ref && /no (torch|numpy) module/.test(ref.error)) return t.skip(ref.error);
    assert.ok(!('error' in ref), 'error' in ref ? ref.error : '');
    const close = (ours: ArrayLike<number>, theirs: ArrayLike<number>, what: string, tol: number, floor = 0) => {
      const scale = Math.max(floor, ...Array.from(theirs, Math.abs));
      for (let i = 0; i < theirs.length; i++) assert.ok(Math.abs(ours[i] - theirs[i]) <= tol * scale, `${what}[${i}]: ${ours[i]} vs ${theirs[i]}`);
    };
    scope(() => {
      const codes = model.encode(x);
      const output = model.decode(codes);
      const loss = softDiceLoss(output, x);
      loss.backward();
      // float32 through a dozen conv and norm layers on both sides, in other summation orders.
      close(codes.toArray() as Float32Array, readNpy(join(dir, 'codes.npy')).data as Float32Array, 'codes', roundOff('float32', 100));
      close(output.toArray() as Float32Array, readNpy(join(dir, 'output.npy')).data as Float32Array, 'output', roundOff('float32', 100));
      assert.ok(Math.abs(loss.item() - ref.loss) <= roundOff('float32', 32, Math.abs(ref.loss)), `loss ${loss.item()} vs ${ref.loss}`);
      const theirs = new Map(model.namedParameters().map(([name]) => [name, readNpy(join(dir, `grad.${name}.npy`)).data as Float32Array]));
      // A bias just before an instance norm has a zero gradient up to rounding, so each gradient is
      // compared on the scale of the largest one in the model.
      const largest = Math.max(...[...theirs.values()].map((g) => Math.max(...Array.from(g, Math.abs))));
      for (const [name, p] of model.namedParameters())
        close(p.grad!.toArray() as Float32Array, theirs.get(name)!, `grad ${name}`, roundOff('float32', 1000), 1e-2 * largest);
    });
  } finally {
    model.dispose();
    x.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
