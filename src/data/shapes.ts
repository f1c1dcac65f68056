/**
 * Synthetic brain-structure-like shapes for the shape lab (docs/papers.md §6, Yu & Sabuncu 2018), since
 * no real segmentations ship with the package. Four families, each an implicit surface f(q) = 0
 * (f < 0 inside, f ≈ signed distance) in the canonical frame, in units of the cube's half-side:
 * - ellipsoid: semi-axes a, b, c;
 * - tube (hippocampus-like): a tube around a circular arc (radius R, angle φ) in the xy-plane whose
 *   radius tapers from r0 at one end to r1 at the other;
 * - comma (caudate-like): a strongly tapered arc tube with a ball (radius rh) for a head;
 * - lens: the intersection of two balls, half-width w (x), aspect (y / x) and half-thickness t (z).
 * Each subject draws its own parameters; each scan of it a pose p = A·q + s (A a rotation, times
 * per-axis scales for an affine pose) and boundary noise: a voxel at p is inside when
 * f(A⁻¹(p − s)) + n(p) < 0, n a sum of 12 plane waves of random direction, wavelength and phase.
 * So every subject has scan–rescan pairs that differ by a known pose and by noise. Voxel i of a
 * size-S cube sits at (2i + 1)/S − 1, gridSample's alignCorners=false convention, so `unpose` is
 * one affine grid.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { check, InputError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { toCsv } from '../io/csv.js';
import { affineGrid, gridSample } from '../engine/sampling.js';
import { scope, stack, tensor, type Tensor } from '../engine/index.js';
import { Rng } from './rng.js';
import { niftiHeader, writeNifti } from './nifti.js';

export type ShapeFamily = 'ellipsoid' | 'tube' | 'comma' | 'lens';
export const SHAPE_FAMILIES: readonly ShapeFamily[] = ['ellipsoid', 'tube', 'comma', 'lens'];

/** Each family's parameters and the range a subject's value is drawn from (uniformly). */
const RANGES: Readonly<Record<ShapeFamily, Record<string, [number, number]>>> = {
  ellipsoid: { a: [0.5, 0.72], b: [0.35, 0.55], c: [0.25, 0.4] },
  tube: { R: [0.45, 0.6], phi: [1.5, 2.2], r0: [0.17, 0.25], r1: [0.09, 0.14] },
  comma: { R: [0.3, 0.42], phi: [2.4, 3.3], rh: [0.22, 0.3], r0: [0.13, 0.17], r1: [0.05, 0.07] },
  lens: { w: [0.5, 0.72], aspect: [0.6, 1], t: [0.15, 0.26] },
};

type Vec = [number, number, number];
// Math.hypot is several times slower, and this runs for every voxel of every scan.
const norm = (x: number, y: number, z: number) => Math.sqrt(x * x + y * y + z * z);

/** Distance from q to an arc of radius R over angles ±φ/2 (shifted so its extent along y is centred), and where along it (0 → 1). */
function arc(q: Vec, R: number, phi: number): { d: number; u: number } {
  const c = (R * (1 + Math.cos(phi / 2))) / 2;
  const theta = Math.min(phi / 2, Math.max(-phi / 2, Math.atan2(q[0], q[1] + c)));
  const d = norm(q[0] - R * Math.sin(theta), q[1] + c - R * Math.cos(theta), q[2]);
  return { d, u: theta / phi + 0.5 };
}

/** The family's implicit function at q: negative inside, about the distance to the surface. */
function implicit(family: ShapeFamily, p: Record<string, number>, q: Vec): number {
  switch (family) {
    case 'ellipsoid': {
      // k0(k0 − 1)/k1 is close to the true distance near the surface, so noise moves every part of
      // the boundary alike (the plain (k0 − 1)·min axis would move the long ends several times more).
      const k0 = norm(q[0] / p.a, q[1] / p.b, q[2] / p.c);
      const k1 = norm(q[0] / p.a ** 2, q[1] / p.b ** 2, q[2] / p.c ** 2);
      return k1 === 0 ? -Math.min(p.a, p.b, p.c) : (k0 * (k0 - 1)) / k1;
    }
    case 'tube': {
      const { d, u } = arc(q, p.R, p.phi);
      return d - (p.r0 + (p.r1 - p.r0) * u);
    }
    case 'comma': {
      const { d, u } = arc(q, p.R, p.phi);
      const c = (p.R * (1 + Math.cos(p.phi / 2))) / 2;
      const head = norm(q[0] + p.R * Math.sin(p.phi / 2), q[1] + c - p.R * Math.cos(p.phi / 2), q[2]) - p.rh;
      return Math.min(head, d - (p.r0 + (p.r1 - p.r0) * u));
    }
    case 'lens': {
      const radius = (p.w * p.w + p.t * p.t) / (2 * p.t);
      const y = q[1] / p.aspect;
      const dz = radius - p.t;
      return Math.max(norm(q[0], y, q[2] - dz), norm(q[0], y, q[2] + dz)) - radius;
    }
  }
}

