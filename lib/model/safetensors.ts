// A small safetensors reader/writer (the format: an 8-byte little-endian header length, a JSON
// header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }, then the raw
// little-endian data). F32 is read and written; F16 and BF16 are read (widened to float32).
import { bf16ToF32, f16ToF32 } from './half';
import * as fs from 'fs';
import * as path from 'path';

/** A tensor as float32 data in row-major order and its shape. */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

const MAX_HEADER = 100 * 2 ** 20;

/** Parses a safetensors buffer; a malformed one is a RangeError saying what is wrong. */
export function parseSafetensors(buf: Uint8Array): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new RangeError('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.length) {
    throw new RangeError(`safetensors: header length ${headerLen} does not fit the ${buf.length}-byte file (truncated or not safetensors)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch {
    throw new RangeError('safetensors: the header is not valid JSON');
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) throw new RangeError(`safetensors: entry ${name} is malformed`);
    const count = shape.reduce((a, b) => a * b, 1);
    const width = dtype === 'F32' ? 4 : dtype === 'F16' || dtype === 'BF16' ? 2 : 0;
    if (width === 0) throw new RangeError(`safetensors: ${name} has dtype ${dtype}; F32, F16 and BF16 are supported`);
    const [begin, end] = offsets;
    if (end - begin !== count * width || dataStart + end > buf.length || begin < 0) {
      throw new RangeError(`safetensors: ${name}'s data [${begin}, ${end}) does not match its shape or the file (truncated?)`);
    }
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const at = dataStart + begin + i * width;
      data[i] = width === 4 ? view.getFloat32(at, true)
        : dtype === 'F16' ? f16ToF32(view.getUint16(at, true))
          : bf16ToF32(view.getUint16(at, true));
    }
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

/** Serializes float32 arrays (names sorted, as the reference implementation writes them). */
export function serializeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as NamedArray;
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new RangeError(`${name}: data length does not match its shape`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  const json = JSON.stringify(header);
  // Pad the UTF-8 header (not the string: names may be non-ASCII) so the data is 8-byte aligned.
  const bytes = new TextEncoder().encode(json).length;
  const head = new TextEncoder().encode(json + ' '.repeat((8 - ((bytes + 8) % 8)) % 8));
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const t = tensors.get(name) as NamedArray;
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at); // little-endian hosts (x86-64, arm64)
    at += bytes.length;
  }
  return out;
}

/** Writes atomically: a temporary file in the same folder, then a rename. */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}
