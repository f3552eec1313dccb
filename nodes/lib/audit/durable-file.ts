// Durable file writing shared by the audit log and the replay state: an append-only file whose
// appends are group-committed (the appends of one event-loop turn go out in one write; one
// fdatasync in the background covers every write since the previous one began; each append's
// promise resolves only once its bytes are on disk), and atomic whole-file replacement (temporary
// file, fsync, rename, fsync of the folder).
import { closeSync, fdatasync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
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

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface AppendFileOptions {
  /** fdatasync after each group (default true). Without it a power loss can lose the last groups. */
  sync?: boolean;
  /**
   * Called right after each group was written (synchronously, nothing else writing meanwhile): the
   * place to compact (write a snapshot elsewhere, then truncate this file).
   */
  afterWrite?: (file: { truncate(): void }) => void;
}

/**
 * An append-only file with group commit. Appends queue in memory; once per event-loop turn the
 * queue is written with one synchronous write (page cache: microseconds), and one fdatasync runs in
 * the background for everything written since the last one began. Each append's promise resolves
 * when its bytes are durable. One writer per file in a process.
 */
export class AppendFile {
  #fd: number | undefined;
  #queue: string[] = [];
  #queueWaiters: Waiter[] = [];
  #scheduled = false;
  /** Written, waiting for the next fdatasync. */
  #unsynced: Waiter[] = [];
  #syncing = false;
  #closed = false;
  #failure: Error | undefined;

  constructor(readonly file: string, private readonly options: AppendFileOptions = {}) {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      this.#fd = openSync(file, 'a', 0o600);
    } catch (err) {
      this.#failure = new Error(`cannot open ${file}: ${(err as Error).message}`);
    }
  }

  /** Appends `text`; resolves once it is on disk (or written, without sync). Order of calls is kept. */
  append(text: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.file} is closed`));
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(text);
      this.#queueWaiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  get pending(): number {
    return this.#queueWaiters.length + this.#unsynced.length;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#write());
  }

  #fail(err: Error, waiters: Waiter[]): void {
    // A write that failed half-way leaves the file in an unknown state: refuse all further appends.
    this.#failure ??= new Error(`cannot append to ${this.file}: ${err.message}`);
    for (const w of waiters) w.reject(this.#failure);
  }

  #write(): void {
    this.#scheduled = false;
    const texts = this.#queue;
    const waiters = this.#queueWaiters;
    this.#queue = [];
    this.#queueWaiters = [];
    if (waiters.length === 0) return;
    if (this.#failure || this.#fd === undefined) return this.#fail(this.#failure ?? new Error('not open'), waiters);
    const fd = this.#fd;
    try {
      const bytes = Buffer.from(texts.join(''), 'utf8');
      for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      this.options.afterWrite?.({ truncate: () => { ftruncateSync(fd, 0); fdatasyncSync(fd); } });
    } catch (err) {
      return this.#fail(err as Error, waiters);
    }
    if (this.options.sync === false) {
      for (const w of waiters) w.resolve();
      return;
    }
    this.#unsynced.push(...waiters);
    this.#sync();
  }

  #sync(): void {
    if (this.#syncing || this.#unsynced.length === 0 || this.#fd === undefined) return;
    this.#syncing = true;
    const group = this.#unsynced;
    this.#unsynced = [];
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      if (err) this.#fail(err, group);
      else for (const w of group) w.resolve();
      this.#sync();
    });
  }

  /** Resolves when everything appended so far is on disk. */
  flush(): Promise<void> {
    if (this.#queueWaiters.length === 0 && this.#unsynced.length === 0 && !this.#syncing) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push('');
      this.#queueWaiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = undefined;
    }
  }
}
