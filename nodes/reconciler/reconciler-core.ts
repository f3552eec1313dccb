// The reconciler's domain: per twin, the actual state (what the sensors report), the desired state
// (versioned per property), a FIFO queue that releases one change or command at a time and waits
// for the sensors to confirm it, and divergence alarms when actual stops following desired.
//
// Pure: every method takes the time and returns the effects (what to release to the machine, which
// acknowledgements to write back to the twin, which alerts changed, how queue entries progressed).
// The node adapter sends them; tests and benchmarks call this directly.
import type { Alert, AlertSeverity, CommandEnvelope } from '../lib/messages';
import { AlarmTable, type AlarmAction, applyAlarmAction, type AlarmSnapshot } from '../lib/alarms';

/** A desired property and the actual value that shows whether the machine follows it. */
export interface PairRule {
  /** the writable property, e.g. spindle/speedSetpoint */
  desired: string;
  /** what the sensors report for it, e.g. spindle/speed */
  actual: string;
  /** tolerance in the property's unit; the larger of absolute and percent applies */
  absolute: number;
  /** tolerance in % of the desired value */
  percent: number;
  /** how long actual may be out of tolerance before the alarm is raised, ms */
  graceMs: number;
  /** words for the alarm text, e.g. "spindle speed" (default from the actual path) */
  label: string;
  /** what the operator should check, e.g. "check motor driver" */
  hint: string;
  severity: AlertSeverity;
}

/** A command counts as done when the twin shows this value (e.g. startCycle: machineState = running). */
export interface CommandRule {
  command: string;
  actual: string;
  equals: string | number | boolean;
}

export interface ReconcilerSettings {
  rules: PairRule[];
  commandRules: CommandRule[];
  /** how long a released entry may wait for confirmation, ms */
  confirmTimeoutMs: number;
  /** most entries waiting per twin */
  queueLimit: number;
  /** the `source` of alerts */
  source: string;
}

export type EntryStatus = 'queued' | 'released' | 'written' | 'confirmed' | 'failed' | 'timed-out' | 'cancelled';

export interface QueueEntry {
  id: string;
  twin: string;
  kind: 'desired' | 'command';
  /** desired: the property path */
  path?: string;
  value?: unknown;
  version?: number;
  command?: CommandEnvelope;
  issuer?: string;
  enqueuedAt: number;
  releasedAt?: number;
  /** the machine accepted the write or call */
  written?: boolean;
}

/** An acknowledgement for the twin's property metadata, in the vocabulary of device twins. */
export interface Ack {
  twin: string;
  path: string;
  ac: number;
  av: number;
  ad: string;
}

/** How a queue entry moved on; `ac`/`ad` follow the ack vocabulary for commands too. */
export interface Progress {
  entry: QueueEntry;
  status: EntryStatus;
  ac?: number;
  ad: string;
}

export interface Effects {
  release: QueueEntry[];
  acks: Ack[];
  alerts: Alert[];
  progress: Progress[];
  /** something that must survive a restart changed */
  persist: boolean;
}

export class ReconcileError extends Error {
  constructor(readonly code: 'input-invalid' | 'stale-version' | 'queue-full' | 'unknown-entry', message: string) {
    super(message);
    this.name = 'ReconcileError';
  }
}

interface Desired {
  value: unknown;
  version: number;
  issuer?: string;
}

interface TwinState {
  id: string;
  model: string;
  /** highest desired version seen per path: versions only go up, also past cancelled ones */
  versions: Map<string, number>;
  /** latest accepted desired value per path (queued or applied) */
  desired: Map<string, Desired>;
  /** desired values released to the machine: what actual is compared against */
  applied: Map<string, Desired & { since: number }>;
  actual: Map<string, { value: unknown; time: number }>;
  queue: QueueEntry[];
  /** per rule: since when actual is out of tolerance of applied desired (NaN: in tolerance or unknown) */
  divergedSince: Float64Array;
}

export interface ReconcilerSnapshot {
  version: 1;
  sequence: number;
  twins: { id: string; model: string; versions: [string, number][]; desired: [string, Desired][]; applied: [string, Desired & { since: number }][]; queue: QueueEntry[] }[];
  alarms: AlarmSnapshot;
}

