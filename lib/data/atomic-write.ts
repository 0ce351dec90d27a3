// Write-then-rename, so a reader (or a crash) never sees a half-written file: rename within one
// directory is atomic on POSIX filesystems and replaces the target on Windows too.
import * as fs from 'fs';
import * as path from 'path';

export function writeFileAtomic(file: string, bytes: Uint8Array | string): void {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError('path must be a non-empty string');
  const tmp = path.join(path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
