// `retinanet make-dataset`: a synthetic COCO-format dataset of shapes (no download needed).
import { makeShapesDataset } from '../data/synthetic';
import { CommandSpec, Flags, UsageError } from './args';

export const MAKE_DATASET: CommandSpec = {
  name: 'make-dataset',
  summary: 'Writes a synthetic COCO-format dataset of shapes: OUT/instances.json and OUT/images/*.png (deterministic for a seed).',
  flags: [
    { name: 'out', type: 'string', value: 'DIR', default: 'data/shapes', help: 'output folder' },
    { name: 'images', type: 'int', min: 1, default: 200, help: 'number of images' },
    { name: 'size', type: 'int', min: 16, max: 4096, default: 320, help: 'image side in pixels' },
    { name: 'classes', type: 'int', min: 1, max: 8, default: 4, help: 'number of shape classes' },
    { name: 'min-object', type: 'int', min: 4, default: 8, help: 'smallest object side in pixels' },
    { name: 'max-object', type: 'int', min: 4, default: 300, help: 'largest object side in pixels (capped by the image)' },
    { name: 'objects', type: 'int', min: 1, default: 8, help: 'most objects per image' },
    { name: 'clutter', type: 'boolean', default: true, help: 'cluttered backgrounds' },
    { name: 'seed', type: 'int', min: 0, default: 1, help: 'random seed' },
  ],
};

export function makeDatasetCommand(flags: Flags): number {
  if (flags.int('max-object') < flags.int('min-object')) throw new UsageError('make-dataset', '--max-object must be >= --min-object');
  const t0 = Date.now();
  const info = makeShapesDataset({
    dir: flags.string('out'), images: flags.int('images'), seed: flags.int('seed'), size: flags.int('size'), classes: flags.int('classes'),
    minObject: flags.int('min-object'), maxObject: flags.int('max-object'), maxObjectsPerImage: flags.int('objects'), clutter: flags.boolean('clutter'),
  });
  console.log(`wrote ${info.images} images with ${info.annotations} objects of ${info.categories.length} classes (${info.categories.map((c) => c.name).join(', ')}) to ${flags.string('out')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}
