/**
 * ExperimentCache (src/experiments/context.ts), through which claims share one experiment's result:
 * one computation per key, none kept when it fails, nothing shared between two caches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExperimentCache } from '../src/experiments/context.js';

test('a cache computes each key once, keeps nothing from a failure, and shares nothing with another cache', () => {
  const cache = new ExperimentCache();
  let calls = 0;
  const run = () => ({ n: ++calls });
  const first = cache.get('margins|a', run);
  assert.equal(cache.get('margins|a', run), first);
  assert.deepEqual(cache.get('margins|b', run), { n: 2 });
  assert.throws(() =>
    cache.get('shapes|a', () => {
      throw new Error('diverged');
    }), /diverged/);
  assert.deepEqual(cache.get('shapes|a', run), { n: 3 });
  assert.deepEqual(new ExperimentCache().get('margins|a', run), { n: 4 });
});
