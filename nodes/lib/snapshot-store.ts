// Keeps a node's state on disk as one JSON snapshot so a restart loses nothing: written atomically
// (temporary file, fsync, rename, fsync of the folder), at once after changes that matter (desired
// values, queued commands, relationships) and at most once per delay for changes the sources send
// again anyway (telemetry). Used by the twin graph, the reconciler and every node that persists state.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export class SnapshotStore {
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(readonly file: string, private readonly snapshot: () => unknown, private readonly onError: (err: Error) => void, private readonly telemetryDelayMs = 1000) {}

  /** The saved snapshot, or undefined when there is none yet. Throws when the file is unreadable. */
  load(): unknown {
    if (!existsSync(this.file)) return undefined;
    const text = readFileSync(this.file, 'utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.file} is not valid JSON (${(err as Error).message})`);
    }
  }

  /** Notes a change; urgent changes are written now, others within telemetryDelayMs. */
  changed(urgent: boolean): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (urgent) {
      this.flush();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), this.telemetryDelayMs);
    }
  }

  /** Writes the snapshot if anything changed since the last write. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      writeAtomically(this.file, JSON.stringify(this.snapshot()));
    } catch (err) {
      this.#dirty = true;
      this.onError(err as Error);
    }
  }

  close(): void {
    this.flush();
    this.#closed = true;
  }

  /** Moves an unusable file aside (never deletes it) and returns where it went. */
  setAside(reason: string): string {
    const aside = `${this.file}.unrestorable-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    renameSync(this.file, aside);
    writeAtomically(`${aside}.reason.txt`, reason);
    return aside;
  }
}

export function writeAtomically(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  // The rename itself must reach the disk too.
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
