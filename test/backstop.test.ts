/**
 * The garbage-collector backstop: tensors a caller forgets to dispose are still freed once V8
 * collects their handles, because native sizes reach V8 (in steps of 256 MiB, native/core.cc) and
 * push it to collect. No gc() here: V8 must decide on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { liveTensors, randn } from '../src/engine/index.js';

test('forgotten tensors are freed by the collector without gc() or dispose', async () => {
  const before = liveTensors();
  // 150 forgotten tensors of 8 MiB, 1.2 GiB in all; the loop yields so finalizers can run.
  for (let i = 0; i < 150; i++) {
    randn([1024, 2048]);
    await tick();
  }
  for (let i = 0; i < 20; i++) await tick();
  const left = liveTensors() - before;
  assert.ok(left < 100, `${left} of 150 forgotten tensors still alive`);
});
