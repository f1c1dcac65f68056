/** The tensor engine: libtorch tensors, autograd, linear algebra and deterministic memory. */
export { Tensor, type DType, type TypedArray, type Interpolation } from './tensor.js';
export * from './creation.js';
export * from './ops.js';
export * from './autograd.js';
export * as linalg from './linalg.js';
export { scope, keep, dispose, liveTensors } from './memory.js';
export * from './runtime.js';
