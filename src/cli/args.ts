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

/**
 * `--name -1` as `--name=-1` for a string option: parseArgs takes a value that starts with '-' for a
 * flag and calls it ambiguous, where the user meant a (negative) number that the option's own check
 * should judge.
 */
function joinNegativeValues(cmd: Pick<Command, 'options'>, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    if (name !== undefined && cmd.options[name]?.type === 'string' && /^-(\d|\.\d|inf)/i.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** Parses argv for a command; `--help` is handled by the caller. */
export function parse(cmd: Pick<Command, 'name' | 'options'>, argv: string[]): Parsed {
  try {
    const args = joinNegativeValues(cmd, argv);
    const r = parseArgs({ args, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
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
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isSafeInteger(n)))
    throw new InputError(
      `--${name} must be ${integer ? 'an integer' : 'a number'}${Number.isFinite(min) ? ` ≥ ${min}` : ''}${
        Number.isFinite(max) ? ` and ≤ ${max}` : ''
      }, got '${v}'`,
    );
  return n;
}

/** A string option that must be one of `choices`. */
export function choiceOpt<T extends string>(v: Value, name: string, choices: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new InputError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

/** An output file option, undefined when not given: its name must end in `ext` (.npy, .svg, …), the format it is written in. */
export function outputOpt(v: Value, name: string, ext: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v.toLowerCase().endsWith(ext))
    throw new InputError(`--${name} is written as ${ext}, so its name must end in ${ext}, got '${v}'`);
  return v;
}

/** A comma-separated list option, undefined when not given; a list with no item is an error. */
export function listOpt(v: Value, name: string): string[] | undefined {
  if (v === undefined) return undefined;
  const items = typeof v === 'string' ? v.split(',').map((p) => p.trim()).filter((p) => p !== '') : [];
  if (items.length === 0) throw new InputError(`--${name} lists nothing, got '${v}'`);
  return items;
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
    throw new InputError(
      `--${name} must be integers${Number.isFinite(min) ? ` ≥ ${min}` : ''}${Number.isFinite(max) ? ` and ≤ ${max}` : ''} separated by commas, got '${v}'`,
    );
  return out;
}
