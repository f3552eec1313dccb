// Pure part of the twin-replay node: what a message asks (state at a time, changes in a window, a
// replay into the flow), checked with errors that name the field, and replayed changes as messages
// in the message contract.
import { toChangeEvent, type StoredEvent, type TwinEventLog, type TwinStateAt } from '../lib/eventlog';
import { eventDetail, HistoryError, parseTime, sampleOfEvent } from '../lib/history';

export type ReplayAction = 'state' | 'events' | 'replay' | 'stop';
export const ACTIONS: readonly ReplayAction[] = ['state', 'events', 'replay', 'stop'];

export interface ReplaySettings {
  action: ReplayAction;
  twinId: string;
  /** Replay speed: 0 as fast as possible, 1 as it happened, 10 ten times faster. */
  speed: number;
  /** Most changes one request lists or replays. */
  limit: number;
}

export interface Request {
  action: ReplayAction;
  twinId?: string;
  at?: number;
  from?: number;
  to?: number;
  speed: number;
  limit: number;
}

type Msg = Record<string, unknown>;

/** Reads a message against the node's settings; throws HistoryError naming the field. */
export function readRequest(msg: Msg, settings: ReplaySettings, now: number): Request {
  const action = (msg.action ?? settings.action) as ReplayAction;
  if (!ACTIONS.includes(action)) throw new HistoryError('action', `action: "${String(msg.action)}" must be state, events, replay or stop`);
  const payload = (msg.payload !== null && typeof msg.payload === 'object' && !(msg.payload instanceof Date) && !Array.isArray(msg.payload) ? msg.payload : {}) as Msg;
  const given = (msg.twin as { id?: unknown } | undefined)?.id ?? payload.twin;
  if (given !== undefined && (typeof given !== 'string' || given === '')) throw new HistoryError('twin.id', 'twin.id: must be the id of a twin');
  const twinId = (given as string | undefined) ?? (settings.twinId || undefined);
  const speed = payload.speed ?? msg.speed ?? settings.speed;
  if (typeof speed !== 'number' || !(speed >= 0) || speed > 10_000) throw new HistoryError('speed', `speed: ${JSON.stringify(speed)} must be 0 (as fast as possible) or a factor up to 10000 (1 = as it happened)`);
  const limit = payload.limit ?? settings.limit;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 1_000_000) throw new HistoryError('limit', `limit: ${JSON.stringify(limit)} must be a whole number from 1 to 1000000`);
  const request: Request = { action, ...(twinId !== undefined ? { twinId } : {}), speed, limit: limit as number };
  if (action === 'state') {
    if (twinId === undefined) throw new HistoryError('twin.id', 'twin.id: the twin whose state to rebuild is required (msg.twin.id, payload.twin or the node\'s twin)');
    const at = payload.at ?? (typeof msg.payload === 'number' || typeof msg.payload === 'string' || msg.payload instanceof Date ? msg.payload : undefined);
    request.at = at === undefined ? now : parseTime(at, 'payload.at', now);
  } else if (action === 'events' || action === 'replay') {
    request.from = parseTime(payload.from ?? 0, 'payload.from', now);
    request.to = payload.to === undefined ? now : parseTime(payload.to, 'payload.to', now);
    if (request.from > request.to) throw new HistoryError('payload.from', `payload.from: ${new Date(request.from).toISOString()} is after payload.to ${new Date(request.to).toISOString()}`);
  }
  return request;
}

/** The answer to a state request: the twin as it was at `at`, or document null when the log has nothing of it by then. */
export function stateAnswer(log: TwinEventLog, twinId: string, at: number): Record<string, unknown> {
  const state: TwinStateAt | undefined = log.stateAt(twinId, at);
  if (!state) return { twinId, at, atIso: new Date(at).toISOString(), version: 0, document: null, relationships: [] };
  return {
    twinId,
    at,
    atIso: new Date(at).toISOString(),
    version: state.version,
    changedAt: state.changedAt,
    changedAtIso: new Date(state.changedAt).toISOString(),
    document: state.document,
    relationships: state.relationships,
  };
}

/** A logged change as a message: samples as topic/payload (so charts and twins take them), others with their detail. */
export function replayMessage(stored: StoredEvent, model: string | undefined): Msg {
  const event = toChangeEvent(stored);
  const twin = { id: stored.stream, ...(model !== undefined ? { model } : {}) };
  const replay = { id: stored.id, version: stored.version, time: stored.time };
  if (event.kind === 'telemetry' || event.kind === 'property') {
    const sample = sampleOfEvent(event);
    if (sample) {
      return {
        topic: sample.path,
        payload: sample.value,
        twin,
        ...(sample.sourceTime !== undefined ? { sourceTime: sample.sourceTime } : {}),
        ...(sample.quality !== undefined ? { quality: sample.quality } : {}),
        event,
        replay,
      };
    }
  }
  const payload = stored.kind === 'baseline' ? (stored.data as { document?: unknown }).document : eventDetail(event);
  return { topic: event.path ?? event.kind, payload, twin, event, replay };
}

/** Waits before each replayed change (ms), keeping the gaps between them divided by `speed`. */
export function replayDelays(events: readonly StoredEvent[], speed: number, maxGapMs = 60_000): number[] {
  return events.map((e, i) => {
    if (speed === 0 || i === 0) return 0;
    const gap = e.time - (events[i - 1] as StoredEvent).time;
    return Math.min(maxGapMs, Math.max(0, gap / speed));
  });
}
