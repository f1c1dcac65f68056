/**
 * Argument parsing shared by the commands: node's parseArgs in strict mode, with every problem
 * (unknown flag, missing value, a number that is not one) reported as an InputError → exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../errors.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(argv: string[]): Promise<number>;
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parses argv for a command; `--help` is handled by the caller. */
export function parse(cmd: Pick<Command, 'name' | 'options'>, argv: string[]): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw new InputError(`${cmd.name}: ${(e as Error).message.split('\n')[0]}`);
  }
}

type Value = string | boolean | undefined;

/** A number option within [min, max] (integer when asked), or its default. */
export function numberOpt(v: Value, name: string, dflt: number, o: { min?: number; max?: number; integer?: boolean } = {}): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  const { min = -Infinity, max = Infinity, integer = false } = o;
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new InputError(`--${name} must be ${integer ? 'an integer' : 'a number'}${Number.isFinite(min) ? ` ≥ ${min}` : ''}${Number.isFinite(max) ? ` and ≤ ${max}` : ''}, got '${v}'`);
  return n;
}

/** A string option that must be one of `choices`. */
export function choiceOpt<T extends string>(v: Value, name: string, choices: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new InputError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

/** A required string option. */
export function required(v: Value, name: string): string {
  if (typeof v !== 'string' || v === '') throw new InputError(`--${name} is required`);
  return v;
}

/** The help text of a command. */
export function helpText(cmd: Pick<Command, 'name' | 'summary' | 'usage'>): string {
  return `dltheory ${cmd.name}: ${cmd.summary}\n\n${cmd.usage.trim()}\n`;
}

/** A comma-separated list of integers within [min, max], or its default. */
export function intListOpt(v: Value, name: string, dflt: number[], o: { min?: number; max?: number } = {}): number[] {
  if (v === undefined) return dflt;
  const parts = typeof v === 'string' ? v.split(',') : [];
  const { min = -Infinity, max = Infinity } = o;
  const out = parts.map(Number);
  if (!parts.length || parts.some((p) => p.trim() === '') || out.some((n) => !Number.isInteger(n) || n < min || n > max))
    throw new InputError(`--${name} must be integers${Number.isFinite(min) ? ` ≥ ${min}` : ''}${Number.isFinite(max) ? ` and ≤ ${max}` : ''} separated by commas, got '${v}'`);
  return out;
}
