// The command guard's domain: every command or desired change is checked against the twin's state
// and the plant's rules before it may reach a machine. The checks run in a fixed order (role, rate
// limit, interlocks, engineering range, rate of change, approval, what-if); the first that fails
// decides, and every decision comes with the rule that made it, a sentence saying why, and a
// snapshot of the twin values the rules looked at, for the audit log.
//
// Pure: the caller passes the time and a reader of twin state, and sends what the results say.

export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type Literal = string | number | boolean;
/** A bound: a number, or the path of a twin value (e.g. spindle/maxSpeed, the rated maximum). */
export type Bound = number | { path: string };

export interface RoleRule {
  role: string;
  issuers: string[];
  /** command names and property paths this role may send; '*' for all */
  allow: string[];
}
export interface RangeRule {
  target: string;
  min?: Bound;
  max?: Bound;
}
export interface RateLimitRule {
  /** command name or property path; '*' for every request */
  target: string;
  /** count per issuer (true) or for everyone together */
  perIssuer: boolean;
  max: number;
  windowMs: number;
}
export interface RampRule {
  target: string;
  /** largest change per second */
  ratePerSecond: number;
  /** reject a faster change, or ramp to it in steps */
  mode: 'reject' | 'ramp';
  /** the step period of a ramp, ms */
  periodMs: number;
}
export interface InterlockRule {
  /** command name or property path; '*' for every request */
  target: string;
  /** the twin value that must satisfy the condition (a permissive) */
  path: string;
  op: Operator;
  value: Literal;
  /** what the rule protects, for the rejection, e.g. "the door must be closed" */
  text: string;
}
export interface ApprovalRule {
  target: string;
  /** only when the requested value satisfies this (e.g. > 10000); always without it */
  op?: Operator;
  value?: Literal;
  approvers: 1 | 2;
  timeoutMs: number;
  text: string;
}

export interface GuardSettings {
  roles: RoleRule[];
  rateLimits: RateLimitRule[];
  interlocks: InterlockRule[];
  ranges: RangeRule[];
  ramps: RampRule[];
  approvals: ApprovalRule[];
  /** desired paths and command names simulated before release; '*' for all; empty: no what-if */
  whatIf: string[];
  whatIfTimeoutMs: number;
}

export interface GuardRequest {
  /** the command id (or a generated one): approvals and what-if verdicts refer to it */
  id: string;
  kind: 'command' | 'desired';
  /** command name or property path */
  target: string;
  /** desired value or command request */
  value: unknown;
  issuer: string;
  twin: string;
  receivedAt: number;
}

export type Rule = 'input' | 'role' | 'rate-limit' | 'interlock' | 'range' | 'rate-of-change' | 'approval' | 'what-if' | 'checks';
export type Decision = 'passed' | 'rejected' | 'held' | 'approved' | 'what-if';

export interface Verdict {
  decision: Decision;
  rule: Rule;
  reason: string;
  request: GuardRequest;
  /** the twin values the rules looked at, at the moment of the decision */
  snapshot: Record<string, unknown>;
  /** ramp mode: the values to release one per period, the last being the request's value */
  steps?: number[];
  periodMs?: number;
  /** who approved, for released requests that needed approval */
  approvals?: { by: string; at: number }[];
}

export interface Hold {
  request: GuardRequest;
  stage: 'approval' | 'what-if';
  needed: number;
  approvals: { by: string; at: number }[];
  heldAt: number;
  deadline: number;
  text: string;
}

/** Reads a twin value; undefined when the twin or the value is unknown. */
export type TwinReader = (twinId: string, path: string) => unknown;

export class GuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuardError';
  }
}

const OPERATORS: Record<Operator, (a: unknown, b: Literal) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => typeof a === 'number' && typeof b === 'number' && a < b,
  '<=': (a, b) => typeof a === 'number' && typeof b === 'number' && a <= b,
  '>': (a, b) => typeof a === 'number' && typeof b === 'number' && a > b,
  '>=': (a, b) => typeof a === 'number' && typeof b === 'number' && a >= b,
};

const applies = (target: string, request: GuardRequest) => target === '*' || target === request.target;
const show = (v: unknown) => (typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : JSON.stringify(v));
const numeric = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export interface GuardSnapshot {
  version: 1;
  holds: Hold[];
  lastPassed: [string, { value: number; at: number }][];
}

