/**
 * `dltheory shapes`: the shape lab of docs/papers.md §6 (Yu & Sabuncu 2018) on NIfTI segmentations —
 * generate synthetic scan–rescan sets, train the autoencoder (optionally behind the alignment front
 * end), write codes, reconstruct volumes, and rank a gallery by code distance.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stack } from '../engine/ops.js';
import { dispose, scope } from '../engine/memory.js';
import type { Tensor } from '../engine/tensor.js';
import { check, InputError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { writeNpy } from '../data/npy.js';
import { generateShapes, SHAPE_FAMILIES, writeShapeSet, type ShapeFamily } from '../data/shapes.js';
import { dims, readNifti, writeNifti } from '../data/nifti.js';
import { fitToCube, labelMask, maskVolume } from '../data/volumes.js';
import { diceScore } from '../nn/dice.js';
import { toRaw } from '../nn/serialize.js';
import { distances } from '../measures/shape-baselines.js';
import { toCsv } from '../io/csv.js';
import { formatTable } from '../report/progress.js';
import { alignShapes, encodeShapes, reconstructShapes, trainShapeModel } from '../train/shapes.js';
import { disposeShapeModel, loadShapeModel } from '../train/shape-files.js';
import { choiceOpt, numberOpt, parse, required, type Command } from './args.js';

type Values = Record<string, string | boolean | undefined>;

const isNifti = (f: string) => /\.nii(\.gz)?$/i.test(f);

/** The NIfTI files of a folder (sorted), or a comma-separated list of files. */
function listFiles(spec: string): string[] {
  let isDir = false;
  try {
    isDir = statSync(spec).isDirectory();
  } catch {
    // Not a folder: a file or a list of files, whose reading names the problem.
  }
  if (!isDir) return spec.split(',').filter((f) => f !== '');
  const files = readdirSync(spec).filter(isNifti).sort().map((f) => join(spec, f));
  check(files.length > 0, `${spec}: no .nii or .nii.gz files in the folder`);
  return files;
}

/**
 * One volume as a 0/1 mask [S, S, S] of `label` (any non-zero label if omitted): used as it is when
 * it is already S³ (as `shapes generate` writes them, so the pose and size stay), else cut to a cube
 * around the structure and resampled (fitToCube).
 */
function readShape(path: string, size: number, label?: number): Tensor {
  const volume = readNifti(path);
  const d = dims(volume.header);
  const cube = d.length >= 3 && d.slice(0, 3).every((n) => n === size);
  const mask = labelMask(volume, path, label);
  if (cube) return mask;
  try {
    return fitToCube(mask, { size, voxelSize: volume.header.pixdim.slice(1, 4).map(Math.abs) });
  } finally {
    mask.dispose();
  }
}

/** The volumes [N, 1, S, S, S] of a folder or file list, with their paths. */
function readShapes(spec: string, size: number, label?: number): { files: string[]; x: Tensor } {
  const files = listFiles(spec);
  return scope(() => ({ files, x: stack(files.map((f) => readShape(f, size, label).unsqueeze(0))) }));
}

const labelOpt = (v: Values) => (v.label === undefined ? undefined : numberOpt(v.label, 'label', 0, { integer: true, min: 1 }));

function generate(v: Values): number {
  const out = required(v.out, 'out');
  const families = typeof v.families === 'string' ? v.families.split(',') : [...SHAPE_FAMILIES];
  families.forEach((f) => check(SHAPE_FAMILIES.includes(f as ShapeFamily), () => `--families: unknown family '${f}' (${SHAPE_FAMILIES.join(', ')})`));
  const scans = generateShapes({
    seed: numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 }),
    subjects: numberOpt(v.subjects, 'subjects', 10, { integer: true, min: 1 }),
    scans: numberOpt(v.scans, 'scans', 2, { integer: true, min: 1 }),
    size: numberOpt(v.size, 'size', 32, { integer: true, min: 8, max: 256 }),
    families: families as ShapeFamily[],
    maxRotation: numberOpt(v['max-rotation'], 'max-rotation', 15, { min: 0, max: 180 }),
    maxShift: numberOpt(v['max-shift'], 'max-shift', 0.05, { min: 0, max: 0.2 }),
    scaleJitter: numberOpt(v['scale-jitter'], 'scale-jitter', 0, { min: 0, max: 0.2 }),
    noise: numberOpt(v.noise, 'noise', 0.02, { min: 0, max: 0.1 }),
  });
  writeShapeSet(out, scans);
  console.log(`wrote ${scans.length} scans (${families.length} families) and manifest.json/.csv to ${out}`);
  return 0;
}

