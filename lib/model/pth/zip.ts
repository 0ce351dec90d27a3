// The few parts of the ZIP format that torch.save's archives use: the central directory (Zip64
// too), stored (torch's own writer) or deflated (a re-zipped file) entries. Every offset and
// size is checked against the file, so a truncated or hostile archive is a clear error.
import * as zlib from 'zlib';

export interface ZipEntry {
  name: string;
  /** The entry's bytes (a view for stored entries, inflated otherwise). */
  read(): Uint8Array;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export function readZip(bytes: Uint8Array, what: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new RangeError(`${what}: not a readable zip archive (${why})`);
  };
  const u32 = (at: number): number => {
    if (at < 0 || at + 4 > bytes.length) fail(`offset ${at} is past the end (${bytes.length} bytes: truncated?)`);
    return view.getUint32(at, true);
  };
  const u16 = (at: number): number => {
    if (at < 0 || at + 2 > bytes.length) fail(`offset ${at} is past the end (${bytes.length} bytes: truncated?)`);
    return view.getUint16(at, true);
  };
  const u64 = (at: number): number => {
    const lo = u32(at);
    const hi = u32(at + 4);
    if (hi >= 0x200000) fail('a 64-bit size beyond 2^53');
    return hi * 2 ** 32 + lo;
  };

  // The end-of-central-directory record: within the last 22 + 65535 bytes.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record: truncated?');
  let count = u16(eocd + 10);
  let dirSize = u32(eocd + 12);
  let dirOffset = u32(eocd + 16);
  if (eocd >= 20 && u32(eocd - 20) === ZIP64_LOCATOR) {
    const z = u64(eocd - 12);
    if (u32(z) !== ZIP64_EOCD) fail('a Zip64 locator without its record');
    count = u64(z + 32);
    dirSize = u64(z + 40);
    dirOffset = u64(z + 48);
  }
  if (dirOffset + dirSize > bytes.length) fail(`the central directory (${dirSize} bytes at ${dirOffset}) is past the end: truncated?`);
  if (count > dirSize / 46) fail(`${count} entries cannot fit a ${dirSize}-byte directory`);

  const entries = new Map<string, ZipEntry>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (u32(at) !== CENTRAL) fail(`entry ${i}: bad central-directory signature`);
    const method = u16(at + 10);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let local = u32(at + 42);
    if (at + 46 + nameLength + extraLength > bytes.length) fail(`entry ${i}: its name is past the end`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // Zip64 extra field: the 64-bit values of the fields saturated at 0xffffffff, in order.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength;) {
      const id = u16(e);
      const len = u16(e + 2);
      if (id === 0x0001) {
        let p = e + 4;
        if (size === 0xffffffff) { size = u64(p); p += 8; }
        if (compressed === 0xffffffff) { compressed = u64(p); p += 8; }
        if (local === 0xffffffff) { local = u64(p); p += 8; }
      }
      e += 4 + len;
    }
    if (u32(local) !== LOCAL) fail(`${name}: bad local header signature`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + compressed > bytes.length) fail(`${name}: ${compressed} bytes at ${start} are past the end (truncated?)`);
    if (method !== 0 && method !== 8) fail(`${name}: compression method ${method} (only stored and deflated entries are read)`);
    const raw = bytes.subarray(start, start + compressed);
    entries.set(name, {
      name,
      read: () => {
        if (method === 0) {
          if (size !== compressed) fail(`${name}: a stored entry of ${compressed} bytes says it holds ${size}`);
          return raw;
        }
        let out: Buffer;
        try {
          out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
        } catch (e) {
          return fail(`${name}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (out.length !== size) fail(`${name}: inflated to ${out.length} bytes, the directory says ${size}`);
        return new Uint8Array(out.buffer, out.byteOffset, out.length);
      },
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
