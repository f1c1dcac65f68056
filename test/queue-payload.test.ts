// What a worker accepts from the queue, what a coordinator accepts back, the Redis URLs, and the
// queue commands' bad input: no Redis needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRIDS, gridCells } from '../src/experiments/zoo.js';
import { parseJob, parseResult, sweepJob, zooJob } from '../src/queue/payload.js';
import type { SweepGrid } from '../src/experiments/sweep.js';
import { redactedUrl, redisOptions } from '../src/queue/connection.js';
import { InputError } from '../src/errors.js';
import { cliRunner } from './cli-run.js';

const job = zooJob(GRIDS.quick, gridCells(GRIDS.quick)[5]);
const refused = (data: unknown, pattern: RegExp) => assert.throws(() => parseJob(data), (e) => e instanceof InputError && pattern.test(e.message));

test('a zoo job survives JSON and the schema unchanged, with its cell in the order its id hashes', () => {
  const back = parseJob(JSON.parse(JSON.stringify(job)));
  assert.deepEqual(back, job);
  assert.deepEqual(Object.keys(back.cell), Object.keys(gridCells(GRIDS.quick)[5]));
});

test('a job of another version, with a field the schema lacks, or of the wrong types is refused, naming the problem', () => {
  refused({ ...job, version: 2 }, /job payload version 2: this worker reads version 1 only/);
  refused({ ...job, version: undefined }, /version undefined/);
  refused(null, /version undefined/);
  refused({ ...job, script: 'rm -rf /' }, /^job payload: the top level: .*script/i);
  refused({ ...job, grid: { ...job.grid, onnx: 'model.onnx' } }, /^job payload: grid: .*onnx/i);
  refused({ ...job, kind: 'shell' }, /^job payload: kind:/);
  refused({ ...job, cell: { ...job.cell, width: '128' } }, /^job payload: cell\.width:/);
  refused({ ...job, cell: { ...job.cell, dropout: 1 } }, /^job payload: cell\.dropout:/);
  refused({ ...job, grid: { ...job.grid, epochs: 1.5 } }, /^job payload: grid\.epochs:/);
});

test('a job names data by a built-in name or a relative path without ..', () => {
  for (const data of ['mnist', 'cifar10', 'sets/points.npy', 'a/b-c_d.e']) assert.equal(parseJob({ ...job, grid: { ...job.grid, data } }).grid.data, data);
  for (const data of ['/etc/passwd', '../secret', 'sets/../../x', './x', 'a//b', '', 'C:\\x', 'a b'])
    refused({ ...job, grid: { ...job.grid, data } }, /^job payload: grid\.data: a data set name .* or a relative path/);
  refused({ ...job, grid: { ...job.grid, dataDir: '/usr/share' } }, /^job payload: grid\.dataDir:/);
});

test('a sweep job names its model by a spec or a relative path to a model file', () => {
  const sweep = sweepJob({ name: 's', data: 'mnist', axes: {} as SweepGrid['axes'] }, { model: 'mlp:784-8-10', epochs: 1, batchSize: 32, lr: 0.01,
    optimizer: 'sgd', weightDecay: 0, trainSize: null, labelNoise: 0, seed: 3 });
  assert.deepEqual(parseJob(JSON.parse(JSON.stringify(sweep))), sweep);
  for (const model of ['cnn:1x28x28-10:w=8:bn', 'nets/a.onnx', 'b.safetensors'])
    assert.equal((parseJob({ ...sweep, run: { ...sweep.run, model } }) as typeof sweep).run.model, model);
  for (const model of ['/tmp/a.onnx', '../a.onnx', 'nets/../../a.safetensors', 'a/b', 'mlp 784'])
    refused({ ...sweep, run: { ...sweep.run, model } }, /^job payload: run\.model: a model spec, or a relative path/);
  refused({ ...sweep, run: { ...sweep.run, trainSize: 0 } }, /^job payload: run\.trainSize:/);
  refused({ ...sweep, cell: job.cell }, /^job payload: the top level: .*cell/i);
});