/**
 * A scan's pose: p = matrix·q + shift, matrix = R(axis, angle)·diag(scale), row-major, in the cube's
 * coordinates [−1, 1]³ whose x, y, z run along the NIfTI file's i, j, k axes.
 */
export interface Pose {
  axis: number[];
  /** Radians. */
  angle: number;
  scale: number[];
  shift: number[];
  matrix: number[];
}

/** The pose of a rotation by `angle` about the unit `axis`, then scales and shift (Rodrigues' formula). */
export function makePose(axis: number[], angle: number, shift: number[] = [0, 0, 0], scale: number[] = [1, 1, 1]): Pose {
  const length = Math.sqrt(axis.reduce((a, v) => a + v * v, 0));
  check(axis.length === 3 && length > 0, () => `a rotation axis must be a non-zero 3-vector, got [${axis}]`);
  check(shift.length === 3 && scale.length === 3 && scale.every((v) => v > 0), 'a pose needs 3 shifts and 3 positive scales');
  const [x, y, z] = axis.map((v) => v / length);
  const [c, s, k] = [Math.cos(angle), Math.sin(angle), 1 - Math.cos(angle)];
  const r = [
    [c + x * x * k, x * y * k - z * s, x * z * k + y * s],
    [y * x * k + z * s, c + y * y * k, y * z * k - x * s],
    [z * x * k - y * s, z * y * k + x * s, c + z * z * k],
  ];
  return { axis, angle, scale, shift, matrix: r.flatMap((row) => row.map((v, j) => v * scale[j])) };
}

/** Options of generateShapes; lengths are in units of the cube's half-side. */
export interface ShapeSetOptions {
  seed: number;
  /** Subjects per family. */
  subjects: number;
  /** Scans per subject (default 2: scan–rescan pairs). */
  scans?: number;
  /** Cube side in voxels (default 32). */
  size?: number;
  families?: readonly ShapeFamily[];
  /** Largest rotation angle in degrees, about a uniformly random axis (default 15; 180 for any orientation). */
  maxRotation?: number;
  /** Largest shift along each axis (default 0.05). */
  maxShift?: number;
  /** Affine poses: each axis scaled by exp(U(−j, j)) (default 0: rigid). */
  scaleJitter?: number;
  /** Standard deviation of the boundary noise (default 0.02, a third of a voxel at 32³). */
  noise?: number;
}

/** One scan: who it is, how it was made, and its mask (size³ bytes 0/1, x fastest as in NIfTI). */
export interface ShapeScan {
  subject: number;
  family: ShapeFamily;
  scan: number;
  params: Record<string, number>;
  pose: Pose;
  mask: Uint8Array;
}

const NOISE_WAVES = 12;

/** Plane waves sin(k·p + phase) of random direction, wavelength and phase for the boundary noise. */
function drawWaves(rng: Rng): { k: Vec; phase: number }[] {
  return Array.from({ length: NOISE_WAVES }, () => {
    const [u, v] = [2 * rng.uniform() - 1, 2 * Math.PI * rng.uniform()];
    // Wavelengths of 0.25 to 0.5 half-sides: bumps smaller than the structures, so the noise moves
    // the boundary in and out rather than dilating or eroding a whole (thin) shape.
    const w = 4 * Math.PI * (1 + rng.uniform());
    const h = Math.sqrt(1 - u * u);
    return { k: [w * h * Math.cos(v), w * h * Math.sin(v), w * u], phase: 2 * Math.PI * rng.uniform() };
  });
}

