// ISA-18.2 alarm states for any condition a node watches (divergence, anomaly, staleness).
//
// The condition (is the abnormal situation present?) and the operator's acknowledgement are
// separate inputs; the state is derived from both, as the standard's state diagram says:
//
//   normal --condition--> active-unacked --ack--> active-acked --clears--> normal
//   active-unacked --clears--> rtn-unacked --ack--> normal
//   rtn-unacked --condition again--> active-unacked
//   any --shelve--> shelved --unshelve or expiry--> active-unacked if the condition is present, else normal
//
// Every change of state is returned as an Alert (the message contract's shape) so the caller can
// send it; a call that changes nothing returns undefined.
import type { Alert, AlertSeverity, AlertState, TwinRef } from '../messages';

export interface AlarmCondition {
  severity: AlertSeverity;
  message: string;
  twin?: TwinRef;
}

interface AlarmRecord {
  id: string;
  state: AlertState;
  /** is the abnormal condition present now (tracked while shelved too) */
  conditionActive: boolean;
  severity: AlertSeverity;
  message: string;
  twin?: TwinRef;
  since: number;
  shelvedUntil?: number;
  acknowledgedBy?: string;
  shelvedBy?: string;
}

/** What an alarm table holds, as plain JSON, so it can be persisted and restored. */
export interface AlarmSnapshot {
  version: 1;
  alarms: AlarmRecord[];
}

export class AlarmError extends Error {
  constructor(readonly code: 'unknownAlarm' | 'badShelve' | 'badSnapshot', message: string) {
    super(message);
    this.name = 'AlarmError';
  }
}

export interface AlarmTableOptions {
  /** The `source` of every alert (usually the node's name or id). */
  source: string;
}

export class AlarmTable {
  readonly #alarms = new Map<string, AlarmRecord>();
  readonly #source: string;

  constructor(options: AlarmTableOptions) {
    this.#source = options.source;
  }

  /** The condition is present. Raises the alarm, or refreshes its text while it stays raised. */
  raise(id: string, condition: AlarmCondition, now: number): Alert | undefined {
    const alarm = this.#alarms.get(id);
    if (!alarm) {
      const created: AlarmRecord = { id, state: 'active-unacked', conditionActive: true, ...condition, since: now };
      this.#alarms.set(id, created);
      return this.#alert(created);
    }
    alarm.severity = condition.severity;
    alarm.message = condition.message;
    if (condition.twin) alarm.twin = condition.twin;
    if (alarm.conditionActive) return undefined;
    alarm.conditionActive = true;
    if (alarm.state === 'shelved') return undefined;
    return this.#enter(alarm, 'active-unacked', now);
  }

  /** The condition has returned to normal. */
  clear(id: string, now: number, message?: string): Alert | undefined {
    const alarm = this.#alarms.get(id);
    if (!alarm || !alarm.conditionActive) return undefined;
    alarm.conditionActive = false;
    if (message) alarm.message = message;
    if (alarm.state === 'shelved') return undefined;
    if (alarm.state === 'active-acked') return this.#enter(alarm, 'normal', now);
    return this.#enter(alarm, 'rtn-unacked', now);
  }

  /** An operator acknowledged the alarm. Acknowledging an alarm that needs none changes nothing. */
  acknowledge(id: string, now: number, by?: string): Alert | undefined {
    const alarm = this.#require(id);
    if (alarm.state === 'active-unacked') {
      alarm.acknowledgedBy = by;
      return this.#enter(alarm, 'active-acked', now);
    }
    if (alarm.state === 'rtn-unacked') {
      alarm.acknowledgedBy = by;
      return this.#enter(alarm, 'normal', now);
    }
    return undefined;
  }

  /** Suppresses the alarm until `until` (ms since epoch) or until unshelved. */
  shelve(id: string, now: number, until?: number, by?: string): Alert | undefined {
    const alarm = this.#require(id);
    if (until !== undefined && (!Number.isFinite(until) || until <= now)) {
      throw new AlarmError('badShelve', `shelve ${id}: the end of shelving must be a time in the future`);
    }
    alarm.shelvedUntil = until;
    alarm.shelvedBy = by;
    if (alarm.state === 'shelved') return undefined;
    return this.#enter(alarm, 'shelved', now);
  }

  unshelve(id: string, now: number): Alert | undefined {
    const alarm = this.#require(id);
    if (alarm.state !== 'shelved') return undefined;
    delete alarm.shelvedUntil;
    delete alarm.shelvedBy;
    return this.#enter(alarm, alarm.conditionActive ? 'active-unacked' : 'normal', now);
  }

  /** Ends shelving whose time is up; returns the alerts that changed. */
  tick(now: number): Alert[] {
    const changed: Alert[] = [];
    for (const alarm of this.#alarms.values()) {
      if (alarm.state === 'shelved' && alarm.shelvedUntil !== undefined && alarm.shelvedUntil <= now) {
        const alert = this.unshelve(alarm.id, now);
        if (alert) changed.push(alert);
      }
    }
    return changed;
  }

  get(id: string): Alert | undefined {
    const alarm = this.#alarms.get(id);
    return alarm && this.#alert(alarm);
  }

  has(id: string): boolean {
    return this.#alarms.has(id);
  }

  /** Alarms that are not normal, most recent first: what an alarm list on a dashboard shows. */
  list(): Alert[] {
    return [...this.#alarms.values()]
      .filter((a) => a.state !== 'normal')
      .sort((a, b) => b.since - a.since)
      .map((a) => this.#alert(a));
  }

  /** Forgets alarms that are normal (they carry no information any more). */
  forgetNormal(): void {
    for (const [id, alarm] of this.#alarms) if (alarm.state === 'normal' && !alarm.conditionActive) this.#alarms.delete(id);
  }

  snapshot(): AlarmSnapshot {
    return { version: 1, alarms: [...this.#alarms.values()].map((a) => ({ ...a })) };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as AlarmSnapshot | undefined;
    if (!s || s.version !== 1 || !Array.isArray(s.alarms)) throw new AlarmError('badSnapshot', 'alarm snapshot: expected { version: 1, alarms: [...] }');
    const states: AlertState[] = ['active-unacked', 'active-acked', 'rtn-unacked', 'normal', 'shelved'];
    const restored = new Map<string, AlarmRecord>();
    for (const [i, a] of s.alarms.entries()) {
      if (!a || typeof a.id !== 'string' || !states.includes(a.state) || typeof a.since !== 'number') {
        throw new AlarmError('badSnapshot', `alarm snapshot: alarms[${i}] needs an id, a known state and a since time`);
      }
      restored.set(a.id, { ...a });
    }
    this.#alarms.clear();
    for (const [id, a] of restored) this.#alarms.set(id, a);
  }

  #require(id: string): AlarmRecord {
    const alarm = this.#alarms.get(id);
    if (!alarm) throw new AlarmError('unknownAlarm', `alarm ${JSON.stringify(id)}: no such alarm`);
    return alarm;
  }

  #enter(alarm: AlarmRecord, state: AlertState, now: number): Alert {
    alarm.state = state;
    alarm.since = now;
    return this.#alert(alarm);
  }

  #alert(alarm: AlarmRecord): Alert {
    const alert: Alert = { id: alarm.id, source: this.#source, severity: alarm.severity, state: alarm.state, message: alarm.message, since: alarm.since };
    if (alarm.twin) alert.twin = alarm.twin;
    return alert;
  }
}