const result = {
  version: 1,
  run: {
    id: 'zoo-a-1',
    kind: 'zoo',
    created: '2026-11-30T18:00:00.123Z',
    spec: 'mlp:784-8-10',
    data: 'mnist',
    hparams: { width: 8 },
    seed: 0,
    final: { trainAccuracy: 0.5, 'margin.q50': 'NaN', big: 'Infinity' },
    weights: 'weights/zoo-a-1.safetensors',
    seconds: 1.5,
    tag: 'zoo/a',
  },
  epochs: [{ epoch: 1, metrics: { trainLoss: 2 } }],
  weights: { file: 'zoo-a-1.safetensors', base64: Buffer.from('weights').toString('base64') },
};

test('a result carries NaN and infinite metrics as strings, and is refused when malformed', () => {
  const r = parseResult(JSON.parse(JSON.stringify(result)));
  assert.ok(Number.isNaN(r.run.final['margin.q50']));
  assert.equal(r.run.final.big, Infinity);
  const bad = (data: unknown, pattern: RegExp) => assert.throws(() => parseResult(data), (e) => e instanceof InputError && pattern.test(e.message));
  bad({ ...result, weights: { ...result.weights, file: '../../etc/cron.d/x' } }, /^job result: weights\.file:/);
  bad({ ...result, weights: { ...result.weights, base64: 'not base64!' } }, /^job result: weights\.base64:/);
  bad({ ...result, run: { ...result.run, final: { a: 'oops' } } }, /^job result: run\.final\.a:/);
  bad({ ...result, run: { ...result.run, id: '-x' } }, /^job result: run\.id:/);
  bad({ ...result, extra: 1 }, /^job result: the top level:/);
});

test('Redis URLs: host, port, database, password and TLS; a bad URL is an InputError naming it', () => {
  assert.deepEqual(redisOptions('redis://127.0.0.1:6380'), { host: '127.0.0.1', port: 6380, db: 0, maxRetriesPerRequest: null });
  const secure = redisOptions('rediss://worker:p%40ss@redis.example.org/2');
  assert.deepEqual(secure, {
    host: 'redis.example.org',
    port: 6379,
    db: 2,
    username: 'worker',
    password: 'p@ss',
    tls: { servername: 'redis.example.org' },
    maxRetriesPerRequest: null,
  });
  assert.equal(redisOptions('redis://:pw@[::1]:7000').host, '::1');
  assert.equal(redactedUrl('redis://worker:p%40ss@host:1/0'), 'redis://worker:***@host:1/0');
  for (const [url, pattern] of [['localhost:6379', /'localhost:' is not redis: or rediss:/], ['http://h:1', /'http:' is not redis:/], ['redis://h:99999',
    /not a URL/], ['redis://h/x', /database 'x'/], ['redis://h?tls=1', /query or fragment/], ['nonsense', /not a URL/]] as const)
    assert.throws(() => redisOptions(url), (e) => e instanceof InputError && pattern.test(e.message), url);
});

test('the queue commands exit 2 with one line on bad input', () => {
  const { rejects } = cliRunner();
  rejects(['worker', '--queue', 'http://localhost'], /'http:' is not redis: or rediss:/);
  rejects(['queue', 'purge', '--queue', 'redis://localhost'], /expected status, drain or retry-failed, got 'purge'/);
  rejects(['queue', 'status', '--queue', 'redis://127.0.0.1:1'], /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  rejects(['zoo', '--attempts', '2'], /--attempts applies to a zoo on a queue/);
  // A worker or a queued zoo whose Redis cannot be reached ends at once rather than retrying for ever.
  rejects(['worker', '--queue', 'redis://127.0.0.1:1'], /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED/);
  rejects(['zoo', '--grid', 'quick', '--queue', 'redis://:pw@127.0.0.1:1'], /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
});