/** The mask of a shape under `pose`, with boundary noise of standard deviation `noise.std` drawn from `noise.rng`. */
export function renderShape(family: ShapeFamily, params: Record<string, number>, pose: Pose, size: number, noise?: { std: number; rng: Rng }): Uint8Array {
  check(SHAPE_FAMILIES.includes(family), () => `unknown shape family ${JSON.stringify(family)} (${SHAPE_FAMILIES.join(', ')})`);
  const waves = noise && noise.std > 0 ? drawWaves(noise.rng) : [];
  // A sum of NOISE_WAVES unit sines with independent phases has variance NOISE_WAVES / 2.
  const amplitude = (noise?.std ?? 0) / Math.sqrt(NOISE_WAVES / 2);
  const m = pose.matrix;
  const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  // A⁻¹ = adj(A)/det(A), rows.
  const inv = [
    m[4] * m[8] - m[5] * m[7],
    m[2] * m[7] - m[1] * m[8],
    m[1] * m[5] - m[2] * m[4],
    m[5] * m[6] - m[3] * m[8],
    m[0] * m[8] - m[2] * m[6],
    m[2] * m[3] - m[0] * m[5],
    m[3] * m[7] - m[4] * m[6],
    m[1] * m[6] - m[0] * m[7],
    m[0] * m[4] - m[1] * m[3],
  ].map((v) => v / det);
  const coord = Float64Array.from({ length: size }, (_, i) => (2 * i + 1) / size - 1);
  // sin(kₓx + θ) = sin(kₓx)·cos θ + cos(kₓx)·sin θ with θ = k_y·y + k_z·z + phase fixed along a row:
  // two multiply-adds per wave and voxel instead of a sine.
  const sinX = waves.map(({ k }) => coord.map((c) => Math.sin(k[0] * c)));
  const cosX = waves.map(({ k }) => coord.map((c) => Math.cos(k[0] * c)));
  const [sinRow, cosRow] = [new Float64Array(waves.length), new Float64Array(waves.length)];
  const mask = new Uint8Array(size ** 3);
  const q: Vec = [0, 0, 0];
  for (let z = 0, i = 0; z < size; z++) {
    for (let y = 0; y < size; y++) {
      waves.forEach(({ k, phase }, w) => {
        sinRow[w] = Math.sin(k[1] * coord[y] + k[2] * coord[z] + phase);
        cosRow[w] = Math.cos(k[1] * coord[y] + k[2] * coord[z] + phase);
      });
      const [py, pz] = [coord[y] - pose.shift[1], coord[z] - pose.shift[2]];
      for (let x = 0; x < size; x++, i++) {
        const px = coord[x] - pose.shift[0];
        for (let r = 0; r < 3; r++) q[r] = inv[3 * r] * px + inv[3 * r + 1] * py + inv[3 * r + 2] * pz;
        let n = 0;
        for (let w = 0; w < waves.length; w++) n += sinX[w][x] * cosRow[w] + cosX[w][x] * sinRow[w];
        mask[i] = implicit(family, params, q) + amplitude * n < 0 ? 1 : 0;
      }
    }
  }
  return mask;
}

function randomPose(rng: Rng, maxRotation: number, maxShift: number, scaleJitter: number): Pose {
  const u = 2 * rng.uniform() - 1;
  const v = 2 * Math.PI * rng.uniform();
  const axis = [Math.sqrt(1 - u * u) * Math.cos(v), Math.sqrt(1 - u * u) * Math.sin(v), u];
  const angle = ((maxRotation * Math.PI) / 180) * rng.uniform();
  const shift = [0, 1, 2].map(() => maxShift * (2 * rng.uniform() - 1));
  const scale = [0, 1, 2].map(() => Math.exp(scaleJitter * (2 * rng.uniform() - 1)));
  return makePose(axis, angle, shift, scale);
}

/**
 * `subjects` subjects per family, `scans` scans each, in family, subject, scan order (subject ids
 * run over all families). Deterministic in the seed; a subject's parameters do not depend on how
 * many scans are drawn.
 */
