/** Every operator dltheory runs, by ONNX op type (default domain), from the families in this folder. */
import type { OpSpec } from '../op.js';
import { CONV_OPS } from './conv.js';
import { LAYER_OPS } from './layers.js';
import { MATH_OPS } from './math.js';
import { REDUCE_OPS } from './reduce.js';
import { RESIZE_OPS } from './resize.js';
import { SHAPE_OPS } from './shape.js';

export const OPS: Readonly<Record<string, OpSpec>> = { ...CONV_OPS, ...LAYER_OPS, ...MATH_OPS, ...REDUCE_OPS, ...RESIZE_OPS, ...SHAPE_OPS };
