// Whether a forward pass may free its intermediate tensors as soon as it has used them: outside
// any gradient tape (inference, evaluation, detection). Under a tape (a training step) the
// intermediates stay until the backward pass has passed them (lib/tfjs/lean-gradients.ts).
import * as tf from '@tensorflow/tfjs';

export function freeAsWeGo(): boolean {
  return tf.engine().state.gradientDepth === 0;
}
