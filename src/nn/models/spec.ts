/**
 * Model spec strings: `KIND:SIZES[:OPTION…]`, one string enough to rebuild a model (it is stored in
 * safetensors metadata under `dltheory.model`).
 *   mlp:784-256-256-10[:softplus][:bn][:dropout=0.2][:init=he|ntk|allenzhu|default]
 *   resmlp:IN-M-H-OUT[:softplus][:cres=0.5]          (Du et al.'s scaled ResNet)
 *   fcnet:IN-M-H-OUT[:softplus]                      (Du et al.'s scaled fully-connected net)
 *   relu2:IN-M                                       (Du et al.'s two-layer ReLU net, fixed ±1 output)
 *   skip:IN-…-OUT:m=M                                (Nguyen et al.'s skip-to-output net, MLP trunk)
 *   skipcnn:1x28x28-10:m=M[:w=32]                    (the same with the small CNN as trunk)
 *   cnn:1x28x28-10[:w=32][:bn][:dropout=0.5][:softplus]
 *   nin:1x28x28-10[:w=16][:d=2][:bn][:dropout=0.5]   (network-in-network blocks, global average pool)
 *   resnet:3x32x32-10[:w=16]
 * Options: an activation name, a flag, or key=value.
 */
import { InputError } from '../../errors.js';
import type { Module } from '../module.js';
import { ACTIVATIONS, type Activation } from '../layers.js';
import type { Init } from '../init.js';
import { MLP } from './mlp.js';
import { ResMLP } from './resmlp.js';
import { SmallCNN } from './cnn.js';
import { NiN } from './nin.js';
import { SmallResNet } from './resnet.js';
import { TwoLayerReLU } from './twolayer.js';
import { SkipToOutput } from './skip.js';

interface Parsed {
  kind: string;
  sizes: string;
  activation?: Activation;
  flags: Set<string>;
  values: Map<string, string>;
}

function parse(spec: string): Parsed {
  const [kind, sizes, ...opts] = spec.split(':');
  if (!kind || !sizes) throw new InputError(`model spec '${spec}': expected KIND:SIZES, e.g. mlp:784-256-10`);
  const p: Parsed = { kind, sizes, flags: new Set(), values: new Map() };
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq > 0) p.values.set(o.slice(0, eq), o.slice(eq + 1));
    else if ((ACTIVATIONS as readonly string[]).includes(o)) p.activation = o as Activation;
    else p.flags.add(o);
  }
  return p;
}

function positiveInts(spec: string, text: string, sep: string): number[] {
  const v = text.split(sep).map(Number);
  if (v.some((n) => !Number.isInteger(n) || n < 1)) throw new InputError(`model spec '${spec}': '${text}' must be positive integers separated by '${sep}'`);
  return v;
}

function number(spec: string, p: Parsed, key: string, lo: number, hi: number): number | undefined {
  const raw = p.values.get(key);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < lo || v > hi) throw new InputError(`model spec '${spec}': ${key} must be a number in [${lo}, ${hi}]`);
  return v;
}

/** An integer option key=value in [lo, hi], or undefined when absent. */
function integer(spec: string, p: Parsed, key: string, lo: number, hi: number): number | undefined {
  const v = number(spec, p, key, lo, hi);
  if (v !== undefined && !Number.isInteger(v)) throw new InputError(`model spec '${spec}': ${key} must be an integer in [${lo}, ${hi}]`);
  return v;
}

function imageSizes(spec: string, sizes: string): { shape: number[]; classes: number } {
  const [shape, classes] = sizes.split('-');
  const dims = positiveInts(spec, shape ?? '', 'x');
  if (dims.length !== 3 || dims[1] !== dims[2]) throw new InputError(`model spec '${spec}': image shape must be CxSxS, e.g. 1x28x28`);
  return { shape: dims, classes: positiveInts(spec, classes ?? '', '-')[0] };
}

/** Builds an untrained model (seed with manualSeed first for a repeatable init). */
export function buildModel(spec: string): Module {
  const model = construct(spec);
  model.spec = spec;
  return model;
}

