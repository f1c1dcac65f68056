// `dltheory shapes` end to end on a tiny generated set (16³): generate, train with and without the
// front end, encode to CSV and NPY (the same codes), reconstruct, retrieve; train --moments with
// checkpoints and --resume (the checkpoint's weights and losses come back); and bad input — a file
// that is not NIfTI, a truncated one, bad arguments — exiting with code 2 and one line on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readNpy } from '../src/data/npy.js';
import { readNifti } from '../src/data/nifti.js';
import { readWeights } from '../src/nn/serialize.js';
import { cliRunner } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'dltheory-shapes-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const { cli, rejects } = cliRunner(['shapes']);
const path = (name: string) => join(dir, name);
const ok = (...args: string[]) => {
  const r = cli(...args);
  assert.equal(r.code, 0, `dltheory shapes ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const set = path('set');
const tiny = ['--size', '16', '--latent', '4', '--width', '2', '--steps', '3', '--batch', '4', '--data', set];
ok('generate', '--out', set, '--subjects', '1', '--size', '16', '--seed', '3');
const manifest = JSON.parse(readFileSync(join(set, 'manifest.json'), 'utf8')) as { file: string; subject: number }[];
const files = manifest.map((m) => join(set, m.file));

test('generate writes two scans per subject and family, with the manifest', () => {
  assert.equal(manifest.length, 8);
  assert.deepEqual(manifest.map((m) => m.subject), [0, 0, 1, 1, 2, 2, 3, 3]);
  assert.deepEqual(readNifti(files[0]).header.dim.slice(0, 4), [3, 16, 16, 16]);
});

test('train, encode (CSV and NPY agree), reconstruct and retrieve', () => {
  const model = path('m.safetensors');
  const trained = JSON.parse(ok('train', ...tiny, '--out', model, '--json'));
  assert.equal(trained.volumes, 8);
  assert.ok(Number.isFinite(trained.finalLoss) && trained.finalLoss > 0 && trained.finalLoss < 1, `${trained.finalLoss}`);
  ok('encode', '--model', model, '--data', set, '--out', path('codes.csv'));
  ok('encode', '--model', model, '--data', set, '--out', path('codes.npy'));
  const lines = readFileSync(path('codes.csv'), 'utf8').trim().split(/\r?\n/);
  assert.equal(lines[0], 'file,code_0,code_1,code_2,code_3');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), [...manifest.map((m) => m.file)].sort());
  const npy = readNpy(path('codes.npy'));
  assert.deepEqual(npy.shape, [8, 4]);
  const csv = lines.slice(1).flatMap((l) => l.split(',').slice(1).map(Number));
  Array.from(npy.data as Float64Array).forEach((v, i) => assert.ok(Math.abs(v - csv[i]) <= 1e-6 * Math.max(1, Math.abs(v)), `code ${i}: ${v} vs ${csv[i]}`));

  const rec = JSON.parse(ok('reconstruct', '--model', model, '--input', files[0], '--out', path('r.nii.gz'), '--json'));
  assert.ok(rec.dice >= 0 && rec.dice <= 1);
  assert.deepEqual(readNifti(path('r.nii.gz')).header.dim.slice(0, 4), [3, 16, 16, 16]);

  const ranked = JSON.parse(ok('retrieve', '--model', model, '--query', files[0], '--gallery', set, '--top', '3', '--json'));
  assert.equal(ranked[0].matches.length, 3);
  assert.ok(ranked[0].matches.every((m: { file: string }) => m.file !== files[0]), 'a query is not its own match');
  const d = ranked[0].matches.map((m: { distance: number }) => m.distance);
  assert.deepEqual(d, [...d].sort((a, b) => a - b));
});

test('train with the rigid front end; the saved model reconstructs in the aligned frame', () => {
  const model = path('aligned.safetensors');
  ok('train', ...tiny, '--align', 'rigid', '--align-steps', '2', '--out', model);
  assert.match(ok('reconstruct', '--model', model, '--input', files[1], '--out', path('a.nii')), /in the aligned frame\); Dice with the input/);
});

test('train --moments writes a checkpoint that --resume continues (here: already finished, so the same model)', () => {
  const [first, second] = [path('ck1.safetensors'), path('ck2.safetensors')];
  const args = [...tiny, '--moments', '--align', 'rigid', '--align-steps', '2', '--schedule', 'cosine', '--warmup', '1', '--checkpoint-every', '1'];
  const a = JSON.parse(ok('train', ...args, '--out', first, '--json'));
  assert.equal(a.moments, true);
  const b = JSON.parse(ok('train', ...args, '--resume', first, '--out', second, '--json'));
  assert.equal(b.finalLoss, a.finalLoss, 'the losses come from the checkpoint');
  const [wa, wb] = [first, second].map((m) => Object.entries(readWeights(m).tensors).filter(([k]) => !k.startsWith('opt.')));
  assert.ok(wa.length > 0);
  assert.deepEqual(wb, wa, 'the resumed model is the checkpoint');
  rejects(['train', ...args, '--lr', '0.01', '--resume', first, '--out', path('ck3.safetensors')], /ck1\.safetensors: written with other training options/);
  rejects(['train', ...args, '--resume', path('nothing.safetensors'), '--out', path('ck3.safetensors')], /nothing\.safetensors: cannot read/);
  rejects(['train', ...args, '--schedule', 'linear', '--out', path('ck3.safetensors')], /--schedule must be one of cosine, constant/);
  rejects(['train', ...args, '--warmup', '-1', '--out', path('ck3.safetensors')], /--warmup must be an integer ≥ 0 and ≤ /);
  rejects(['train', ...args, '--warmup', '1000', '--out', path('ck3.safetensors')], /--warmup must be an integer ≥ 0 and ≤ /);
  rejects(['train', ...args, '--checkpoint-every', '0', '--out', path('ck3.safetensors')], /--checkpoint-every must be an integer ≥ 1/);
});

test('bad input: not NIfTI, truncated, bad arguments → exit code 2 and one line', () => {
  writeFileSync(path('junk.nii'), 'this is not a NIfTI file');
  const gz = readFileSync(files[0]);
  writeFileSync(path('cut.nii.gz'), gz.subarray(0, gz.length >> 1));
  const raw = gunzipSync(gz);
  writeFileSync(path('cut.nii'), raw.subarray(0, raw.length - 100));
  rejects(['train', ...tiny.slice(0, -2), '--data', path('junk.nii'), '--out', path('x.safetensors')], /junk\.nii: not a NIfTI-1 file/);
  rejects(['encode', '--model', path('m.safetensors'), '--data', path('cut.nii.gz'), '--out', path('c.csv')], /cut\.nii\.gz: corrupt or truncated gzip/);
  rejects(['encode', '--model', path('m.safetensors'), '--data', path('cut.nii'), '--out', path('c.csv')], /cut\.nii: .*(short|truncated)/);
  rejects(['train', '--size', '20', '--data', set, '--out', path('x.safetensors')], /--size must be a multiple of 16/);
  rejects(['train', '--align', 'shear', '--data', set, '--out', path('x.safetensors')], /--align must be one of rigid, affine/);
  rejects(['encode', '--model', path('m.safetensors'), '--data', set, '--out', path('c.txt')], /--out must end in \.csv or \.npy/);
  rejects(['encode', '--model', files[0], '--data', set, '--out', path('c.csv')], /safetensors|header/);
  rejects(['generate', '--out', path('g'), '--subjects', '0'], /--subjects must be an integer ≥ 1/);
  rejects(['generate', '--out', path('g'), '--families', 'ellipsoid,blob'], /unknown family 'blob'/);
  rejects(['retrieve', '--model', path('m.safetensors'), '--query', path('missing.nii'), '--gallery', set], /missing\.nii: cannot read/);
  rejects(['frobnicate'], /expected generate, train, encode, reconstruct, retrieve/);
  rejects(['encode', '--data', set, '--out', path('c.csv')], /--model is required/);
});
