// Millisecond timestamps and their ISO 8601 text. Updates arrive in bursts within the same
// millisecond, so the last conversion is remembered.

const DAY = 86_400_000;
const ZERO = 48;

/**
 * ISO 8601 text of ms timestamps, exactly as Date#toISOString writes it, but several times faster
 * (that call costs about a microsecond, more than the rest of an update) and as a flat string:
 * a string built by concatenation is a tree of pieces that costs six times the memory, and a twin
 * keeps many of these. The characters are kept in an array whose date part changes once a day.
 * Remembers the last conversion too; keep one cache per stream of times (the clock, source times).
 */
export class IsoCache {
  private lastMs = NaN;
  private lastIso = '';
  private day = NaN;
  /** Char codes of `YYYY-MM-DDTHH:MM:SS.mmmZ` for the current day, or undefined for years outside 0000-9999. */
  private chars: number[] | undefined = undefined;

  text(ms: number): string {
    if (ms === this.lastMs) return this.lastIso;
    const whole = Math.floor(ms);
    const day = Math.floor(whole / DAY);
    if (day !== this.day) {
      const iso = new Date(day * DAY).toISOString();
      this.chars = iso.length === 24 ? Array.from(iso, (c) => c.charCodeAt(0)) : undefined;
      this.day = day;
    }
    const chars = this.chars;
    if (chars === undefined) this.lastIso = new Date(whole).toISOString();
    else {
      let rest = whole - day * DAY;
      const hours = (rest / 3_600_000) | 0;
      rest -= hours * 3_600_000;
      const minutes = (rest / 60_000) | 0;
      rest -= minutes * 60_000;
      const seconds = (rest / 1000) | 0;
      rest -= seconds * 1000;
      chars[11] = ZERO + ((hours / 10) | 0);
      chars[12] = ZERO + (hours % 10);
      chars[14] = ZERO + ((minutes / 10) | 0);
      chars[15] = ZERO + (minutes % 10);
      chars[17] = ZERO + ((seconds / 10) | 0);
      chars[18] = ZERO + (seconds % 10);
      chars[20] = ZERO + ((rest / 100) | 0);
      chars[21] = ZERO + (((rest / 10) | 0) % 10);
      chars[22] = ZERO + (rest % 10);
      this.lastIso = String.fromCharCode.apply(null, chars);
    }
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
