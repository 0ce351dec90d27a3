// Conv2DBackpropInput: d loss / d x of a convolution (also conv2dTranspose's forward pass).
import * as ops from '../ops';
import { ConvAttrs, nativeGeometry } from './conv-info';
import { defineNativeCpuKernel, output, values } from '../override';

defineNativeCpuKernel('Conv2DBackpropInput', ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
  const dy = values(backend, inputs.dy);
  const w = values(backend, inputs.filter);
  const g = dy && w && inputs.filter && nativeGeometry(a.inputShape, inputs.filter.shape, a);
  if (!g || !dy || !w) return undefined;
  return output(backend, [g.batch, g.inHeight, g.inWidth, g.inChannels], ops.conv2dBackpropInput(dy, w, g));
});