function construct(spec: string): Module {
  const p = parse(spec);
  const known = (flags: string[], keys: string[]): void => {
    for (const f of p.flags) if (!flags.includes(f)) throw new InputError(`model spec '${spec}': unknown option '${f}'`);
    for (const k of p.values.keys()) if (!keys.includes(k)) throw new InputError(`model spec '${spec}': unknown option '${k}'`);
  };
  switch (p.kind) {
    case 'mlp': {
      known(['bn'], ['dropout', 'init']);
      const sizes = positiveInts(spec, p.sizes, '-');
      if (sizes.length < 2) throw new InputError(`model spec '${spec}': an MLP needs at least input and output sizes`);
      const init = p.values.get('init');
      if (init !== undefined && !['default', 'he', 'ntk', 'allenzhu'].includes(init))
        throw new InputError(`model spec '${spec}': init must be default, he, ntk or allenzhu`);
      return new MLP(sizes, { activation: p.activation, batchNorm: p.flags.has('bn'), dropout: number(spec, p, 'dropout', 0, 0.99),
        init: init as Init | undefined });
    }
    case 'resmlp':
    case 'fcnet': {
      const residual = p.kind === 'resmlp';
      known([], residual ? ['cres'] : []);
      const s = positiveInts(spec, p.sizes, '-');
      if (s.length !== 4) throw new InputError(`model spec '${spec}': ${p.kind} needs IN-WIDTH-DEPTH-OUT`);
      return new ResMLP(s[0], s[1], s[2], s[3], { activation: p.activation, cRes: number(spec, p, 'cres', 1e-6, 1), residual });
    }
    case 'relu2': {
      known([], []);
      const s = positiveInts(spec, p.sizes, '-');
      if (s.length !== 2 || p.activation) throw new InputError(`model spec '${spec}': relu2 needs IN-WIDTH and no activation (it is ReLU)`);
      return new TwoLayerReLU(s[0], s[1]);
    }
    case 'skip':
    case 'skipcnn': {
      known([], p.kind === 'skip' ? ['m'] : ['m', 'w']);
      const m = number(spec, p, 'm', 1, 1e6);
      if (m === undefined || !Number.isInteger(m)) throw new InputError(`model spec '${spec}': give the number of skip units as an integer m=M`);
      // The theorem needs a real-analytic, strictly increasing activation: softplus, trunk and skip units alike.
      if (p.activation && p.activation !== 'softplus')
        throw new InputError(`model spec '${spec}': skip-to-output nets use softplus (analytic and increasing), not ${p.activation}`);
      const activation = 'softplus';
      if (p.kind === 'skip') {
        const sizes = positiveInts(spec, p.sizes, '-');
        if (sizes.length < 2) throw new InputError(`model spec '${spec}': the trunk needs at least input and output sizes`);
        return new SkipToOutput(new MLP(sizes, { activation }), sizes[0], m, sizes[sizes.length - 1]);
      }
      const { shape, classes } = imageSizes(spec, p.sizes);
      return new SkipToOutput(new SmallCNN(shape, classes, { width: integer(spec, p, 'w', 1, 4096), activation }), shape[0] * shape[1] * shape[2], m, classes);
    }
    case 'cnn': {
      known(['bn'], ['w', 'dropout']);
      const { shape, classes } = imageSizes(spec, p.sizes);
      return new SmallCNN(shape, classes, {
        width: integer(spec, p, 'w', 1, 4096),
        batchNorm: p.flags.has('bn'),
        dropout: number(spec, p, 'dropout', 0, 0.99),
        activation: p.activation,
      });
    }
    case 'nin': {
      known(['bn'], ['w', 'd', 'dropout']);
      if (p.activation) throw new InputError(`model spec '${spec}': nin uses ReLU`);
      const { shape, classes } = imageSizes(spec, p.sizes);
      const depth = integer(spec, p, 'd', 1, 8);
      return new NiN(shape, classes, { width: integer(spec, p, 'w', 1, 4096), depth, batchNorm: p.flags.has('bn'),
        dropout: number(spec, p, 'dropout', 0, 0.99) });
    }
    case 'resnet': {
      known([], ['w']);
      const { shape, classes } = imageSizes(spec, p.sizes);
      return new SmallResNet(shape, classes, { width: integer(spec, p, 'w', 1, 4096) });
    }
    default:
      throw new InputError(`model spec '${spec}': unknown kind '${p.kind}' (mlp, resmlp, fcnet, relu2, skip, skipcnn, cnn, nin, resnet)`);
  }
}
