// Conv2DBackpropFilter: d loss / d filter of a convolution.
import * as ops from '../ops';
import { ConvAttrs, nativeGeometry } from './conv-info';
import { defineNativeCpuKernel, output, values } from '../override';

defineNativeCpuKernel('Conv2DBackpropFilter', ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
  const x = values(backend, inputs.x);
  const dy = values(backend, inputs.dy);
  const g = x && dy && inputs.x && nativeGeometry(inputs.x.shape, a.filterShape, a);
  if (!g || !x || !dy) return undefined;
  return output(backend, a.filterShape, ops.conv2dBackpropFilter(x, dy, g));
});
