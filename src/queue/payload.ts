/**
 * What travels through the queue: the job a coordinator enqueues and the result a worker returns,
 * as zod schemas. Both are data, checked before use: a worker refuses a job of another payload
 * `version`, or with a field it does not know or of the wrong type; a job never names code, and
 * names data only by a built-in data set name or a path relative to the worker's data folder
 * (`dltheory worker --data-root`), with no `..` in it. The coordinator checks a result the same way
 * before anything of it reaches the run store.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { DATASET_NAMES } from '../data/sources.js';
import type { ZooCell, ZooGrid } from '../experiments/zoo.js';
import { isModelPath, type SweepGrid, type SweepRun } from '../experiments/sweep.js';
import type { EpochRecord, Metrics, RunRecord } from '../store/runs.js';

/** The payload version this code reads and writes; a change of meaning of any field bumps it. */
export const PAYLOAD_VERSION = 1;

/** A relative path of plain names (letters, digits, `.`, `_`, `-`), none of them `.` or `..`. */
function isRelativeDataPath(s: string): boolean {
  const parts = s.split('/');
  return parts.every((p) => /^[A-Za-z0-9._-]+$/.test(p) && p !== '.' && p !== '..');
}

/** A data set: a built-in name, or a path under the worker's data folder. */
export const DataRef = z.string().refine((s) => (DATASET_NAMES as readonly string[]).includes(s) || isRelativeDataPath(s), {
  message: `a data set name (${DATASET_NAMES.join(', ')}) or a relative path of plain names, without '..'`,
});

const count = z.number().int().min(1);
const finiteNonNegative = z.number().min(0).finite();

/** One grid cell, with the ranges `readGrid` allows (src/experiments/zoo.ts). */
const ZooCellSchema = z.strictObject({
  width: count,
  depth: count,
  weightDecay: finiteNonNegative,
  dropout: z.number().min(0).lt(1),
  batchNorm: z.boolean(),
  trainSize: count,
  labelNoise: z.number().min(0).max(1),
  lr: z.number().positive().finite(),
  augment: z.number().int().min(0),
  seed: z.number().int().min(0),
}) satisfies z.ZodType<ZooCell>;

/** The grid fields that train a cell and make its id (the axes stay with the coordinator). */
const ZooGridSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/),
  data: DataRef,
  dataDir: DataRef.optional(),
  arch: z.enum(['mlp', 'cnn', 'nin']),
  optimizer: z.enum(['sgd', 'adam']),
  batchSize: count,
  epochs: count,
  targetTrainAccuracy: z.number().positive(),
  quickMeasures: z.boolean().optional(),
});

export type JobGrid = z.infer<typeof ZooGridSchema>;

/** A zoo job: train and measure one cell of a grid. */
export const ZooJobSchema = z.strictObject({
  version: z.literal(PAYLOAD_VERSION),
  kind: z.literal('zoo'),
  grid: ZooGridSchema,
  cell: ZooCellSchema,
});

export type ZooJob = z.infer<typeof ZooJobSchema>;

/** A model of a sweep job: a spec (no path in it), or a model file under the worker's data folder. */
const ModelRef = z.string().refine((s) => isModelPath(s) ? isRelativeDataPath(s) : /^[A-Za-z0-9:=.,_-]+$/.test(s), {
  message: "a model spec, or a relative path of plain names to a .onnx or .safetensors file, without '..'",
});

/** A sweep job: one `train` run of a sweep (src/experiments/sweep.ts). */
export const SweepJobSchema = z.strictObject({
  version: z.literal(PAYLOAD_VERSION),
  kind: z.literal('sweep'),
  grid: z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_-]+$/), data: DataRef, dataDir: DataRef.optional() }),
  run: z.strictObject({
    model: ModelRef,
    epochs: count,
    batchSize: count,
    lr: z.number().positive().finite(),
    optimizer: z.enum(['sgd', 'adam']),
    weightDecay: finiteNonNegative,
    trainSize: count.nullable(),
    labelNoise: z.number().min(0).max(1),
    seed: z.number().int().min(0),
  }) satisfies z.ZodType<SweepRun>,
});