/** How a twin looks to a dashboard or a debugging operator. */
export interface TwinView {
  twin: string;
  pairs: { desired: string; actual: string; desiredValue?: unknown; version?: number; actualValue?: unknown; inTolerance?: boolean }[];
  queue: { id: string; kind: string; what: string; status: 'waiting' | 'in flight'; since: number }[];
}

const numeric = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function labelOf(path: string): string {
  return path.replace(/\//g, ' ').replace(/([a-z])([A-Z])/g, (_m, a: string, b: string) => `${a} ${b.toLowerCase()}`);
}

export class Reconciler {
  readonly #settings: ReconcilerSettings;
  readonly #twins = new Map<string, TwinState>();
  readonly #alarms: AlarmTable;
  /** rule indices by the path they read, for checks on every change */
  readonly #rulesByActual = new Map<string, number[]>();
  readonly #rulesByDesired = new Map<string, number>();
  readonly #commandRules = new Map<string, CommandRule>();
  #sequence = 0;

  constructor(settings: ReconcilerSettings) {
    this.#settings = settings;
    this.#alarms = new AlarmTable({ source: settings.source });
    settings.rules.forEach((rule, i) => {
      if (this.#rulesByDesired.has(rule.desired)) throw new ReconcileError('input-invalid', `rules[${i}].desired: ${rule.desired} has a rule already`);
      this.#rulesByDesired.set(rule.desired, i);
      const list = this.#rulesByActual.get(rule.actual) ?? [];
      list.push(i);
      this.#rulesByActual.set(rule.actual, list);
    });
    for (const rule of settings.commandRules) this.#commandRules.set(rule.command, rule);
  }

  get twinCount(): number {
    return this.#twins.size;
  }

  /** A value the sensors reported. Checks divergence and confirmation for what it touches. */
  sample(twinId: string, path: string, value: unknown, now: number): Effects {
    const effects = empty();
    const twin = this.#twin(twinId);
    twin.actual.set(path, { value, time: now });
    const rules = this.#rulesByActual.get(path);
    if (rules) for (const i of rules) this.#checkRule(twin, i, now, effects);
    this.#checkHead(twin, now, effects);
    return effects;
  }

  /** A desired value: validated, versioned and queued; released at once when the queue is empty. */
  desire(twinId: string, path: string, value: unknown, options: { version?: number; issuer?: string }, now: number): Effects {
    if (typeof path !== 'string' || path === '') throw new ReconcileError('input-invalid', 'topic: the desired property path (e.g. spindle/speedSetpoint) is required');
    if (value === undefined) throw new ReconcileError('input-invalid', `${path}: the desired value (payload) is missing`);
    const ruleIndex = this.#rulesByDesired.get(path);
    if (ruleIndex !== undefined && !numeric(value)) {
      throw new ReconcileError('input-invalid', `${path}: desired value ${JSON.stringify(value)} must be a number to be compared with ${this.#settings.rules[ruleIndex]!.actual}`);
    }
    const twin = this.#twins.get(twinId);
    const latest = twin?.versions.get(path) ?? 0;
    let version = latest + 1;
    if (options.version !== undefined) {
      if (!Number.isSafeInteger(options.version) || options.version < 1) throw new ReconcileError('input-invalid', `desired.version: ${JSON.stringify(options.version)} is not a whole number from 1 up`);
      if (options.version <= latest) {
        throw new ReconcileError('stale-version', `${path}: desired version ${options.version} is not newer than version ${latest}, which the reconciler holds already`);
      }
      version = options.version;
    }
    const target = twin ?? this.#twin(twinId);
    this.#checkRoom(target);
    const desired: Desired = { value, version, ...(options.issuer !== undefined ? { issuer: options.issuer } : {}) };
    target.desired.set(path, desired);
    target.versions.set(path, version);
    return this.#enqueue(target, { kind: 'desired', path, value, version, ...(options.issuer !== undefined ? { issuer: options.issuer } : {}) }, now);
  }

  /** A command for the machine, queued behind earlier changes. */
  command(twinId: string, command: CommandEnvelope, now: number): Effects {
    if (!command || typeof command.name !== 'string' || command.name === '') throw new ReconcileError('input-invalid', 'command.name: a command needs a name (command = { name, request, id, issuer, issuedAt })');
    const twin = this.#twin(twinId);
    this.#checkRoom(twin);
    return this.#enqueue(twin, { kind: 'command', command, issuer: command.issuer }, now);
  }

  /** What the machine answered to a released entry (the opcua-out result). */
  outcome(entryId: string, result: { good: boolean; status?: string; description?: string }, now: number): Effects {
    const effects = empty();
    const twin = this.#twinOfEntry(entryId);
    const head = twin?.queue[0];
    if (!twin || !head || head.id !== entryId || head.releasedAt === undefined) {
      throw new ReconcileError('unknown-entry', `reconcile.entry: ${entryId} is not the command in flight (answered too late, or not released by this reconciler)`);
    }
    if (!result.good) {
      const status = result.status ?? 'Bad';
      this.#finish(twin, 'failed', codeForStatus(status), `the machine refused ${describe(head)}: ${status}${result.description ? ` (${result.description})` : ''}`, now, effects);
      return effects;
    }
    head.written = true;
    effects.persist = true;
    if (head.kind === 'command' && !this.#commandRules.has(head.command!.name)) {
      this.#finish(twin, 'confirmed', 200, `${describe(head)}: done (${result.status ?? 'Good'})`, now, effects);
      return effects;
    }
    effects.progress.push({ entry: head, status: 'written', ac: 202, ad: `${describe(head)}: accepted by the machine; waiting for the sensors to confirm` });
    this.#checkHead(twin, now, effects);
    return effects;
  }

  /** The level-triggered loop: divergence of every pair, confirmation timeouts, shelving expiry. */
  tick(now: number): Effects {
    const effects = empty();
    const rules = this.#settings.rules;
    for (const twin of this.#twins.values()) {
      for (let i = 0; i < rules.length; i++) this.#checkRule(twin, i, now, effects);
      const head = twin.queue[0];
      if (head?.releasedAt !== undefined) {
        this.#checkHead(twin, now, effects);
        if (twin.queue[0] === head && now - head.releasedAt >= this.#settings.confirmTimeoutMs) {
          this.#finish(twin, 'timed-out', 504, `${describe(head)}: not confirmed within ${this.#settings.confirmTimeoutMs / 1000} s${this.#whyNotConfirmed(twin, head)}`, now, effects);
        }
      }
    }
    effects.alerts.push(...this.#alarms.tick(now));
    return effects;
  }

  alarmAction(action: AlarmAction, now: number): Effects {
    const effects = empty();
    effects.alerts = applyAlarmAction(this.#alarms, action, now);
    effects.persist = effects.alerts.length > 0;
    return effects;
  }

  /** Drops every entry still waiting (not the one in flight) for a twin, or for all twins. */
  cancelWaiting(twinId: string | undefined, by = 'an operator'): Effects {
    const effects = empty();
    for (const twin of this.#twins.values()) {
      if (twinId !== undefined && twin.id !== twinId) continue;
      const keep = twin.queue[0]?.releasedAt !== undefined ? 1 : 0;
      for (const entry of twin.queue.splice(keep)) {
        if (entry.kind === 'desired') this.#rollBackDesired(twin, entry);
        this.#report(entry, 'cancelled', 410, `${describe(entry)}: cancelled by ${by} before release`, effects);
      }
    }
    effects.persist = effects.progress.length > 0;
    return effects;
  }

  view(twinId: string): TwinView | undefined {
    const twin = this.#twins.get(twinId);
    if (!twin) return undefined;
    return {
      twin: twin.id,
      pairs: this.#settings.rules.map((rule, i) => {
        const applied = twin.applied.get(rule.desired);
        const actual = twin.actual.get(rule.actual);
        return {
          desired: rule.desired,
          actual: rule.actual,
          ...(applied ? { desiredValue: applied.value, version: applied.version } : {}),
          ...(actual ? { actualValue: actual.value } : {}),
          ...(applied && actual && numeric(applied.value) && numeric(actual.value) ? { inTolerance: Number.isNaN(twin.divergedSince[i]!) } : {}),
        };
      }),
      queue: twin.queue.map((e) => ({ id: e.id, kind: e.kind, what: describe(e), status: e.releasedAt === undefined ? 'waiting' : 'in flight', since: e.releasedAt ?? e.enqueuedAt })),
    };
  }

  /** The twin's model, for alerts (messages from the twin node carry it). */
  noteModel(twinId: string, model: string): void {
    this.#twin(twinId).model = model;
  }

  modelOf(twinId: string): string {
    return this.#twins.get(twinId)?.model ?? '';
  }

  twinIds(): string[] {
    return [...this.#twins.keys()];
  }

  alerts(): Alert[] {
    return this.#alarms.list();
  }

  queueLength(twinId?: string): number {
    let n = 0;
    for (const twin of this.#twins.values()) if (twinId === undefined || twin.id === twinId) n += twin.queue.length;
    return n;
  }

  snapshot(): ReconcilerSnapshot {
    return {
      version: 1,
      sequence: this.#sequence,
      twins: [...this.#twins.values()].map((t) => ({ id: t.id, model: t.model, versions: [...t.versions], desired: [...t.desired], applied: [...t.applied], queue: t.queue.map((e) => ({ ...e })) })),
      alarms: this.#alarms.snapshot(),
    };
  }

  /**
   * Restores desired state, queues and alarms after a restart and resumes: a property write that was
   * in flight is released again (writing the same value twice is harmless); a command in flight is
   * confirmed by its rule if it has one, otherwise reported as of unknown outcome (never re-sent).
   */
  restore(snapshot: unknown, now: number): Effects {
    const s = snapshot as ReconcilerSnapshot | undefined;
    if (!s || s.version !== 1 || !Array.isArray(s.twins) || !Number.isSafeInteger(s.sequence)) {
      throw new ReconcileError('input-invalid', 'reconciler snapshot: expected { version: 1, sequence, twins: [...] }');
    }
    s.twins.forEach((t, i) => {
      if (!t || typeof t.id !== 'string' || !Array.isArray(t.desired) || !Array.isArray(t.applied) || !Array.isArray(t.queue)) {
        throw new ReconcileError('input-invalid', `reconciler snapshot: twins[${i}] needs an id, desired, applied and queue`);
      }
    });
    this.#alarms.restore(s.alarms);
    this.#twins.clear();
    this.#sequence = s.sequence;
    const effects = empty();
    for (const t of s.twins) {
      const twin = this.#twin(t.id);
      twin.model = typeof t.model === 'string' ? t.model : '';
      for (const [path, v] of t.versions ?? []) twin.versions.set(path, v);
      for (const [path, d] of t.desired) twin.desired.set(path, d);
      for (const [path, d] of t.applied) twin.applied.set(path, d);
      twin.queue = t.queue.map((e) => ({ ...e }));
      const head = twin.queue[0];
      if (head?.releasedAt === undefined) continue;
      if (head.kind === 'desired') {
        delete head.releasedAt;
        delete head.written;
      } else if (this.#commandRules.has(head.command!.name)) {
        head.releasedAt = now;
        continue;
      } else {
        this.#finish(twin, 'failed', 500, `${describe(head)}: outcome unknown, Node-RED restarted before the machine answered; not sent again`, now, effects);
        continue;
      }
    }
    for (const twin of this.#twins.values()) this.#releaseNext(twin, now, effects);
    effects.persist = true;
    return effects;
  }

  #twin(id: string): TwinState {
    let twin = this.#twins.get(id);
    if (!twin) {
      const divergedSince = new Float64Array(this.#settings.rules.length).fill(Number.NaN);
      twin = { id, model: '', versions: new Map(), desired: new Map(), applied: new Map(), actual: new Map(), queue: [], divergedSince };
      this.#twins.set(id, twin);
    }
    return twin;
  }

  #twinOfEntry(entryId: string): TwinState | undefined {
    const hash = entryId.lastIndexOf('#');
    return hash > 0 ? this.#twins.get(entryId.slice(0, hash)) : undefined;
  }

  #checkRoom(twin: TwinState): void {
    if (twin.queue.length >= this.#settings.queueLimit) {
      throw new ReconcileError('queue-full', `queue: twin ${twin.id} has ${twin.queue.length} entries waiting, the limit; wait for the machine to catch up or cancel the waiting ones`);
    }
  }

  #enqueue(twin: TwinState, fields: Omit<QueueEntry, 'id' | 'twin' | 'enqueuedAt'>, now: number): Effects {
    const effects = empty();
    const entry: QueueEntry = { id: `${twin.id}#${++this.#sequence}`, twin: twin.id, enqueuedAt: now, ...fields };
    twin.queue.push(entry);
    effects.persist = true;
    this.#report(entry, 'queued', undefined, `${describe(entry)}: queued (position ${twin.queue.length})`, effects);
    this.#releaseNext(twin, now, effects);
    return effects;
  }

  #releaseNext(twin: TwinState, now: number, effects: Effects): void {
    const head = twin.queue[0];
    if (!head || head.releasedAt !== undefined) return;
    head.releasedAt = now;
    effects.release.push(head);
    effects.persist = true;
    if (head.kind === 'desired') {
      twin.applied.set(head.path!, { value: head.value, version: head.version!, ...(head.issuer !== undefined ? { issuer: head.issuer } : {}), since: now });
      const rule = this.#rulesByDesired.get(head.path!);
      if (rule !== undefined) twin.divergedSince[rule] = Number.NaN;
      effects.acks.push({ twin: twin.id, path: head.path!, ac: 202, av: head.version!, ad: `${describe(head)}: sent to the machine` });
    }
    this.#report(head, 'released', 202, `${describe(head)}: sent to the machine`, effects);
  }

  /** Confirms the entry in flight when the sensors show it took effect. */
  #checkHead(twin: TwinState, now: number, effects: Effects): void {
    const head = twin.queue[0];
    if (!head || head.releasedAt === undefined) return;
    if (head.kind === 'desired') {
      const ruleIndex = this.#rulesByDesired.get(head.path!);
      const rule = ruleIndex === undefined ? undefined : this.#settings.rules[ruleIndex];
      const actual = twin.actual.get(rule ? rule.actual : head.path!);
      // A reading from before the release says nothing about whether the machine followed it.
      if (!actual || actual.time < head.releasedAt) return;
      const confirmed = rule ? numeric(actual.value) && withinTolerance(rule, head.value as number, actual.value) : sameValue(actual.value, head.value);
      if (confirmed) this.#finish(twin, 'confirmed', 200, `${describe(head)}: confirmed, ${rule ? rule.actual : head.path} is ${show(actual.value)}`, now, effects);
      return;
    }
    const rule = this.#commandRules.get(head.command!.name);
    if (!rule) return;
    const actual = twin.actual.get(rule.actual);
    if (actual && actual.time >= head.releasedAt && sameValue(actual.value, rule.equals)) {
      this.#finish(twin, 'confirmed', 200, `${describe(head)}: confirmed, ${rule.actual} is ${show(actual.value)}`, now, effects);
    }
  }

  #finish(twin: TwinState, status: EntryStatus, code: number, description: string, now: number, effects: Effects): void {
    const head = twin.queue.shift()!;
    effects.persist = true;
    if (head.kind === 'desired') {
      effects.acks.push({ twin: twin.id, path: head.path!, ac: code, av: head.version!, ad: description });
    }
    this.#report(head, status, code, description, effects);
    this.#releaseNext(twin, now, effects);
  }

  /** A cancelled desired value that never reached the machine is no longer desired. */
  #rollBackDesired(twin: TwinState, entry: QueueEntry): void {
    const current = twin.desired.get(entry.path!);
    if (current?.version !== entry.version) return;
    const earlier = [...twin.queue].reverse().find((e) => e.kind === 'desired' && e.path === entry.path);
    const applied = twin.applied.get(entry.path!);
    if (earlier) twin.desired.set(entry.path!, { value: earlier.value, version: earlier.version! });
    else if (applied) twin.desired.set(entry.path!, { value: applied.value, version: applied.version });
    else twin.desired.delete(entry.path!);
  }

  #report(entry: QueueEntry, status: EntryStatus, ac: number | undefined, ad: string, effects: Effects): void {
    effects.progress.push({ entry, status, ...(ac !== undefined ? { ac } : {}), ad });
  }

  #checkRule(twin: TwinState, i: number, now: number, effects: Effects): void {
    const rule = this.#settings.rules[i]!;
    const applied = twin.applied.get(rule.desired);
    const actual = twin.actual.get(rule.actual);
    if (!applied || !actual || !numeric(applied.value) || !numeric(actual.value)) return;
    const alarmId = `${twin.id}:${rule.desired}:divergence`;
    if (withinTolerance(rule, applied.value, actual.value)) {
      if (!Number.isNaN(twin.divergedSince[i]!)) {
        twin.divergedSince[i] = Number.NaN;
        const alert = this.#alarms.clear(alarmId, now, `${twin.id}: desired and actual ${rule.label} in sync again (${show(actual.value)} for ${show(applied.value)})`);
        if (alert) {
          effects.alerts.push(alert);
          effects.persist = true;
        }
      }
      return;
    }
    // Out of tolerance: counted from the release of the desired value at the earliest, so a
    // machine ramping to a new setpoint has the whole grace time to get there.
    if (Number.isNaN(twin.divergedSince[i]!)) twin.divergedSince[i] = Math.max(now, applied.since);
    const since = twin.divergedSince[i]!;
    if (now - since < rule.graceMs) return;
    const tolerance = toleranceOf(rule, applied.value);
    const message = `${twin.id}: desired and actual ${rule.label} out of sync for ${Math.round((now - since) / 100) / 10} s (desired ${show(applied.value)}, actual ${show(actual.value)}, tolerance ±${show(tolerance)})${rule.hint ? `: ${rule.hint}` : ''}`;
    const alert = this.#alarms.raise(alarmId, { severity: rule.severity, message, twin: { id: twin.id, model: twin.model } }, now);
    if (alert) {
      effects.alerts.push(alert);
      effects.persist = true;
    }
  }

  #whyNotConfirmed(twin: TwinState, entry: QueueEntry): string {
    if (entry.kind === 'desired') {
      const ruleIndex = this.#rulesByDesired.get(entry.path!);
      const rule = ruleIndex === undefined ? undefined : this.#settings.rules[ruleIndex];
      const path = rule ? rule.actual : entry.path!;
      const actual = twin.actual.get(path);
      const tolerance = rule ? `, tolerance ±${show(toleranceOf(rule, entry.value as number))}` : '';
      return actual ? ` (${path} is ${show(actual.value)}, desired ${show(entry.value)}${tolerance})` : ` (no reading of ${path} since it was sent)`;
    }
    const rule = this.#commandRules.get(entry.command!.name);
    if (!rule) return entry.written ? '' : ' (the machine did not answer)';
    const actual = twin.actual.get(rule.actual);
    return ` (${rule.actual} is ${actual ? show(actual.value) : 'unknown'}, expected ${show(rule.equals)})`;
  }
}

