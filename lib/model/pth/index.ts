// PyTorch checkpoints (.pth / .pt as torch.save writes them) read without Python: the zip format
// (torch >= 1.6: data.pkl + data/N storages) and the legacy format (pickles followed by raw
// storages), state dicts of float32 / float16 / bfloat16 / float64 tensors (integer ones are
// listed, not loaded), strided views, and the wrappers training scripts save.
import { bf16ToF32, f16ToF32 } from '../half';
import { NamedArray } from '../safetensors';
import { Callable, PickleDict, PickleGlobal, unpickle } from './pickle';
import { isZip, readZip } from './zip';

type Dtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGES: Record<string, [Dtype, number]> = {
  FloatStorage: ['float32', 4], HalfStorage: ['float16', 2], BFloat16Storage: ['bfloat16', 2], DoubleStorage: ['float64', 8],
  LongStorage: ['int64', 8], IntStorage: ['int32', 4], ShortStorage: ['int16', 2], CharStorage: ['int8', 1],
  ByteStorage: ['uint8', 1], BoolStorage: ['bool', 1],
};

class Storage {
  bytes: Uint8Array | null = null;
  constructor(readonly dtype: Dtype, readonly itemSize: number, readonly numel: number, readonly key: string) {}
}

class TensorRef {
  constructor(readonly storage: Storage, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}

/** What {@link readPth} read from a torch.save file. */
export interface PthContents {
  /** Floating-point tensors as float32, by name (`module.` prefixes removed). */
  tensors: Map<string, NamedArray>;
  /** Names of the tensors not loaded (integer or bool, e.g. BN's num_batches_tracked). */
  skipped: string[];
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Reads a torch.save file holding a state dict (possibly wrapped: {model: …}, {state_dict: …}). */
export function readPth(bytes: Uint8Array, what = 'the file'): PthContents {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('readPth: expected the file\'s bytes as a Uint8Array');
  const fail = (why: string): never => {
    throw new RangeError(`${what}: not a readable PyTorch checkpoint (${why})`);
  };
  const storages = new Map<string, Storage>();
  const storageOf = (type: unknown, key: unknown, numel: unknown): Storage => {
    if (!(type instanceof PickleGlobal) || type.module !== 'torch' || !(type.name in STORAGES)) fail(`a storage of type ${String(type instanceof PickleGlobal ? type.qualified : type)}`);
    if (typeof key !== 'string' || !isInt(numel) || numel < 0) fail('a malformed storage reference');
    const [dtype, itemSize] = STORAGES[(type as PickleGlobal).name];
    const known = storages.get(key as string);
    if (known) {
      if (known.dtype !== dtype) fail(`storage ${String(key)} used as ${known.dtype} and ${dtype}`);
      return known;
    }
    const s = new Storage(dtype, itemSize, numel as number, key as string);
    storages.set(key as string, s);
    return s;
  };
  const globals = new Map<string, Callable>([
    ['collections.OrderedDict', (args) => {
      const d = new PickleDict();
      if (Array.isArray(args[0])) for (const kv of args[0]) if (Array.isArray(kv) && kv.length === 2) d.items.set(kv[0], kv[1]);
      return d;
    }],
    ['torch._utils._rebuild_tensor_v2', (a) => rebuild(a)],
    ['torch._utils._rebuild_tensor', (a) => rebuild(a)],
    ['torch._utils._rebuild_parameter', (a) => a[0]],
    ['torch._utils._rebuild_parameter_with_state', (a) => a[0]],
    ...Object.keys(STORAGES).map((n): [string, Callable] => [`torch.${n}`, () => fail(`torch.${n} called`)]),
  ]);
  function rebuild(a: unknown[]): TensorRef {
    const [storage, offset, size, stride] = a;
    if (!(storage instanceof Storage) || !isInt(offset) || offset < 0 || !Array.isArray(size) || !Array.isArray(stride) ||
      size.length !== stride.length || !size.every((v) => isInt(v) && v >= 0) || !stride.every((v) => isInt(v) && v >= 0)) {
      return fail('a malformed tensor (storage, offset, size, stride)');
    }
    const s = size as number[];
    const last = s.some((d) => d === 0) ? -1 : (offset as number) + s.reduce((acc, d, i) => acc + (d - 1) * (stride as number[])[i], 0);
    if (last >= storage.numel) fail(`a tensor of size [${s}] and stride [${stride as number[]}] at ${offset as number} reaches past its storage of ${storage.numel}`);
    return new TensorRef(storage, offset as number, s.slice(), (stride as number[]).slice());
  }

  let root: unknown;
  if (isZip(bytes)) {
    const entries = readZip(bytes, what);
    const pkl = [...entries.keys()].find((n) => /^([^/]+\/)?data\.pkl$/.test(n));
    if (pkl === undefined) fail('a zip archive without data.pkl (not written by torch.save?)');
    const prefix = (pkl as string).slice(0, -'data.pkl'.length);
    root = unpickle((entries.get(pkl as string) as { read(): Uint8Array }).read(), 0, {
      what,
      globals,
      persistentLoad: (pid) => {
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) return fail(`a persistent id ${JSON.stringify(pid)}`);
        return storageOf(pid[1], pid[2], pid[4]);
      },
    }).value;
    for (const s of storages.values()) {
      const entry = entries.get(`${prefix}data/${s.key}`);
      if (!entry) fail(`storage ${s.key} has no data/${s.key} in the archive`);
      s.bytes = (entry as { read(): Uint8Array }).read();
    }
  } else {
    // Legacy: magic number, protocol version, system info, the object, the storage keys, the storages.
    const opts = { what, globals: new Map<string, Callable>(), persistentLoad: (): never => fail('a persistent id before the object') };
    let r = unpickle(bytes, 0, opts);
    if (r.value !== LEGACY_MAGIC) fail(bytes[0] === 0x80 ? 'a pickle, but not a torch.save file' : 'neither a zip archive nor a legacy torch.save file');
    r = unpickle(bytes, r.end, opts);
    if (r.value !== 1001) fail(`legacy protocol ${String(r.value)} (1001 expected)`);
    r = unpickle(bytes, r.end, opts);
    const info = r.value instanceof PickleDict ? r.value.items : undefined;
    if (info?.get('little_endian') !== true) fail('a big-endian legacy file');
    const views: [Storage, Storage, number][] = [];
    r = unpickle(bytes, r.end, {
      what,
      globals,
      persistentLoad: (pid) => {
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 6) return fail(`a persistent id ${JSON.stringify(pid)}`);
        const base = storageOf(pid[1], pid[2], pid[4]);
        const view = pid[5];
        if (view === null || view === undefined) return base;
        // (view key, offset, size): a storage inside the root one (torch < 0.4).
        if (!Array.isArray(view) || typeof view[0] !== 'string' || !isInt(view[1]) || !isInt(view[2])) return fail('a malformed storage view');
        if (view[1] + view[2] > base.numel) fail(`a storage view past its root storage ${base.key}`);
        const v = new Storage(base.dtype, base.itemSize, view[2], `${base.key}/${view[0] as string}`);
        views.push([v, base, view[1]]);
        return v;
      },
    });
    root = r.value;
    r = unpickle(bytes, r.end, opts);
    if (!Array.isArray(r.value) || !r.value.every((k) => typeof k === 'string')) fail('no list of storage keys after the object');
    let at = r.end;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const key of r.value as string[]) {
      const s = storages.get(key);
      if (!s) fail(`storage ${key} listed but never used`);
      if (at + 8 > bytes.length) fail(`storage ${key}: truncated`);
      const lo = view.getUint32(at, true);
      const hi = view.getUint32(at + 4, true);
      const numel = hi * 2 ** 32 + lo;
      if (numel !== (s as Storage).numel) fail(`storage ${key}: ${numel} elements, the object says ${(s as Storage).numel}`);
      const n = numel * (s as Storage).itemSize;
      if (at + 8 + n > bytes.length) fail(`storage ${key}: ${n} bytes past the end (truncated?)`);
      (s as Storage).bytes = bytes.subarray(at + 8, at + 8 + n);
      at += 8 + n;
    }
    for (const [v, base, offset] of views) {
      if (!base.bytes) fail(`storage ${base.key} has no data`);
      v.bytes = (base.bytes as Uint8Array).subarray(offset * base.itemSize, (offset + v.numel) * base.itemSize);
    }
  }
  for (const s of storages.values()) {
    if (!s.bytes || s.bytes.length < s.numel * s.itemSize) fail(`storage ${s.key}: ${s.bytes?.length ?? 0} bytes for ${s.numel} ${s.dtype} elements`);
  }

  const dict = findStateDict(root, fail);
  const names = [...dict.keys()];
  const strip = names.length > 0 && names.every((n) => n.startsWith('module.'));
  const out: PthContents = { tensors: new Map(), skipped: [] };
  for (const [name, t] of dict) {
    const key = strip ? name.slice('module.'.length) : name;
    if (!/^float|^bfloat/.test(t.storage.dtype)) {
      out.skipped.push(key);
      continue;
    }
    out.tensors.set(key, { shape: t.size.slice(), data: toFloat32(t) });
  }
  return out;
}