export type SweepJob = z.infer<typeof SweepJobSchema>;
export type Job = ZooJob | SweepJob;

/** The job of one run of a sweep. */
export function sweepJob(grid: SweepGrid, run: SweepRun): SweepJob {
  const { name, data, dataDir } = grid;
  return { version: PAYLOAD_VERSION, kind: 'sweep', grid: { name, data, ...(dataDir === undefined ? {} : { dataDir }) }, run };
}

const JobSchema = z.discriminatedUnion('kind', [ZooJobSchema, SweepJobSchema]);

/** The job of one zoo cell: the grid's fields that a worker needs, and the cell. */
export function zooJob(grid: ZooGrid, cell: ZooCell): ZooJob {
  const { name, data, dataDir, arch, optimizer, batchSize, epochs, targetTrainAccuracy, quickMeasures } = grid;
  return { version: PAYLOAD_VERSION, kind: 'zoo',
    grid: { name, data, ...(dataDir === undefined ? {} : { dataDir }), arch, optimizer, batchSize, epochs, targetTrainAccuracy,
      ...(quickMeasures === undefined ? {} : { quickMeasures }) }, cell };
}

/** JSON has no NaN or ±Infinity, and an undefined measure is NaN: they travel as the strings 'NaN', 'Infinity', '-Infinity'. */
const MetricsSchema = z.record(z.string(), z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]));

/** Metrics as they travel in a result (see MetricsSchema). */
export function encodeMetrics(m: Metrics): Record<string, number | 'NaN' | 'Infinity' | '-Infinity'> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : (String(v) as 'NaN' | 'Infinity' | '-Infinity')]));
}
const RunIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);

/** A worker's result: the run as `recordRun` stored it, its epochs, and its weights file (safetensors or ONNX bytes, base64). */
export const JobResultSchema = z.strictObject({
  version: z.literal(PAYLOAD_VERSION),
  run: z.strictObject({
    id: RunIdSchema,
    kind: z.string(),
    created: z.iso.datetime(),
    spec: z.string(),
    data: z.string(),
    hparams: z.record(z.string(), z.unknown()),
    seed: z.number().int(),
    final: MetricsSchema,
    weights: z.string().nullable(),
    seconds: z.number().nullable(),
    tag: z.string().nullable(),
  }),
  epochs: z.array(z.strictObject({ epoch: z.number().int(), metrics: MetricsSchema })),
  weights: z.strictObject({ file: RunIdSchema, base64: z.base64() }).nullable(),
}) satisfies z.ZodType<{ run: RunRecord; epochs: EpochRecord[] }>;

/** A result as a worker returns it (non-finite metrics as strings), and as the coordinator reads it. */
export type JobResultWire = z.input<typeof JobResultSchema>;
export type JobResult = z.output<typeof JobResultSchema>;

/** A zod failure as one line: the first problem and where it is. */
function oneLine(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length ? issue.path.join('.') : 'the top level';
  return `${what}: ${where}: ${issue.message}`;
}

/** A job's data checked against the schema; an InputError names the first problem. */
export function parseJob(data: unknown): Job {
  const version = (data as { version?: unknown } | null)?.version;
  if (version !== PAYLOAD_VERSION) throw new InputError(`job payload version ${JSON.stringify(version)}: this worker reads version ${PAYLOAD_VERSION} only`);
  const r = JobSchema.safeParse(data);
  if (!r.success) throw new InputError(oneLine('job payload', r.error));
  const job = r.data;
  if (job.kind === 'sweep') return job;
  // zod lists an object's keys in the schema's order; the cell keeps the order it came in, which its id (cellId) and stored hyper-parameters follow.
  const cell = Object.fromEntries(Object.keys((data as ZooJob).cell).map((k) => [k, job.cell[k as keyof ZooCell]])) as unknown as ZooCell;
  return { ...job, cell };
}

/** A worker's result checked against the schema; an InputError names the first problem. */
export function parseResult(data: unknown): JobResult {
  const r = JobResultSchema.safeParse(data);
  if (!r.success) throw new InputError(oneLine('job result', r.error));
  return r.data;
}
