// The C library's handling of freed memory, for processes of our own, and V8's collections.
import * as v8 from 'v8';
import { native } from './addon';

/**
 * Keeps freed memory in the process instead of returning it to the OS (glibc: every block from
 * the heap, none mmapped, and the heap never trimmed). Kernel outputs are fresh buffers, freed as
 * their tensors are disposed; with glibc's defaults the next one page-faults in again, which
 * costs as much as the arithmetic of a strided convolution's backward pass (measured: 190 → 350
 * GFLOP/s), and a training step's backward pass frees enough at once for a 256 MB trim threshold
 * to hand it back every step (263,000 page faults a ResNet-50 step instead of 19,000).
 * Process-wide, and the process keeps its peak's memory, so off unless called; the `retinanet`
 * command and the benchmarks call it. Returns false where the C library has no such setting
 * (nothing changes then).
 */
export function retainFreedMemory(): boolean {
  return native().retainFreedMemory();
}

/**
 * Lets V8's old generation grow to 5× its live size before a full collection
 * (`--heap-growing-percent=400`; V8's own factor for a small heap is ~1.4). A training step keeps
 * only ~22 MB of JavaScript objects alive but makes 3.9 GB of tensor buffers; with V8's factor the
 * old generation's slack stays under the young generation's size, so every collection the buffers
 * trigger became a full one: ~60 per ResNet-50 step at 600 px, ~0.5 s of pauses plus marking on
 * V8's helper threads, which share the 2 cores with the kernels. Process-wide and changing how
 * every script in it is collected, so off unless called; the `retinanet` command and the
 * benchmarks call it. The JavaScript heap this can hold is small beside a model's tensors.
 */
export function relaxGarbageCollection(): void {
  v8.setFlagsFromString('--heap-growing-percent=400');
}

/**
 * Runs `fn` with the native outputs it makes left out of V8's external-memory count until it
 * returns or throws (native/binding/convert.h), so that their growth starts no collection: for a
 * training step, whose buffers are mostly live (the activations the backward pass needs, then the
 * gradients), and an inference; the cpu backend frees their garbage as it is disposed
 * (lib/tfjs/release.ts), and an output released so is never counted at all. The count is exact
 * again when the outermost call ends.
 */
export function withDeferredExternalMemory<T>(fn: () => T): T {
  const addon = native();
  addon.deferExternalMemory(true);
  try {
    return fn();
  } finally {
    addon.deferExternalMemory(false);
  }
}