function train(v: Values): number {
  const out = required(v.out, 'out');
  const size = numberOpt(v.size, 'size', 32, { integer: true, min: 16, max: 80 });
  check(size % 16 === 0, () => `--size must be a multiple of 16, got ${size}`);
  const align = v.align === undefined ? undefined : choiceOpt(v.align, 'align', ['rigid', 'affine'] as const, 'rigid');
  const steps = numberOpt(v.steps, 'steps', 300, { integer: true, min: 1 });
  const o = {
    size,
    align,
    moments: Boolean(v.moments),
    latent: numberOpt(v.latent, 'latent', 32, { integer: true, min: 1, max: 512 }),
    width: numberOpt(v.width, 'width', 8, { integer: true, min: 1, max: 64 }),
    steps,
    alignSteps: align ? numberOpt(v['align-steps'], 'align-steps', 200, { integer: true, min: 0 }) : 0,
    batchSize: numberOpt(v.batch, 'batch', 8, { integer: true, min: 1 }),
    lr: numberOpt(v.lr, 'lr', 3e-3, { min: 0 }),
    schedule: choiceOpt(v.schedule, 'schedule', ['cosine', 'constant'] as const, 'cosine'),
    // A warm-up as long as the run would never reach --lr nor start the decay.
    warmup: numberOpt(v.warmup, 'warmup', Math.round(0.05 * steps), { integer: true, min: 0, max: steps - 1 }),
    seed: numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 }),
  };
  check(v['align-steps'] === undefined || align, '--align-steps needs --align rigid|affine');
  const every = numberOpt(v['checkpoint-every'], 'checkpoint-every', 50, { integer: true, min: 1 });
  const resume = typeof v.resume === 'string' ? v.resume : undefined;
  const { files, x } = readShapes(required(v.data, 'data'), size, labelOpt(v));
  const template = typeof v.template === 'string'
    ? scope(() => readShape(v.template as string, size, labelOpt(v)).reshape([1, 1, size, size, size]))
    : undefined;
  try {
    const { model, losses } = trainShapeModel(x, { ...o, template, resume, checkpoint: { path: out, every }, progress: !v.json });
    disposeShapeModel(model);
    const last = losses[losses.length - 1];
    const from = resume ? `, resumed from ${resume}` : '';
    if (v.json) console.log(JSON.stringify({ out, volumes: files.length, ...o, ...(resume && { resume }), finalLoss: last }));
    else console.log(`trained on ${files.length} volumes (${o.alignSteps} front-end + ${o.steps} steps${from}), final loss ${last.toFixed(4)}; wrote ${out}`);
    return 0;
  } finally {
    dispose([x, template]);
  }
}

function encode(v: Values): number {
  const out = required(v.out, 'out');
  check(/\.(csv|npy)$/i.test(out), () => `--out must end in .csv or .npy, got '${out}'`);
  const { model } = loadShapeModel(required(v.model, 'model'));
  try {
    const { files, x } = readShapes(required(v.data, 'data'), model.ae.size, labelOpt(v));
    const codes = scope(() => encodeShapes(model, x).double());
    try {
      if (/\.npy$/i.test(out)) writeNpy(out, toRaw(codes));
      else {
        const rows = codes.toNumbers();
        const l = model.ae.latent;
        writeFileAtomic(out, toCsv(['file', ...Array.from({ length: l }, (_, j) =>
          `code_${j}`)], files.map((f, i) => [basename(f), ...rows.slice(i * l, (i + 1) * l)])));
      }
      console.log(`wrote ${files.length} codes of length ${model.ae.latent} to ${out} (rows in the order: ${files.map((f) => basename(f)).join(', ')})`);
    } finally {
      dispose([x, codes]);
    }
    return 0;
  } finally {
    disposeShapeModel(model);
  }
}

function reconstruct(v: Values): number {
  const input = required(v.input, 'input');
  const out = required(v.out, 'out');
  check(isNifti(out), () => `--out must end in .nii or .nii.gz, got '${out}'`);
  const { model } = loadShapeModel(required(v.model, 'model'));
  try {
    const dice = scope(() => {
      const x = readShape(input, model.ae.size, labelOpt(v)).reshape([1, 1, model.ae.size, model.ae.size, model.ae.size]);
      const target = alignShapes(model, x);
      const p = reconstructShapes(model, x);
      writeNifti(out, maskVolume(p.reshape(p.shape.slice(2))));
      return diceScore(p, target).item();
    });
    const frame = model.align ? ' (in the aligned frame)' : '';
    console.log(v.json ? JSON.stringify({ input, out, dice }) : `wrote ${out}${frame}; Dice with the input ${dice.toFixed(4)}`);
    return 0;
  } finally {
    disposeShapeModel(model);
  }
}

