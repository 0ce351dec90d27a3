// Datasets and images: decode / encode, the detector's resize and normalization, flip
// augmentation, batching, COCO-format loading and the synthetic shapes dataset.
export { readImage, decodeImage, encodePng, writePng, imageFormat } from './image';
export type { RgbImage, DecodeOptions } from './image';
export { resizeScale, resizeImage, scaleBoxes, toTensorInput, IMAGENET_MEAN, IMAGENET_STD } from './resize';
export type { FloatImage, ResizeScale, ResizeScaleOptions, NormalizeOptions } from './resize';
export { flipBoxes, flipImage } from './flip';
export { makeBatch } from './batch';
export type { Batch, BatchItem, BatchOptions } from './batch';
export { loadCocoDataset, cocoGroundTruth, MissingImageFilesError } from './coco';
export type { CocoDataset, CocoImageEntry, CocoCategory, CocoGroundTruth, CocoLoadOptions, CocoSkipped } from './coco';
export { generateShapesImage, makeShapesDataset, shapeClassNames } from './synthetic';
export type { ShapesOptions, ShapesImage, ShapesDatasetOptions, ShapesDatasetInfo } from './synthetic';
export { SHAPE_NAMES } from './shapes';
export type { ShapeName } from './shapes';