const WRAPPERS = ['state_dict', 'model', 'model_state_dict', 'module', 'net', 'network', 'weights'];

function findStateDict(root: unknown, fail: (why: string) => never): Map<string, TensorRef> {
  const asTensors = (v: unknown): Map<string, TensorRef> | undefined => {
    if (!(v instanceof PickleDict) || v.items.size === 0) return undefined;
    const m = new Map<string, TensorRef>();
    for (const [k, t] of v.items) {
      if (typeof k !== 'string' || !(t instanceof TensorRef)) return undefined;
      m.set(k, t);
    }
    return m;
  };
  const direct = asTensors(root);
  if (direct) return direct;
  if (root instanceof PickleDict) {
    for (const key of WRAPPERS) {
      const inner = asTensors(root.items.get(key));
      if (inner) return inner;
    }
    const keys = [...root.items.keys()].slice(0, 8).map(String).join(', ');
    return fail(`no state dict (a dict of tensors) at the top or under ${WRAPPERS.join(' / ')}; top-level keys: ${keys}`);
  }
  return fail('the object saved is not a dict');
}

function toFloat32(t: TensorRef): Float32Array {
  const { storage: s, offset, size, stride } = t;
  const n = size.reduce((a, d) => a * d, 1);
  const bytes = s.bytes as Uint8Array;
  // Contiguous float32 (almost every tensor of a state dict): one copy of its bytes.
  let expect = 1;
  let contiguous = true;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= size[d];
  }
  // (Uint8Array's slice copies; a Node Buffer's own slice would be a view of the whole file.)
  if (s.dtype === 'float32' && contiguous) return new Float32Array(Uint8Array.prototype.slice.call(bytes, 4 * offset, 4 * (offset + n)).buffer);
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = s.dtype === 'float32' ? (i: number) => view.getFloat32(4 * i, true)
    : s.dtype === 'float64' ? (i: number) => view.getFloat64(8 * i, true)
      : s.dtype === 'float16' ? (i: number) => f16ToF32(view.getUint16(2 * i, true))
        : (i: number) => bf16ToF32(view.getUint16(2 * i, true));
  // Walk the indices in row-major order, the storage position following the strides.
  const idx = new Array<number>(size.length).fill(0);
  let pos = offset;
  for (let k = 0; k < n; k++) {
    out[k] = read(pos);
    for (let d = size.length - 1; d >= 0; d--) {
      idx[d]++;
      pos += stride[d];
      if (idx[d] < size[d]) break;
      pos -= stride[d] * size[d];
      idx[d] = 0;
    }
  }
  return out;
}

