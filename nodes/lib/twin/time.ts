// Millisecond timestamps and their ISO 8601 text. Updates arrive in bursts within the same
// millisecond, so the last conversion is remembered.

/** Remembers the last conversion; keep one per stream of times (clock, source times). */
export class IsoCache {
  private lastMs = NaN;
  private lastIso = '';

  text(ms: number): string {
    if (ms === this.lastMs) return this.lastIso;
    this.lastIso = new Date(ms).toISOString();
    this.lastMs = ms;
    return this.lastIso;
  }
}

const shared = new IsoCache();

export function isoTime(ms: number): string {
  return shared.text(ms);
}

/** ms since the epoch from an ISO 8601 text written by isoTime; NaN when it is not one. */
export function parseIsoTime(text: unknown): number {
  return typeof text === 'string' ? Date.parse(text) : NaN;
}

/** A sourceTime must be a finite, non-negative number of ms (the message contract's shape). */
export function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 8.64e15;
}
