// A restricted unpickler for what PyTorch state dicts hold: containers, numbers, strings,
// OrderedDict, tensors rebuilt from storages (persistent ids), and nothing that runs code. A
// global outside the short allow-list, or an opcode outside the ones below, is a clear error
// naming it; sizes are checked against the input, and the stack, memo and nesting are bounded.

/** A global the unpickler allows, as an object on its stack. */
export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling an allowed global (REDUCE / NEWOBJ): resolved by the caller's `call`. */
export type Callable = (args: unknown[]) => unknown;

export interface UnpickleOptions {
  /** What a persistent id (BINPERSID / PERSID) stands for. */
  persistentLoad(pid: unknown): unknown;
  /** The allowed globals: qualified name → what calling it returns (or its value when not called). */
  globals: Map<string, Callable>;
  /** Named in error messages. */
  what: string;
}

/** A pickled dict (keys as JS values; `items` keeps the pickle's order). */
export class PickleDict {
  readonly items = new Map<unknown, unknown>();
  /** Attributes set by BUILD (an OrderedDict's `_metadata`). */
  state: unknown;
}

const MAX_DEPTH = 10_000;
const MAX_MEMO = 1 << 22;

export function unpickle(bytes: Uint8Array, start: number, o: UnpickleOptions): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new RangeError(`${o.what}: not a readable PyTorch pickle (${why})`);
  };
  let pos = start;
  const need = (n: number): number => {
    if (!(n >= 0) || pos + n > bytes.length) fail(`${n} bytes needed at offset ${pos}, the data ends at ${bytes.length}: truncated?`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => bytes[need(1)];
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const i32 = (): number => view.getInt32(need(4), true);
  const u64 = (): number => {
    const lo = u32();
    const hi = u32();
    if (hi >= 0x200000) fail('a length beyond 2^53');
    return hi * 2 ** 32 + lo;
  };
  const text = (n: number): string => new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(need(n), pos));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('a text argument without its newline');
    const s = new TextDecoder().decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };

  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const pop = (): unknown => {
    if (stack.length === 0) fail('an operation on an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('an operation on an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('a mark-based operation without a mark');
    return stack.splice(m as number);
  };
  const push = (v: unknown): void => {
    if (stack.length > MAX_DEPTH) fail(`the stack is deeper than ${MAX_DEPTH}`);
    stack.push(v);
  };
  const put = (k: number): void => {
    if (memo.size >= MAX_MEMO && !memo.has(k)) fail('too many memo entries');
    memo.set(k, top());
  };
  const get = (k: number): void => {
    if (!memo.has(k)) fail(`memo entry ${k} used before it was set`);
    push(memo.get(k));
  };
  const global = (module: string, name: string): PickleGlobal => {
    const g = new PickleGlobal(module, name);
    if (!o.globals.has(g.qualified)) fail(`the global ${g.qualified} is not one a state dict needs (nothing outside the allow-list is loaded)`);
    return g;
  };
  const call = (f: unknown, args: unknown): unknown => {
    if (!(f instanceof PickleGlobal)) fail('a call of something that is not an allowed global');
    if (!Array.isArray(args)) fail(`a call of ${(f as PickleGlobal).qualified} without an argument tuple`);
    return (o.globals.get((f as PickleGlobal).qualified) as Callable)(args as unknown[]);
  };
  const setItems = (d: unknown, kv: unknown[]): void => {
    if (!(d instanceof PickleDict)) fail('SETITEM(S) on something that is not a dict');
    if (kv.length % 2 !== 0) fail('SETITEMS with an odd number of values');
    for (let i = 0; i < kv.length; i += 2) (d as PickleDict).items.set(kv[i], kv[i + 1]);
  };
  const append = (l: unknown, vs: unknown[]): void => {
    if (!Array.isArray(l)) fail('APPEND(S) on something that is not a list');
    for (const v of vs) (l as unknown[]).push(v);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME (protocol 4): frames are read as one stream
      case 0x2e: return { value: pop(), end: pos }; // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: push(new PickleDict()); break; // EMPTY_DICT
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x29: push([]); break; // EMPTY_TUPLE (tuples are arrays)
      case 0x74: push(popMark()); break; // TUPLE
      case 0x85: push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); push([pop(), b, c]); break; } // TUPLE3
      case 0x6c: push(popMark()); break; // LIST
      case 0x64: { const d = new PickleDict(); const kv = popMark(); setItems(d, kv); push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const vs = popMark(); append(top(), vs); break; } // APPENDS
      case 0x71: put(u8()); break; // BINPUT
      case 0x72: put(u32()); break; // LONG_BINPUT
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x70: put(Number.parseInt(line(), 10)); break; // PUT
      case 0x68: get(u8()); break; // BINGET
      case 0x6a: get(u32()); break; // LONG_BINGET
      case 0x67: get(Number.parseInt(line(), 10)); break; // GET
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: push(top()); break; // DUP
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x4a: push(i32()); break; // BININT
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const n = u8();
        const at = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
        if (n > 0 && bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x49: { // INT (text; "01" / "00" are True / False in protocol 0)
        const s = line();
        push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG (text)
      case 0x47: push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: push(text(u32())); break; // BINUNICODE
      case 0x8c: push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: push(text(u64())); break; // BINUNICODE8
      case 0x54: push(text(i32())); break; // BINSTRING
      case 0x55: push(text(u8())); break; // SHORT_BINSTRING
      case 0x42: { const n = u32(); push(bytes.slice(need(n), pos)); break; } // BINBYTES
      case 0x43: { const n = u8(); push(bytes.slice(need(n), pos)); break; } // SHORT_BINBYTES
      case 0x63: { const module = line(); push(global(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL without two strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); push(call(pop(), args)); break; } // NEWOBJ
      case 0x62: { // BUILD: only a dict's attributes (OrderedDict._metadata), kept aside
        const state = pop();
        const target = top();
        if (!(target instanceof PickleDict)) fail('BUILD on something that is not a dict');
        (target as PickleDict).state = state;
        break;
      }
      case 0x51: push(o.persistentLoad(pop())); break; // BINPERSID
      case 0x50: push(o.persistentLoad(line())); break; // PERSID
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} ('${String.fromCharCode(op)}') at offset ${pos - 1} is not one a state dict uses`);
    }
  }
}
