/**
 * Learning-rate schedules, as functions of the epoch (0-based) and the base rate:
 * - step: η·γ^⌊epoch/every⌋ (torch StepLR);
 * - cosine: η_min + (η − η_min)(1 + cos(π·epoch/total))/2 (torch CosineAnnealingLR);
 * - constant.
 */
export type Schedule = (epoch: number, baseLr: number) => number;

export const constant: Schedule = (_e, lr) => lr;

export function stepSchedule(every: number, gamma = 0.1): Schedule {
  return (epoch, lr) => lr * gamma ** Math.floor(epoch / every);
}

export function cosineSchedule(total: number, minLr = 0): Schedule {
  return (epoch, lr) => minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(epoch, total)) / total))) / 2;
}
