// `retinanet convert`: a PyTorch checkpoint (.pth / .pt, as torch.save writes it) to safetensors,
// with no Python: the state dict's float tensors under their own names, as float32.
import * as fs from 'fs';
import { readPth } from '../model/pth';
import { serializeSafetensors, writeFileAtomic } from '../model/safetensors';
import { CommandSpec, Flags, UsageError } from './args';

export const CONVERT: CommandSpec = {
  name: 'convert',
  summary: 'Converts a PyTorch checkpoint (.pth / .pt: a state dict, possibly under model / state_dict) to safetensors, without Python.',
  positional: 'IN.pth OUT.safetensors',
  flags: [],
};

export function convertCommand(flags: Flags): number {
  if (flags.positional.length !== 2) throw new UsageError('convert', 'expected two paths: IN.pth OUT.safetensors');
  const [input, output] = flags.positional;
  if (!fs.existsSync(input)) throw new RangeError(`${input}: no such file`);
  const { tensors, skipped } = readPth(fs.readFileSync(input), input);
  writeFileAtomic(output, serializeSafetensors(tensors, { format: 'pt', producer: 'tfjs-retinanet convert', source: input }));
  const values = [...tensors.values()].reduce((a, t) => a + t.data.length, 0);
  console.log(`${input}: ${tensors.size} tensors (${(values / 1e6).toFixed(2)} M values) written as float32 to ${output}` +
    (skipped.length ? `; left out ${skipped.length} integer tensor(s) (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''})` : ''));
  return 0;
}
