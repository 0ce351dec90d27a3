// Flags of the `retinanet` commands: declared once per command, so parsing, checking and the
// --help text come from the same table.
export type FlagType = 'int' | 'number' | 'string' | 'boolean';
export type FlagValue = number | string | boolean;

export interface FlagSpec {
  name: string;
  type: FlagType;
  help: string;
  default?: FlagValue;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** Placeholder in the help text (default N, X or PATH by type). */
  value?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, e.g. 'IMAGE...'. */
  positional?: string;
  flags: FlagSpec[];
}

/** A mistake on the command line: exit status 2 and a pointer to --help. */
export class UsageError extends Error {
  constructor(readonly command: string, message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class Flags {
  constructor(private readonly values: Map<string, FlagValue>, readonly positional: string[], private readonly explicit = new Set(values.keys())) {}

  /** Whether the flag has a value (given, or its default). */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Whether the flag was given on the command line (not only defaulted). */
  given(name: string): boolean {
    return this.explicit.has(name);
  }

  int(name: string): number {
    return this.get(name, 'number') as number;
  }

  number(name: string): number {
    return this.get(name, 'number') as number;
  }

  string(name: string): string {
    return this.get(name, 'string') as string;
  }

  optionalString(name: string): string | undefined {
    return this.values.has(name) ? this.string(name) : undefined;
  }

  boolean(name: string): boolean {
    return this.get(name, 'boolean') as boolean;
  }

  private get(name: string, type: 'number' | 'string' | 'boolean'): FlagValue {
    const v = this.values.get(name);
    if (typeof v !== type) throw new Error(`internal: flag --${name} read as ${type}, holds ${typeof v}`);
    return v as FlagValue;
  }
}

function placeholder(f: FlagSpec): string {
  if (f.type === 'boolean') return '';
  return ` ${f.value ?? (f.choices ? 'NAME' : f.type === 'string' ? 'PATH' : f.type === 'int' ? 'N' : 'X')}`;
}

/** Help text lines: flag names in a column of at most HELP_COLUMN, descriptions wrapped to HELP_WIDTH. */
const HELP_COLUMN = 28;
const HELP_WIDTH = 100;

function wrap(text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: retinanet ${spec.name} [options]${spec.positional ? ` ${spec.positional}` : ''}`, '', spec.summary, '', 'Options:'];
  const flags = [...spec.flags, { name: 'help', type: 'boolean' as const, help: 'this text' }];
  const width = Math.min(HELP_COLUMN, Math.max(...flags.map((f) => f.name.length + placeholder(f).length)) + 6);
  for (const f of flags) {
    const head = `  --${f.name}${placeholder(f)}`;
    const choices = f.choices ? ` (one of: ${f.choices.join(', ')})` : '';
    const def = f.default !== undefined && f.type !== 'boolean' ? ` (default ${f.default})` : f.type === 'boolean' && f.default === true ? ' (default on; --no-' + f.name + ' turns it off)' : '';
    const text = wrap(`${f.help}${choices}${def}`, width);
    // A flag name longer than the column gets its description on the next line.
    if (head.length + 2 > width) lines.push(head);
    else lines.push(head.padEnd(width) + text.shift());
    for (const t of text) lines.push(' '.repeat(width) + t);
  }
  return lines.join('\n');
}

function convert(command: string, f: FlagSpec, raw: string | undefined): FlagValue {
  if (raw === undefined || (raw.startsWith('--') && f.type !== 'number' && f.type !== 'int')) {
    throw new UsageError(command, `--${f.name}: expected a value`);
  }
  if (f.type === 'string') {
    if (f.choices && !f.choices.includes(raw)) throw new UsageError(command, `--${f.name}: expected one of ${f.choices.join(', ')}, got '${raw}'`);
    return raw;
  }
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (f.type === 'int' && !Number.isInteger(n))) {
    throw new UsageError(command, `--${f.name}: expected ${f.type === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
  }
  if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
    const range = f.max === undefined ? `>= ${f.min}` : f.min === undefined ? `<= ${f.max}` : `in [${f.min}, ${f.max}]`;
    throw new UsageError(command, `--${f.name}: expected ${range}, got ${raw}`);
  }
  return n;
}

/** Parses `--name value`, `--name=value`, `--flag` / `--no-flag`; unknown flags are errors. */
export function parseFlags(spec: CommandSpec, argv: string[]): Flags {
  const values = new Map<string, FlagValue>();
  const positional: string[] = [];
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (!spec.positional) throw new UsageError(spec.name, `unexpected argument '${arg}'`);
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const negated = name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean';
    const f = byName.get(negated ? name.slice(3) : name);
    if (!f) throw new UsageError(spec.name, `unknown option --${name}`);
    if (values.has(f.name)) throw new UsageError(spec.name, `--${f.name} given twice`);
    if (f.type === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new UsageError(spec.name, `--${f.name}: expected true or false`);
      values.set(f.name, negated ? false : inline !== 'false');
    } else {
      values.set(f.name, convert(spec.name, f, inline ?? argv[++i]));
    }
  }
  const given = new Set(values.keys());
  for (const f of spec.flags) if (!values.has(f.name) && f.default !== undefined) values.set(f.name, f.default);
  return new Flags(values, positional, given);
}
