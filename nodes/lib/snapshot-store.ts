// Keeps a node's state on disk as one JSON snapshot so a restart loses nothing: written atomically
// (temporary file, fsync, rename, fsync of the folder), at once after changes that matter (desired
// values, queued commands, relationships) and at most once per delay for changes the sources send
// again anyway (telemetry). Used by the twin graph, the reconciler and every node that persists state.
//
// Urgent writes are synchronous: the change is on disk before the message that made it goes on.
// Delayed writes make the JSON at once, from the state itself (no copy), and write and fsync it off
// the event loop. Making the JSON holds the loop (see below), so a delayed write waits for a quiet
// moment: telemetry comes in bursts (an OPC UA publish cycle, a poll), and a write made in the gap
// after a burst delays no value, where one that lands in a burst delays every value of it. When
// changes never pause that long, the write goes ahead after a second delay at the most.
//
// Making the JSON natively in one go is the cheapest way: for a twin of 10,000 telemetries it
// takes ~12 ms (20 to 28 ms inside a busy Node-RED). A deep copy turned into JSON in slices (what
// this did before) held the loop for the copy alone about as long, cost four to six times the CPU
// in all, and its copies and pieces lived across slices, so they were promoted and made every
// young-generation collection slower. A delayed write that finishes after a newer write has
// landed is dropped, so the file never goes back in time.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

let storesMade = 0;

export class SnapshotStore {
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** numbers the writes in the order their snapshots were taken */
  #taken = 0;
  /** the number of the newest write that reached the file */
  #landed = 0;
  /** the delayed write in flight, if any */
  #background: Promise<void> | undefined;
  /** tells this store's temporary file from another store's on the same file (during a redeploy) */
  readonly #instance = ++storesMade;

  readonly #telemetryDelayMs: number;
  readonly #quietMs: number;
  /** performance.now() of the latest delayed change */
  #lastChangeAt = 0;
  /** performance.now() when the pending delayed write became due (0: none is waiting for quiet) */
  #dueAt = 0;

  /**
   * `snapshot` gives the state to save, or undefined when there is none. It is turned into JSON
   * before anything else runs, so it may hold the state's own objects rather than copies.
   * `telemetryDelayMs`: how long a delayed change may wait before its write is due (default 1000);
   * `quietMs`: how long no change must have come before a due write is made (default 25, 0 for
   * none); a due write waits for quiet for at most another `telemetryDelayMs`.
   */
  constructor(readonly file: string, private readonly snapshot: () => unknown, private readonly onError: (err: Error) => void, options: { telemetryDelayMs?: number; quietMs?: number } = {}) {
    this.#telemetryDelayMs = options.telemetryDelayMs ?? 1000;
    this.#quietMs = options.quietMs ?? 25;
  }

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
      return;
    }
    // One clock read per change (a change is a message, not a value): cheap next to the message.
    this.#lastChangeAt = performance.now();
    if (!this.#timer) this.#timer = setTimeout(() => this.#flushInBackground(), this.#telemetryDelayMs);
  }

  /** Writes the snapshot now, synchronously, if anything changed since the last write. */
  flush(): void {
    this.#cancelTimer();
    if (!this.#dirty) return;
    this.#dirty = false;
    const number = ++this.#taken;
    try {
      const snapshot = this.snapshot();
      // Nothing to save (the state is not there, e.g. a node that failed to start): the file stays.
      if (snapshot === undefined) return;
      writeAtomically(this.file, JSON.stringify(snapshot));
      this.#landed = number;
    } catch (err) {
      this.#dirty = true;
      this.onError(err as Error);
    }
  }

  /**
   * Writes what is left at once and stops taking changes; settles when no delayed write is in
   * flight. The final write supersedes a delayed one still in flight, so a store opened next on
   * the same file (a redeploy) never sees its file replaced by the old store's older state.
   */
  close(): Promise<void> {
    if (this.#background) this.#dirty = true;
    this.flush();
    this.#closed = true;
    return this.idle();
  }

  /** Settles when no delayed write is in flight (for close handlers and tests). */
  async idle(): Promise<void> {
    while (this.#background) await this.#background;
  }

  #cancelTimer(): void {
    this.#dueAt = 0;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * How long a due delayed write must still wait for a quiet moment: until `quietMs` have passed
   * since the latest change, but no longer than `telemetryDelayMs` after it fell due (0: write now).
   */
  #quietLeftMs(now: number): number {
    const left = this.#lastChangeAt + this.#quietMs - now;
    if (left <= 0 || now - this.#dueAt >= this.#telemetryDelayMs) return 0;
    return Math.min(left, this.#dueAt + this.#telemetryDelayMs - now);
  }

  #flushInBackground(): void {
    this.#timer = undefined;
    if (this.#closed || !this.#dirty) return;
    const now = performance.now();
    if (this.#dueAt === 0) this.#dueAt = now;
    const wait = this.#quietLeftMs(now);
    if (wait > 0) {
      this.#timer = setTimeout(() => this.#flushInBackground(), Math.ceil(wait));
      return;
    }
    if (this.#background) {
      // One delayed write at a time: try again after this one (waiting for quiet again then).
      this.#dueAt = 0;
      this.#timer = setTimeout(() => this.#flushInBackground(), this.#telemetryDelayMs);
      return;
    }
    this.#dirty = false;
    this.#dueAt = 0;
    const number = ++this.#taken;
    let json: string;
    try {
      const snapshot = this.snapshot();
      if (snapshot === undefined) return;
      json = JSON.stringify(snapshot);
    } catch (err) {
      this.#dirty = true;
      this.onError(err as Error);
      return;
    }
    const temporary = `${this.file}.${process.pid}.${this.#instance}.tmp`;
    this.#background = writeAndSync(temporary, json)
      .then(() => {
        // A newer snapshot landed while this one was being written: it must not be replaced.
        if (this.#landed > number) {
          removeQuietly(temporary);
          return;
        }
        renameSync(temporary, this.file);
        this.#landed = number;
        return syncFolder(this.file);
      })
      .catch((err: Error) => {
        removeQuietly(temporary);
        if (this.#landed > number) return;
        this.onError(err);
        if (!this.#closed) this.changed(false);
      })
      .finally(() => {
        this.#background = undefined;
      });
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
  fsyncFolder(file);
}

/** Writes a file and waits for the disk to confirm it, without blocking the event loop. */
async function writeAndSync(file: string, text: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a temporary file if it is there; a failure here must not hide the write's own error. */
function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // nothing to clean up where the folder itself is unusable
  }
}

/** The same as fsyncFolder, off the event loop. */
async function syncFolder(file: string): Promise<void> {
  const handle = await open(path.dirname(file), 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A rename must reach the disk too: fsync of the folder that holds the file. */
function fsyncFolder(file: string): void {
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
