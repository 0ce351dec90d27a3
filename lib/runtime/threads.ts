// The addon's thread pool.
import { native } from './addon';
import * as v from '../ops/validate';

/** Threads the addon's pool uses (the calling thread included). */
export function numThreads(): number {
  return native().numThreads();
}

/**
 * Sets the pool's thread count (1…256); 0 restores the default (the machine's cores, or
 * `RETINANET_NUM_THREADS` read at load). Results do not depend on it: reductions are merged in a
 * fixed order.
 */
export function setNumThreads(n: number): void {
  native().setNumThreads(v.integer('n', n, 0, 256));
}
