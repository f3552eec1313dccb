// ISA-18.2 alarms shared by every node that raises alerts, and the operator's inputs to them.
import type { Alert } from '../messages';
import { AlarmError, type AlarmTable } from './alarm-table';

export * from './alarm-table';

/** An operator's action on an alarm, as it arrives on a message. */
export interface AlarmAction {
  action: 'acknowledge' | 'shelve' | 'unshelve';
  /** one alarm id, or '*' for every alarm that the action applies to */
  id: string;
  by?: string;
  /** shelve: until this time (ms since epoch) */
  until?: number;
}

/**
 * Reads `msg.alarm = { action, id, by?, until? | forSeconds? }`; undefined when the message carries
 * no alarm action. Throws an AlarmError naming the field for a malformed one.
 */
export function alarmActionFrom(msg: Record<string, unknown>, now: number): AlarmAction | undefined {
  const raw = msg.alarm;
  if (raw === undefined) return undefined;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new AlarmError('badShelve', 'alarm: expected an object { action, id }');
  const a = raw as Record<string, unknown>;
  if (a.action !== 'acknowledge' && a.action !== 'shelve' && a.action !== 'unshelve') {
    throw new AlarmError('badShelve', `alarm.action: must be acknowledge, shelve or unshelve, not ${JSON.stringify(a.action)}`);
  }
  if (typeof a.id !== 'string' || a.id === '') throw new AlarmError('badShelve', 'alarm.id: must name an alarm (or "*" for all)');
  const action: AlarmAction = { action: a.action, id: a.id };
  if (a.by !== undefined) {
    if (typeof a.by !== 'string') throw new AlarmError('badShelve', 'alarm.by: must be a text naming the operator');
    action.by = a.by;
  }
  if (a.action === 'shelve') {
    if (a.until !== undefined && a.forSeconds !== undefined) throw new AlarmError('badShelve', 'alarm: give until or forSeconds, not both');
    if (a.forSeconds !== undefined) {
      if (typeof a.forSeconds !== 'number' || !(a.forSeconds > 0)) throw new AlarmError('badShelve', 'alarm.forSeconds: must be a number of seconds above 0');
      action.until = now + a.forSeconds * 1000;
    } else if (a.until !== undefined) {
      const until = typeof a.until === 'string' ? Date.parse(a.until) : a.until;
      if (typeof until !== 'number' || !Number.isFinite(until)) throw new AlarmError('badShelve', 'alarm.until: must be a time (ms since epoch or ISO text)');
      action.until = until;
    }
  }
  return action;
}

/** Applies an operator action to the table; returns the alerts whose state changed. */
export function applyAlarmAction(table: AlarmTable, action: AlarmAction, now: number): Alert[] {
  const ids = action.id === '*' ? table.list().map((a) => a.id) : [action.id];
  const changed: Alert[] = [];
  for (const id of ids) {
    const alert =
      action.action === 'acknowledge' ? table.acknowledge(id, now, action.by)
      : action.action === 'shelve' ? table.shelve(id, now, action.until, action.by)
      : table.unshelve(id, now);
    if (alert) changed.push(alert);
  }
  return changed;
}

/** The alert as a message: topic = alarm id, payload = one line of text. */
export function alertMessage(alert: Alert): { topic: string; payload: string; alert: Alert } {
  return { topic: alert.id, payload: `${alert.state}: ${alert.message}`, alert };
}
