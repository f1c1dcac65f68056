/**
 * Learning-rate schedules, as functions of the epoch (0-based) and the base rate:
 * - step: η·γ^⌊epoch/every⌋ (torch StepLR);
 * - cosine: η_min + (η − η_min)(1 + cos(π·epoch/total))/2 (torch CosineAnnealingLR);
 * - constant.
 */
import { InputError } from '../../errors.js';

export type Schedule = (epoch: number, baseLr: number) => number;

export const constant: Schedule = (_e, lr) => lr;

export function stepSchedule(every: number, gamma = 0.1): Schedule {
  return (epoch, lr) => lr * gamma ** Math.floor(epoch / every);
}

export function cosineSchedule(total: number, minLr = 0): Schedule {
  return (epoch, lr) => minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(epoch, total)) / total))) / 2;
}

/** Parses `constant`, `cosine` (over `epochs`) or `step:EVERY:GAMMA`. */
export function parseSchedule(text: string, epochs: number): Schedule {
  if (text === 'constant') return constant;
  if (text === 'cosine') return cosineSchedule(epochs);
  const m = /^step:(\d+):([0-9.eE+-]+)$/.exec(text);
  if (m && Number(m[1]) >= 1 && Number.isFinite(Number(m[2])) && Number(m[2]) > 0) return stepSchedule(Number(m[1]), Number(m[2]));
  throw new InputError(`--schedule must be constant, cosine or step:EVERY:GAMMA (e.g. step:10:0.1), got '${text}'`);
}
