/** Process-wide engine settings: threads and devices. */
import { N } from './native.js';

export function setNumThreads(n: number): void {
  N.setNumThreads(n);
}
export function getNumThreads(): number {
  return N.getNumThreads();
}
export function cudaAvailable(): boolean {
  return N.cudaAvailable();
}
/** Where new tensors are created: 'cpu', 'cuda', 'cuda:1'… */
export function setDefaultDevice(device: string): void {
  N.setDefaultDevice(device);
}
