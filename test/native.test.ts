/**
 * The native boundary: the typed interface (src/engine/native-api.ts) names exactly the addon's
 * exports, and the bindings whose results are more than one slot id return what the interface says.
 * The names are checked against the interfaces at compile time; here against the loaded addon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { N } from '../src/engine/native.js';
import { CORE_NAMES, NATIVE_NAMES, NN_NAMES, OPS_NAMES, type Slot } from '../src/engine/native-api.js';

const exported = Object.keys(N);

test('the interface names every export of the addon, and nothing else', () => {
  assert.equal(new Set(NATIVE_NAMES).size, NATIVE_NAMES.length, 'a name is listed twice');
  const listed = new Set<string>(NATIVE_NAMES);
  const present = new Set(exported);
  assert.deepEqual(exported.filter((n) => !listed.has(n)), [], 'exported by the addon but missing from NativeApi');
  assert.deepEqual(NATIVE_NAMES.filter((n) => !present.has(n)), [], 'in NativeApi but not exported by the addon');
  for (const n of exported) assert.equal(typeof (N as unknown as Record<string, unknown>)[n], 'function', n);
});

test('each group of the interface is one C++ file’s registrations', () => {
  // The addon registers core.cc's bindings, then ops.cc's, then nn.cc's (Init in core.cc), and
  // Object.keys keeps that order.
  let at = 0;
  for (const [file, names] of [['core.cc', CORE_NAMES], ['ops.cc', OPS_NAMES], ['nn.cc', NN_NAMES]] as const) {
    const registered = exported.slice(at, at + names.length);
    assert.deepEqual([...registered].sort(), [...names].sort(), `${file}'s bindings`);
    at += names.length;
  }
});

test('results beyond one slot id have the types the interface gives them', () => {
  const before = N.liveTensors();
  const owned: Slot[] = [];
  const own = (id: Slot): Slot => {
    owned.push(id);
    return id;
  };
  const ownAll = (ids: readonly Slot[]): void => void owned.push(...ids.filter((id) => id >= 0));
  const isSlot = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  try {
    const a = own(N.fromBuffer(Float64Array.from([4, 1, 1, 3]), [2, 2], 'float64'));
    assert.deepEqual(N.shape(a), [2, 2]);
    assert.equal(N.dtype(a), 'float64');
    assert.equal(typeof N.device(a), 'string');
    assert.ok(N.toArray(a) instanceof Float64Array);
    assert.ok(N.toArray(own(N.zeros([2], 'int64'))) instanceof BigInt64Array);
    assert.ok(N.toArray(own(N.gtScalar(a, 2))) instanceof Uint8Array);
    assert.equal(N.item(own(N.sum(a, null, false))), 9);
    assert.equal(typeof N.requiresGrad(a), 'boolean');

    for (const [name, r, n] of [
      ['maxDim', N.maxDim(a, 0, false), 2],
      ['minDim', N.minDim(a, 0, false), 2],
      ['sort', N.sort(a, -1, false), 2],
      ['topk', N.topk(a, 1, -1, true, true), 2],
      ['split', N.split(a, [1, 1], 0), 2],
      ['eigh', N.eigh(a), 2],
      ['svd', N.svd(a, false), 3],
      ['lstsq', N.lstsq(a, a), 4],
      ['qr', N.qr(a), 2],
    ] as const) {
      ownAll(r);
      assert.equal(r.length, n, `${name} gives ${n} slots`);
      assert.ok(r.every(isSlot), `${name} gives slot ids`);
    }

    // −1 stands for "none", both ways.
    const x = own(N.fromBuffer(Float32Array.from([1, 2]), [2], 'float32'));
    const y = own(N.fromBuffer(Float32Array.from([3]), [1], 'float32'));
    N.setRequiresGrad(x, true);
    N.setRequiresGrad(y, true);
    assert.equal(N.grad(x), -1);
    const loss = own(N.sum(own(N.square(x)), null, false));
    const grads = N.autogradGrad([loss], [x, y], [], true, false, true);
    ownAll(grads);
    assert.equal(grads.length, 2);
    assert.ok(isSlot(grads[0]));
    assert.equal(grads[1], -1, 'an unused input');
    assert.deepEqual(Array.from(N.toArray(grads[0]) as Float32Array), [2, 4]);
    N.backward(loss, -1, false, false);
    const g = own(N.grad(x));
    assert.ok(isSlot(g));
    N.setGrad(x, -1);
    assert.equal(N.grad(x), -1);
    assert.equal(N.item(own(N.linear(own(N.reshape(x, [1, 2])), own(N.reshape(x, [1, 2])), -1))), 5, 'no bias');

    const prev = N.setGradEnabled(false);
    assert.equal(typeof prev, 'boolean');
    assert.equal(N.setGradEnabled(prev), false, 'setGradEnabled returns the previous setting');
  } finally {
    for (const id of owned) N.free(id);
  }
  assert.equal(N.liveTensors(), before, 'every slot made here is freed');
});
