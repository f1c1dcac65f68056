/**
 * A claim: one paper's conclusion in one sentence, the experiment that tests it, and a verdict by
 * a rule fixed in code before the run (`rule`, stated in words, and `judge`, which applies it).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ExperimentCache, RunContext } from '../experiments/context.js';

export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

/** The verdict of a rule without an inconclusive case. */
export const verdictOf = (holds: boolean): Verdict => (holds ? 'holds' : 'does not hold');
export type Mode = 'quick' | 'full';

/** One measured number, beside the paper's where the paper gives one. */
export interface Figure {
  name: string;
  value: number;
  paper?: number | string;
  unit?: string;
}

export interface ChartOut {
  name: string;
  title: string;
  spec: TopLevelSpec;
}

export interface Outcome {
  verdict: Verdict;
  /** Why, in one sentence with the numbers. */
  reason: string;
  figures: Figure[];
  charts: ChartOut[];
  /** Run-store ids of the trainings behind the figures. */
  runs: string[];
}

export interface ClaimResult extends Outcome {
  id: string;
  group: string;
  statement: string;
  paper: string;
  rule: string;
  mode: Mode;
  seed: number;
  seconds: number;
}

/** What a claim runs with: its experiment's seed, store and output, the mode, and the caller's cache of shared results. */
export interface ClaimContext extends RunContext {
  mode: Mode;
  cache: ExperimentCache;
}

export interface Claim {
  id: string;
  group: string;
  /** The paper's conclusion, in one sentence. */
  statement: string;
  paper: string;
  /** The verdict rule, in words; `run` applies exactly this. */
  rule: string;
  run(ctx: ClaimContext): Promise<Outcome>;
}