export function generateShapes(o: ShapeSetOptions): ShapeScan[] {
  const { subjects, scans = 2, size = 32, families = SHAPE_FAMILIES, maxRotation = 15, maxShift = 0.05, scaleJitter = 0, noise = 0.02 } = o;
  check(Number.isInteger(subjects) && subjects >= 1, () => `subjects must be an integer >= 1, got ${subjects}`);
  check(Number.isInteger(scans) && scans >= 1, () => `scans must be an integer >= 1, got ${scans}`);
  check(Number.isInteger(size) && size >= 8 && size <= 256, () => `size must be an integer in [8, 256], got ${size}`);
  check(families.length > 0 && families.every((f) => SHAPE_FAMILIES.includes(f)),
    () => `families must be among ${SHAPE_FAMILIES.join(', ')}, got ${families.join(', ')}`);
  check(maxRotation >= 0 && maxRotation <= 180, () => `maxRotation must be in [0, 180] degrees, got ${maxRotation}`);
  check(maxShift >= 0 && maxShift <= 0.2, () => `maxShift must be in [0, 0.2], got ${maxShift}`);
  check(scaleJitter >= 0 && scaleJitter <= 0.2, () => `scaleJitter must be in [0, 0.2], got ${scaleJitter}`);
  check(noise >= 0 && noise <= 0.1, () => `noise must be in [0, 0.1], got ${noise}`);
  const rng = new Rng(o.seed);
  const out: ShapeScan[] = [];
  let subject = 0;
  for (const family of families) {
    for (let s = 0; s < subjects; s++, subject++) {
      const params = Object.fromEntries(Object.entries(RANGES[family]).map(([name, [lo, hi]]) => [name, lo + (hi - lo) * rng.uniform()]));
      const scanRng = new Rng(rng.nextUint32());
      for (let scan = 0; scan < scans; scan++) {
        const pose = randomPose(scanRng, maxRotation, maxShift, scaleJitter);
        out.push({ subject, family, scan, params, pose, mask: renderShape(family, params, pose, size, { std: noise, rng: scanRng }) });
      }
    }
  }
  return out;
}

/** Scans as one float32 batch [N, 1, S, S, S] for a 3-D network. */
export function shapeBatch(scans: readonly ShapeScan[]): Tensor {
  check(scans.length > 0, 'no scans');
  const size = Math.round(Math.cbrt(scans[0].mask.length));
  return scope(() => stack(scans.map((s) => tensor(s.mask, [1, size, size, size], 'float32'))));
}

/** Resamples masks [N, 1, S, S, S] posed by `poses` back into the canonical frame (trilinear, threshold 0.5). */
export function unpose(masks: Tensor, poses: readonly Pose[]): Tensor {
  check(masks.ndim === 5 && masks.size(0) === poses.length, () => `unpose needs [N, 1, S, S, S] masks and N poses, got [${masks.shape}] and ${poses.length}`);
  return scope(() => {
    const theta = poses.flatMap((p) => [0, 1, 2].flatMap((r) => [...p.matrix.slice(3 * r, 3 * r + 3), p.shift[r]]));
    const grid = affineGrid(tensor(theta, [poses.length, 3, 4], 'float32'), masks.shape);
    return gridSample(masks.float(), grid).ge(0.5).float();
  });
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * Writes each scan as FAMILY-subNNN-scanK.nii.gz (uint8, 1 mm voxels) into `dir`, with
 * manifest.json (everything, the pose matrix included) and manifest.csv (one row a scan).
 */
export function writeShapeSet(dir: string, scans: readonly ShapeScan[]): string[] {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new InputError(`${dir}: cannot create the folder: ${(err as Error).message.split('\n')[0]}`);
  }
  const width = Math.max(3, String(Math.max(...scans.map((s) => s.subject))).length);
  const manifest = scans.map(({ subject, family, scan, params, pose, mask }) => {
    const file = `${family}-sub${String(subject).padStart(width, '0')}-scan${scan}.nii.gz`;
    const size = Math.round(Math.cbrt(mask.length));
    writeNifti(join(dir, file), { header: { ...niftiHeader([size, size, size]), descrip: `dltheory ${family} subject ${subject} scan ${scan}` }, data: mask });
    return {
      file,
      subject,
      family,
      scan,
      voxels: mask.reduce((a, v) => a + v, 0),
      params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, round(v)])),
      pose: { axis: pose.axis.map(round), angleDegrees: round((pose.angle * 180) / Math.PI), scale: pose.scale.map(round), shift: pose.shift.map(round),
        matrix: pose.matrix.map(round) },
    };
  });
  writeFileAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  const columns = ['file', 'subject', 'family', 'scan', 'voxels', 'angle_deg', 'axis_x', 'axis_y', 'axis_z', 'shift_x', 'shift_y', 'shift_z', 'scale_x',
    'scale_y', 'scale_z', 'params'];
  writeFileAtomic(join(dir, 'manifest.csv'), toCsv(columns, manifest.map((m) => [
    m.file,
    m.subject,
    m.family,
    m.scan,
    m.voxels,
    m.pose.angleDegrees,
    ...m.pose.axis,
    ...m.pose.shift,
    ...m.pose.scale,
    JSON.stringify(m.params),
  ])));
  return manifest.map((m) => m.file);
}