function retrieve(v: Values): number {
  const top = numberOpt(v.top, 'top', 5, { integer: true, min: 1 });
  const { model } = loadShapeModel(required(v.model, 'model'));
  try {
    const q = readShapes(required(v.query, 'query'), model.ae.size, labelOpt(v));
    const g = readShapes(required(v.gallery, 'gallery'), model.ae.size, labelOpt(v));
    let d: number[];
    try {
      d = scope(() => distances(encodeShapes(model, q.x), encodeShapes(model, g.x)).toNumbers());
    } finally {
      dispose([q.x, g.x]);
    }
    const results = q.files.map((query, i) => {
      const row = g.files.map((file, j) => ({ file, distance: d[i * g.files.length + j] })).filter((r) => r.file !== query);
      return { query, matches: row.sort((a, b) => a.distance - b.distance).slice(0, top) };
    });
    if (v.json) console.log(JSON.stringify(results));
    else console.log(
        results.map((r) => `${r.query}\n${formatTable(['rank', 'file', 'distance'], r.matches.map((m, k) => [k + 1, m.file, m.distance]))}`).join('\n\n'),
      );
    return 0;
  } finally {
    disposeShapeModel(model);
  }
}

const SUBCOMMANDS: Record<string, (v: Values) => number> = { generate, train, encode, reconstruct, retrieve };

export const shapesCommand: Command = {
  name: 'shapes',
  summary: 'shape codes of NIfTI segmentations: generate, train, encode, reconstruct, retrieve (Yu & Sabuncu 2018)',
  usage: `
dltheory shapes generate --out DIR [--subjects N] [--scans K] [--size S] [--families a,b] [--max-rotation DEG]
                         [--max-shift X] [--scale-jitter J] [--noise SD] [--seed S]
dltheory shapes train --data DIR|FILES --out MODEL.safetensors [--size 32] [--latent 32] [--width 8] [--moments]
                      [--align rigid|affine] [--align-steps 200] [--template FILE] [--steps 300] [--batch 8] [--lr 0.003]
                      [--schedule cosine|constant] [--warmup STEPS] [--checkpoint-every 50] [--resume FILE] [--seed S] [--json]
dltheory shapes encode --model MODEL --data DIR|FILES --out CODES.csv|CODES.npy
dltheory shapes reconstruct --model MODEL --input FILE --out FILE.nii.gz [--json]
dltheory shapes retrieve --model MODEL --query FILES --gallery DIR|FILES [--top 5] [--json]

  generate      synthetic scan–rescan sets (ellipsoid, tube, comma, lens), NIfTI with manifest.json/.csv;
                --subjects per family (default 10), --scans per subject (2), cube side --size (32),
                rotations up to --max-rotation degrees (15) about random axes, --scale-jitter for affine poses
  train         the autoencoder (soft Dice, Adam), behind an alignment front end with --align; the front end is
                first trained alone (--align-steps) against the template (default: the mean training volume);
                --moments normalises each volume first (centre of mass, principal axes; closed form);
                learning rate: linear warm-up over --warmup steps (default 5% of --steps), then cosine decay;
                --out is written every --checkpoint-every steps with the optimiser state, and --resume FILE
                continues such a file (same data and options) where it stopped, as if never interrupted
  encode        one code per volume, CSV (file, code_0…) or NPY [N, latent]
  reconstruct   the reconstruction as a 0/1 NIfTI volume (in the aligned frame with a front end), and its Dice
  retrieve      each query's nearest gallery volumes by Euclidean code distance (a query file is not its own match)
  DIR|FILES     a folder (its .nii and .nii.gz files, sorted) or a comma-separated list of files; volumes of
                size³ are used as they are, others are cut to a cube around the structure and resampled
  --label L     the label to take from label volumes (default: any non-zero voxel)
`,
  options: {
    out: { type: 'string' },
    subjects: { type: 'string' },
    scans: { type: 'string' },
    size: { type: 'string' },
    families: { type: 'string' },
    'max-rotation': { type: 'string' },
    'max-shift': { type: 'string' },
    'scale-jitter': { type: 'string' },
    noise: { type: 'string' },
    seed: { type: 'string' },
    data: { type: 'string' },
    latent: { type: 'string' },
    width: { type: 'string' },
    align: { type: 'string' },
    'align-steps': { type: 'string' },
    moments: { type: 'boolean' },
    schedule: { type: 'string' },
    warmup: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    resume: { type: 'string' },
    template: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    model: { type: 'string' },
    input: { type: 'string' },
    query: { type: 'string' },
    gallery: { type: 'string' },
    top: { type: 'string' },
    label: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(argv) {
    const { values, positionals: [sub, ...extra] } = parse(this, argv);
    const f = sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (!f) throw new InputError(`shapes: expected ${Object.keys(SUBCOMMANDS).join(', ')}, got '${sub ?? ''}'`);
    if (extra.length) throw new InputError(`shapes: unexpected arguments: ${extra.join(' ')}`);
    return f(values);
  },
};