function empty(): Effects {
  return { release: [], acks: [], alerts: [], progress: [], persist: false };
}

export function toleranceOf(rule: PairRule, desired: number): number {
  return Math.max(rule.absolute, (Math.abs(desired) * rule.percent) / 100);
}

function withinTolerance(rule: PairRule, desired: number, actual: number): boolean {
  return Math.abs(actual - desired) <= toleranceOf(rule, desired);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (numeric(a) && numeric(b)) return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(v: unknown): string {
  return numeric(v) ? String(Math.round(v * 1000) / 1000) : JSON.stringify(v);
}

function describe(entry: QueueEntry): string {
  return entry.kind === 'desired' ? `${entry.path} = ${show(entry.value)} (v${entry.version})` : `${entry.command!.name}${entry.command!.id ? ` ${entry.command!.id}` : ''}`;
}

/** An OPC UA refusal as an ack code: the caller's fault (4xx) or the machine's (5xx). */
export function codeForStatus(status: string): number {
  if (/BadInvalidState|BadConditionAlreadyEnabled|BadStateNotActive/.test(status)) return 409;
  if (/BadUserAccessDenied|BadNotWritable|BadNotExecutable|BadSecurityModeInsufficient/.test(status)) return 403;
  if (/BadTypeMismatch|BadOutOfRange|BadInvalidArgument|BadArgumentsMissing|BadTooManyArguments|BadNodeIdUnknown|BadMethodInvalid/.test(status)) return 400;
  if (/BadTimeout/.test(status)) return 504;
  return 502;
}