export class CommandGuard {
  readonly #settings: GuardSettings;
  readonly #read: TwinReader;
  /** request times per rate-limit rule and key, oldest first */
  readonly #recent = new Map<string, number[]>();
  /** the last value released per twin and path, the baseline of the rate-of-change check */
  readonly #lastPassed = new Map<string, { value: number; at: number }>();
  readonly #holds = new Map<string, Hold>();

  constructor(settings: GuardSettings, read: TwinReader) {
    this.#settings = settings;
    this.#read = read;
  }

  /** Checks a new request. A held request comes back later through approve(), verdict() or tick(). */
  check(request: GuardRequest, now: number): Verdict {
    if (this.#holds.has(request.id)) {
      return this.#verdict('rejected', 'input', `${request.id}: a request with this id is held already (ids must be unique)`, request);
    }
    const role = this.#checkRole(request);
    if (role) return role;
    const limited = this.#checkRateLimit(request, now);
    if (limited) return limited;
    return this.#checkState(request, now, { approval: true });
  }

  /** An approval or rejection by a person. Returns the verdict when the request leaves the hold. */
  approve(id: string, decision: 'approve' | 'reject', by: string, now: number, reason?: string): Verdict | undefined {
    const hold = this.#holds.get(id);
    if (!hold) throw new GuardError(`approval.id: ${JSON.stringify(id)} is not waiting for approval`);
    if (hold.stage !== 'approval') throw new GuardError(`approval.id: ${id} is approved already and waits for its what-if verdict`);
    if (typeof by !== 'string' || by.trim() === '') throw new GuardError('approval.by: the approver\'s identity is required');
    if (by === hold.request.issuer) throw new GuardError(`approval.by: ${by} issued ${id} and cannot approve it (four-eyes rule)`);
    if (decision === 'reject') {
      this.#holds.delete(id);
      return this.#verdict('rejected', 'approval', `${describe(hold.request)}: rejected by ${by}${reason ? `: ${reason}` : ''}`, hold.request);
    }
    if (hold.approvals.some((a) => a.by === by)) {
      throw new GuardError(`approval.by: ${by} approved ${id} already; ${hold.needed} different people must approve`);
    }
    hold.approvals.push({ by, at: now });
    if (hold.approvals.length < hold.needed) return undefined;
    this.#holds.delete(id);
    const approvals = hold.approvals;
    // The plant may have changed while the request waited: the state checks run again.
    const verdict = this.#checkState(hold.request, now, { approval: false, approvals });
    return verdict.decision === 'passed' || verdict.decision === 'what-if' ? { ...verdict, approvals } : verdict;
  }

  /** The what-if simulation's answer for a request waiting in the what-if stage. */
  verdict(id: string, result: { verdict: unknown; summary?: unknown }, now: number): Verdict {
    const hold = this.#holds.get(id);
    if (!hold || hold.stage !== 'what-if') throw new GuardError(`guard.hold: ${JSON.stringify(id)} is not waiting for a what-if verdict`);
    this.#holds.delete(id);
    const summary = typeof result.summary === 'string' ? result.summary : String(result.verdict);
    if (result.verdict !== 'safe') {
      return this.#verdict('rejected', 'what-if', `${describe(hold.request)}: the simulation found it unsafe (${summary})`, hold.request);
    }
    return this.#pass(hold.request, now, `${describe(hold.request)}: passed every check; simulated safe (${summary})`, 'what-if', hold.approvals);
  }

