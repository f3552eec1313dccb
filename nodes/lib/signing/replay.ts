// What a verifier remembers to refuse replays: the last accepted seq of each issuer (kept for ever,
// it is small) and the nonces and cmdIds seen, each only until the envelope that carried it has
// expired (exp + skew): after that a replay is refused as expired anyway, so memory stays bounded by
// the command rate times the longest allowed lifetime.

export const REPLAY_FORMAT = 'twinflow/replay-state';

export interface ReplaySnapshot {
  format: typeof REPLAY_FORMAT;
  formatVersion: 1;
  /** Last accepted seq per issuer. */
  seq: Record<string, number>;
  /** [kind, id, forgetAt]: kind 'n' (nonce) or 'c' (cmdId); forgetAt in ms since the epoch. */
  seen: [string, string, number][];
}

/** One accepted envelope, as a journal stores it to rebuild the state after a restart. */
export interface ReplayEntry {
  iss: string;
  seq: number;
  nonce: string;
  cmdId: string;
  forgetAt: number;
}

export class ReplayState {
  readonly #seq = new Map<string, number>();
  // Insertion-ordered: roughly by forgetAt, so pruning pops from the front (see prune).
  readonly #nonces = new Map<string, number>();
  readonly #cmdIds = new Map<string, number>();

  /** At most this many remembered ids (nonces plus cmdIds); beyond, new commands are refused (fail closed). */
  constructor(readonly maxEntries = 2_000_000) {}

  lastSeq(issuer: string): number {
    return this.#seq.get(issuer) ?? 0;
  }

  issuers(): string[] {
    return [...this.#seq.keys()];
  }

  get rememberedIds(): number {
    return this.#nonces.size + this.#cmdIds.size;
  }

  hasNonce(nonce: string, now: number): boolean {
    const until = this.#nonces.get(nonce);
    return until !== undefined && until >= now;
  }

  hasCmdId(cmdId: string, now: number): boolean {
    const until = this.#cmdIds.get(cmdId);
    return until !== undefined && until >= now;
  }

  isFull(now: number): boolean {
    if (this.rememberedIds + 2 <= this.maxEntries) return false;
    this.prune(now);
    return this.rememberedIds + 2 > this.maxEntries;
  }

  /** Records an accepted envelope. */
  accept(entry: ReplayEntry): void {
    this.apply(entry, Number.NEGATIVE_INFINITY);
  }

  #remember(map: Map<string, number>, id: string, forgetAt: number): void {
    const previous = map.get(id);
    if (previous !== undefined) {
      if (previous >= forgetAt) return;
      map.delete(id);
    }
    map.set(id, forgetAt);
  }

  /**
   * Forgets ids whose envelopes have expired. Entries are inserted in arrival order, which is close to
   * forgetAt order; an entry that expires later than one behind it holds that one back until it
   * expires itself, at most one envelope lifetime. Lookups compare times, so a held entry is
   * harmless.
   */
  prune(now: number): void {
    for (const map of [this.#nonces, this.#cmdIds]) {
      for (const [id, until] of map) {
        if (until >= now) break;
        map.delete(id);
      }
    }
  }

  snapshot(now: number): ReplaySnapshot {
    this.prune(now);
    const seen: [string, string, number][] = [];
    for (const [id, until] of this.#nonces) seen.push(['n', id, until]);
    for (const [id, until] of this.#cmdIds) seen.push(['c', id, until]);
    return { format: REPLAY_FORMAT, formatVersion: 1, seq: Object.fromEntries(this.#seq), seen };
  }

  /** Throws a TypeError when `snapshot` is not a replay snapshot; entries already expired are dropped. */
  static restore(snapshot: unknown, now: number, maxEntries?: number): ReplayState {
    const s = snapshot as ReplaySnapshot;
    if (s === null || typeof s !== 'object' || s.format !== REPLAY_FORMAT || s.formatVersion !== 1 || typeof s.seq !== 'object' || s.seq === null || !Array.isArray(s.seen)) {
      throw new TypeError(`not a ${REPLAY_FORMAT} snapshot of format version 1`);
    }
    const state = new ReplayState(maxEntries);
    for (const [issuer, seq] of Object.entries(s.seq)) {
      if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError(`seq of issuer ${issuer}: ${String(seq)} is not a non-negative integer`);
      state.#seq.set(issuer, seq);
    }
    for (const item of s.seen) {
      if (!Array.isArray(item) || (item[0] !== 'n' && item[0] !== 'c') || typeof item[1] !== 'string' || typeof item[2] !== 'number') throw new TypeError(`seen: ${JSON.stringify(item)} is not [kind, id, forgetAt]`);
      if (item[2] < now) continue;
      state.#remember(item[0] === 'n' ? state.#nonces : state.#cmdIds, item[1], item[2]);
    }
    return state;
  }

  /** Applies a journal entry (idempotent: applying one twice changes nothing). */
  apply(entry: ReplayEntry, now: number): void {
    if (entry.seq > this.lastSeq(entry.iss)) this.#seq.set(entry.iss, entry.seq);
    if (entry.forgetAt >= now) {
      this.#remember(this.#nonces, entry.nonce, entry.forgetAt);
      this.#remember(this.#cmdIds, entry.cmdId, entry.forgetAt);
    }
  }
}
