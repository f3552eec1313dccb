// Durable file writing shared by the audit log and the replay state: an append-only file whose
// appends are group-committed (every append of one event-loop tick goes out in one write and one
// fdatasync, and each append's promise resolves only once its bytes are on disk), and atomic
// whole-file replacement (temporary file, fsync, rename, fsync of the folder).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Replaces `file` with `text` so that a crash leaves either the old or the new content, never half. */
export function writeFileAtomically(file: string, text: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    if (typeof text === 'string') writeSync(fd, text);
    else writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  syncFolder(path.dirname(file));
}

export function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

interface Pending {
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface AppendFileOptions {
  /** fdatasync after each batch (default true). Without it a power loss can lose the last batches. */
  sync?: boolean;
  /**
   * Called after each batch reached the disk, before its promises resolve, with nothing else writing
   * meanwhile: the place to compact (write a snapshot elsewhere, then truncate this file).
   */
  afterBatch?: (file: { truncate(): Promise<void> }) => Promise<void> | void;
}

/** An append-only file with group commit. One writer per file in a process. */
export class AppendFile {
  #handle: Promise<FileHandle>;
  #queue: Pending[] = [];
  #writing: Promise<void> | undefined;
  #scheduled = false;
  #closed = false;
  #failure: Error | undefined;

  constructor(readonly file: string, private readonly options: AppendFileOptions = {}) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.#handle = open(file, 'a', 0o600);
    // A failure to open is reported by the first append.
    this.#handle.catch(() => undefined);
  }

  /** Appends `text`; resolves once it is on disk (or written, without sync). Order of calls is kept. */
  append(text: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.file} is closed`));
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ text, resolve, reject });
      if (!this.#scheduled && !this.#writing) {
        this.#scheduled = true;
        setImmediate(() => this.#drain());
      }
    });
  }

  get pending(): number {
    return this.#queue.length;
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#writing || this.#queue.length === 0) return;
    this.#writing = this.#writeBatches().finally(() => {
      this.#writing = undefined;
      // Appends made between the last batch and now (their callers ran before this) go next.
      if (this.#queue.length > 0 && !this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#drain());
      }
    });
  }

  async #writeBatches(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        if (this.#failure) throw this.#failure;
        const handle = await this.#handle;
        await handle.appendFile(batch.map((p) => p.text).join(''), 'utf8');
        if (this.options.sync !== false) await handle.datasync();
        await this.options.afterBatch?.({
          truncate: async () => {
            await handle.truncate(0);
            await handle.datasync();
          },
        });
        for (const p of batch) p.resolve();
      } catch (err) {
        // A write that failed half-way leaves the file in an unknown state: refuse all further appends.
        this.#failure ??= new Error(`cannot append to ${this.file}: ${(err as Error).message}`);
        for (const p of batch) p.reject(this.#failure);
      }
    }
  }

  /** Resolves when everything appended so far is on disk. */
  async flush(): Promise<void> {
    while (this.#writing || this.#queue.length > 0) {
      if (!this.#writing) this.#drain();
      await this.#writing;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    try {
      await (await this.#handle).close();
    } catch {
      // never opened: nothing to close
    }
  }
}