  /** Rejects holds whose time is up. */
  tick(now: number): Verdict[] {
    const out: Verdict[] = [];
    for (const [id, hold] of this.#holds) {
      if (hold.deadline > now) continue;
      this.#holds.delete(id);
      const seconds = Math.round((hold.deadline - hold.heldAt) / 100) / 10;
      const reason = hold.stage === 'approval'
        ? `${describe(hold.request)}: approval timed out after ${seconds} s (${hold.approvals.length} of ${hold.needed} approvals${hold.approvals.length ? `: ${hold.approvals.map((a) => a.by).join(', ')}` : ''})`
        : `${describe(hold.request)}: no what-if verdict within ${seconds} s`;
      out.push(this.#verdict('rejected', hold.stage, reason, hold.request));
    }
    return out;
  }

  pending(): Hold[] {
    return [...this.#holds.values()];
  }

  snapshot(): GuardSnapshot {
    return { version: 1, holds: this.pending().map((h) => ({ ...h, approvals: [...h.approvals] })), lastPassed: [...this.#lastPassed] };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as GuardSnapshot | undefined;
    if (!s || s.version !== 1 || !Array.isArray(s.holds) || !Array.isArray(s.lastPassed)) throw new GuardError('guard snapshot: expected { version: 1, holds, lastPassed }');
    s.holds.forEach((h, i) => {
      if (!h?.request || typeof h.request.id !== 'string' || typeof h.deadline !== 'number') throw new GuardError(`guard snapshot: holds[${i}] needs a request and a deadline`);
    });
    this.#holds.clear();
    for (const h of s.holds) this.#holds.set(h.request.id, h);
    this.#lastPassed.clear();
    for (const [k, v] of s.lastPassed) this.#lastPassed.set(k, v);
  }

  #checkRole(request: GuardRequest): Verdict | undefined {
    const roles = this.#settings.roles;
    if (roles.length === 0) return undefined;
    const mine = roles.filter((r) => r.issuers.includes(request.issuer) || r.issuers.includes('*'));
    if (mine.length === 0) return this.#verdict('rejected', 'role', `${describe(request)}: issuer ${request.issuer} has no role`, request);
    if (mine.some((r) => r.allow.includes('*') || r.allow.includes(request.target))) return undefined;
    return this.#verdict('rejected', 'role', `${describe(request)}: issuer ${request.issuer} (role ${mine.map((r) => r.role).join(', ')}) may not send ${request.target}`, request);
  }

  #checkRateLimit(request: GuardRequest, now: number): Verdict | undefined {
    const hits: number[][] = [];
    for (const [i, rule] of this.#settings.rateLimits.entries()) {
      if (!applies(rule.target, request)) continue;
      const key = `${i}|${rule.target === '*' ? '*' : request.target}|${rule.perIssuer ? request.issuer : '*'}`;
      let times = this.#recent.get(key);
      if (!times) this.#recent.set(key, (times = []));
      while (times.length > 0 && times[0]! <= now - rule.windowMs) times.shift();
      if (times.length >= rule.max) {
        const who = rule.perIssuer ? ` from ${request.issuer}` : '';
        const what = rule.target === '*' ? 'requests' : request.target;
        return this.#verdict('rejected', 'rate-limit', `${describe(request)}: more than ${rule.max} ${what}${who} within ${rule.windowMs / 1000} s`, request);
      }
      hits.push(times);
    }
    // Counted only when no limit refused it, so a flood cannot lock out the requests after it.
    for (const times of hits) times.push(now);
    return undefined;
  }

  #checkState(request: GuardRequest, now: number, options: { approval: boolean; approvals?: Hold['approvals'] }): Verdict {
    for (const rule of this.#settings.interlocks) {
      if (!applies(rule.target, request)) continue;
      const value = this.#read(request.twin, rule.path);
      if (value === undefined) {
        return this.#verdict('rejected', 'interlock', `${describe(request)}: ${rule.text}, but ${rule.path} of ${request.twin} is unknown (interlocks fail safe)`, request);
      }
      if (!OPERATORS[rule.op](value, rule.value)) {
        return this.#verdict('rejected', 'interlock', `${describe(request)}: ${rule.text} (${rule.path} is ${show(value)}, required ${rule.op} ${show(rule.value)})`, request);
      }
    }
    for (const rule of this.#settings.ranges) {
      if (!applies(rule.target, request)) continue;
      if (!numeric(request.value)) return this.#verdict('rejected', 'range', `${describe(request)}: ${show(request.value)} is not a number, so its range cannot be checked`, request);
      for (const [side, bound] of [['min', rule.min], ['max', rule.max]] as const) {
        if (bound === undefined) continue;
        const limit = typeof bound === 'number' ? bound : this.#read(request.twin, bound.path);
        const from = typeof bound === 'number' ? '' : ` (${bound.path})`;
        if (!numeric(limit)) return this.#verdict('rejected', 'range', `${describe(request)}: the ${side === 'min' ? 'minimum' : 'maximum'}${from} of ${request.twin} is unknown, so the range cannot be checked`, request);
        if (side === 'min' ? request.value < limit : request.value > limit) {
          return this.#verdict('rejected', 'range', `${request.target}: ${show(request.value)} is ${side === 'min' ? 'below the minimum' : 'above the maximum'} ${show(limit)}${from}`, request);
        }
      }
    }
    let steps: number[] | undefined;
    let periodMs: number | undefined;
    for (const rule of this.#settings.ramps) {
      if (!applies(rule.target, request) || request.kind !== 'desired' || !numeric(request.value)) continue;
      const key = `${request.twin}|${request.target}`;
      const last = this.#lastPassed.get(key);
      const base = last?.value ?? this.#read(request.twin, request.target);
      if (!numeric(base)) continue;
      // A single step may change by at most rate x period; steps in quick succession by rate x elapsed.
      const elapsed = last ? Math.min(now - last.at, rule.periodMs) : rule.periodMs;
      const allowed = (rule.ratePerSecond * Math.max(elapsed, 0)) / 1000;
      const change = request.value - base;
      if (Math.abs(change) <= allowed + 1e-9) continue;
      if (rule.mode === 'reject') {
        return this.#verdict('rejected', 'rate-of-change', `${request.target}: a change from ${show(base)} to ${show(request.value)} is faster than ${show(rule.ratePerSecond)} per second (at most ${show(allowed)} now)`, request);
      }
      const perStep = (rule.ratePerSecond * rule.periodMs) / 1000;
      const n = Math.ceil(Math.abs(change) / perStep);
      steps = Array.from({ length: n }, (_, i) => (i === n - 1 ? request.value as number : base + Math.sign(change) * perStep * (i + 1)));
      periodMs = rule.periodMs;
    }
    if (options.approval) {
      const rule = this.#settings.approvals.find((r) => applies(r.target, request) && (r.op === undefined || OPERATORS[r.op](request.value, r.value!)));
      if (rule) {
        this.#holds.set(request.id, { request, stage: 'approval', needed: rule.approvers, approvals: [], heldAt: now, deadline: now + rule.timeoutMs, text: rule.text });
        const who = rule.approvers === 2 ? 'two different people' : 'a person';
        return this.#verdict('held', 'approval', `${describe(request)}: held for approval by ${who} within ${rule.timeoutMs / 1000} s: ${rule.text}`, request);
      }
    }
    if (this.#settings.whatIf.includes('*') || this.#settings.whatIf.includes(request.target)) {
      const timeout = this.#settings.whatIfTimeoutMs;
      this.#holds.set(request.id, { request, stage: 'what-if', needed: 0, approvals: options.approvals ?? [], heldAt: now, deadline: now + timeout, text: 'simulated before release' });
      return this.#verdict('what-if', 'what-if', `${describe(request)}: sent to the what-if simulation before release`, request);
    }
    const approved = options.approvals?.length ? `; approved by ${options.approvals.map((a) => a.by).join(' and ')}` : '';
    const verdict = this.#pass(request, now, `${describe(request)}: passed every check${approved}`, 'checks', options.approvals);
    return steps ? { ...verdict, steps, periodMs: periodMs!, reason: `${verdict.reason}; ramped in ${steps.length} steps` } : verdict;
  }

  #pass(request: GuardRequest, now: number, reason: string, rule: Rule, approvals?: Hold['approvals']): Verdict {
    if (request.kind === 'desired' && numeric(request.value)) this.#lastPassed.set(`${request.twin}|${request.target}`, { value: request.value, at: now });
    const verdict = this.#verdict('passed', rule, reason, request);
    return approvals?.length ? { ...verdict, approvals } : verdict;
  }

  #verdict(decision: Decision, rule: Rule, reason: string, request: GuardRequest): Verdict {
    return { decision, rule, reason, request, snapshot: this.#snapshotFor(request) };
  }

  /** The twin values any rule for this request reads, plus the target's own value. */
  #snapshotFor(request: GuardRequest): Record<string, unknown> {
    const paths = new Set<string>();
    if (request.kind === 'desired') paths.add(request.target);
    for (const r of this.#settings.interlocks) if (applies(r.target, request)) paths.add(r.path);
    for (const r of this.#settings.ranges) {
      if (!applies(r.target, request)) continue;
      for (const b of [r.min, r.max]) if (b !== undefined && typeof b !== 'number') paths.add(b.path);
    }
    const out: Record<string, unknown> = {};
    for (const p of paths) {
      const v = this.#read(request.twin, p);
      out[p] = v === undefined ? null : v;
    }
    return out;
  }
}

export function describe(request: GuardRequest): string {
  return request.kind === 'desired' ? `${request.target} = ${show(request.value)} from ${request.issuer}` : `${request.target} ${request.id} from ${request.issuer}`;
}
