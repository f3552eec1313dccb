// Persistence of the replay state (verifier side) and of the per-issuer seq counter (signer side),
// so that a restart opens no replay hole and a signer never reuses a seq.
//
// Replay state: <base>.json holds a snapshot (written atomically), <base>.journal one JSON line per
// accepted envelope, group-committed; an accepted command is released only once its journal line is
// on disk. Every 10,000 entries the snapshot is rewritten and the journal emptied. On load the
// journal is replayed onto the snapshot; a torn final line (a crash in the middle of an append whose
// command was therefore never released) is reported and ignored.
//
// Seq counter: <file> holds the highest seq reserved; seqs are handed out from blocks of 1,000
// reserved ahead (one fsync per block), so a restart skips the unused rest of a block (gaps are
// fine: verifiers require increase, not contiguity).
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { AppendFile, writeFileAtomically } from '../audit/durable-file';
import { ReplayState, type ReplayEntry } from './replay';

export interface ReplayLoadReport {
  fromSnapshot: boolean;
  journalEntries: number;
  /** The torn final journal line, when the last run stopped in the middle of an append. */
  tornTail?: string;
}

const COMPACT_EVERY = 10_000;

export class ReplayStore {
  readonly #journal: AppendFile;
  #sinceCompaction = 0;

  private constructor(readonly base: string, readonly state: ReplayState, readonly report: ReplayLoadReport, sync: boolean, clock: () => number) {
    this.#journal = new AppendFile(`${base}.journal`, {
      sync,
      afterWrite: (file) => {
        if (this.#sinceCompaction < COMPACT_EVERY) return;
        // Runs synchronously right after a write, and the snapshot holds everything accepted so far
        // (entries still queued for the journal too): the journal can be emptied safely.
        writeFileAtomically(`${base}.json`, JSON.stringify(this.state.snapshot(clock())));
        this.#sinceCompaction = 0;
        file.truncate();
      },
    });
  }

  /**
   * Loads the state saved under `base` (a path without extension). Throws when the snapshot or a
   * journal line other than the last cannot be read; the caller decides (keep aside, refuse).
   */
  static open(base: string, now: number, options: { maxEntries?: number; sync?: boolean; clock?: () => number } = {}): ReplayStore {
    const snapshotFile = `${base}.json`;
    const journalFile = `${base}.journal`;
    let state: ReplayState;
    const report: ReplayLoadReport = { fromSnapshot: false, journalEntries: 0 };
    if (existsSync(snapshotFile)) {
      const text = readFileSync(snapshotFile, 'utf8');
      try {
        state = ReplayState.restore(JSON.parse(text), now, options.maxEntries);
      } catch (err) {
        throw new Error(`${snapshotFile} is not a replay state (${(err as Error).message})`);
      }
      report.fromSnapshot = true;
    } else {
      state = new ReplayState(options.maxEntries);
    }
    if (existsSync(journalFile)) {
      const text = readFileSync(journalFile, 'utf8');
      const lines = text.split('\n');
      const last = lines.pop() as string; // '' when the file ends with a newline
      if (last !== '') report.tornTail = last;
      lines.forEach((line, i) => {
        let entry: ReplayEntry;
        try {
          entry = JSON.parse(line) as ReplayEntry;
        } catch {
          throw new Error(`${journalFile} line ${i + 1} is not JSON`);
        }
        if (typeof entry?.iss !== 'string' || !Number.isSafeInteger(entry.seq) || typeof entry.nonce !== 'string' || typeof entry.cmdId !== 'string' || typeof entry.forgetAt !== 'number') {
          throw new Error(`${journalFile} line ${i + 1} is not a replay entry`);
        }
        state.apply(entry, now);
        report.journalEntries++;
      });
      if (report.tornTail !== undefined) {
        // Cut the torn line so the next append starts on a line of its own.
        writeFileAtomically(journalFile, lines.map((l) => `${l}\n`).join(''));
      }
    }
    return new ReplayStore(base, state, report, options.sync !== false, options.clock ?? Date.now);
  }

  /** Journals an accepted entry (already in the state); resolves once it is on disk. */
  record(entry: ReplayEntry): Promise<void> {
    this.#sinceCompaction++;
    return this.#journal.append(`${JSON.stringify(entry)}\n`);
  }

  flush(): Promise<void> {
    return this.#journal.flush();
  }

  close(): Promise<void> {
    return this.#journal.close();
  }

  /** Moves unreadable state aside (never deletes it) and returns where it went. */
  static setAside(base: string): string[] {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const moved: string[] = [];
    for (const ext of ['.json', '.journal']) {
      if (!existsSync(`${base}${ext}`)) continue;
      const aside = `${base}${ext}.unreadable-${stamp}`;
      renameSync(`${base}${ext}`, aside);
      moved.push(aside);
    }
    return moved;
  }
}

const SEQ_FORMAT = 'twinflow/seq-counter';

/** A per-issuer seq counter that survives restarts; one per file in a process (see acquireSeqCounter). */
export class SeqCounter {
  #next: number;
  #reservedUpTo: number;

  constructor(readonly file: string, readonly issuer: string, private readonly block = 1000) {
    let reserved = 0;
    if (existsSync(file)) {
      let saved: { format?: string; issuer?: string; reservedUpTo?: unknown };
      try {
        saved = JSON.parse(readFileSync(file, 'utf8')) as typeof saved;
      } catch (err) {
        throw new Error(`${file} is not JSON (${(err as Error).message})`);
      }
      if (saved.format !== SEQ_FORMAT || !Number.isSafeInteger(saved.reservedUpTo) || (saved.reservedUpTo as number) < 0) throw new Error(`${file} is not a ${SEQ_FORMAT} file`);
      if (saved.issuer !== issuer) throw new Error(`${file} counts for issuer ${String(saved.issuer)}, not ${issuer}`);
      reserved = saved.reservedUpTo as number;
    }
    this.#next = reserved + 1;
    this.#reservedUpTo = reserved;
  }

  /** The next seq; never one handed out before, also across restarts. Throws when it cannot persist. */
  next(): number {
    if (this.#next > this.#reservedUpTo) {
      const reservedUpTo = this.#reservedUpTo + this.block;
      writeFileAtomically(this.file, JSON.stringify({ format: SEQ_FORMAT, issuer: this.issuer, reservedUpTo }));
      this.#reservedUpTo = reservedUpTo;
    }
    return this.#next++;
  }

  /** The last seq handed out (0 when none yet in this run). */
  get last(): number {
    return this.#next - 1;
  }
}

const counters = new Map<string, { counter: SeqCounter; refs: number }>();

/** One shared counter per file in this process, so two signers of one issuer never hand out the same seq. */
export function acquireSeqCounter(file: string, issuer: string): { counter: SeqCounter; release(): void } {
  let entry = counters.get(file);
  if (entry && entry.counter.issuer !== issuer) throw new Error(`${file} is in use for issuer ${entry.counter.issuer}`);
  if (!entry) {
    entry = { counter: new SeqCounter(file, issuer), refs: 0 };
    counters.set(file, entry);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    counter: held.counter,
    release: () => {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs === 0 && counters.get(file) === held) counters.delete(file);
    },
  };
}
