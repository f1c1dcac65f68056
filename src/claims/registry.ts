/** Every claim `reproduce` knows, in the order the report lists them. */
import type { Claim } from './claim.js';
import { randomLabels } from './random-labels.js';
import { MARGIN_CLAIMS } from './margins.js';
import { marginsTrainSize } from './train-size.js';
import { measuresRanking } from './ranking.js';
import { gdvBackprop, gdvClosedForms, gdvDbnBudget, gdvDbnDepth } from './gdv.js';
import { DU_CLAIMS } from './du.js';
import { allenZhuSgd } from './allen-zhu.js';
import { NGUYEN_CLAIMS } from './nguyen.js';
import { SHAPE_CLAIMS } from './shapes.js';

export const CLAIMS: readonly Claim[] = [
  randomLabels,
  ...MARGIN_CLAIMS,
  measuresRanking,
  marginsTrainSize,
  gdvClosedForms,
  gdvDbnDepth,
  gdvDbnBudget,
  gdvBackprop,
  ...DU_CLAIMS,
  allenZhuSgd,
  ...NGUYEN_CLAIMS,
  ...SHAPE_CLAIMS,
];

/** The claims named by id or group (all when none are named); unknown names are listed in the error. */
export function selectClaims(names: string[]): Claim[] {
  if (names.length === 0) return [...CLAIMS];
  const unknown = names.filter((n) => !CLAIMS.some((c) => c.id === n || c.group === n));
  if (unknown.length) {
    const known = [...new Set(CLAIMS.flatMap((c) => [c.group, c.id]))].join(', ');
    throw new Error(`unknown claim or group: ${unknown.join(', ')} (known: ${known})`);
  }
  return CLAIMS.filter((c) => names.includes(c.id) || names.includes(c.group));
}
