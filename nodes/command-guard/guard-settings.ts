// The guard's dialog tables (strings from the editor, numbers from imported JSON) as settings,
// each fault named by its table, row and column.
import type { ApprovalRule, Bound, GuardSettings, InterlockRule, Literal, Operator, RampRule, RangeRule, RateLimitRule, RoleRule } from './guard-core';

type Row = Record<string, unknown>;
const OPERATORS: Operator[] = ['==', '!=', '<', '<=', '>', '>='];

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');
const list = (v: unknown) => (Array.isArray(v) ? v.map(text) : text(v).split(',')).map((s) => s.trim()).filter(Boolean);

function rows(raw: unknown, table: string): Row[] {
  if (raw === undefined || raw === null || raw === '') return [];
  if (!Array.isArray(raw)) throw new Error(`${table}: must be a list of rows`);
  return raw.map((r, i) => {
    if (!r || typeof r !== 'object') throw new Error(`${table}[${i}]: must be an object`);
    return r as Row;
  });
}

function number(v: unknown, where: string, check: (n: number) => boolean, rule: string, fallback?: number): number {
  if ((v === undefined || v === '') && fallback !== undefined) return fallback;
  const n = typeof v === 'number' ? v : Number(text(v));
  if (text(v) === '' || !Number.isFinite(n) || !check(n)) throw new Error(`${where}: ${JSON.stringify(v)} ${rule}`);
  return n;
}

/** "true", "12", "running" as the literal they mean. */
export function literal(v: unknown): Literal {
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  const t = text(v);
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t.replace(/^"(.*)"$/, '$1');
}

function bound(v: unknown): Bound | undefined {
  if (v === undefined || v === null || text(v) === '') return undefined;
  const l = literal(v);
  return typeof l === 'number' ? l : { path: String(l) };
}

function target(r: Row, where: string): string {
  const t = text(r.target);
  if (!t) throw new Error(`${where}.target: the command name or property path (or *) is required`);
  return t;
}

function operator(v: unknown, where: string): Operator {
  const op = text(v) as Operator;
  if (!OPERATORS.includes(op)) throw new Error(`${where}: must be one of ${OPERATORS.join(' ')}`);
  return op;
}

export interface GuardConfig {
  roles?: unknown;
  rateLimits?: unknown;
  interlocks?: unknown;
  ranges?: unknown;
  ramps?: unknown;
  approvals?: unknown;
  whatIf?: unknown;
  whatIfTimeout?: unknown;
}

export function parseGuardSettings(config: GuardConfig): GuardSettings {
  const roles: RoleRule[] = rows(config.roles, 'roles').map((r, i) => {
    const role = text(r.role);
    if (!role) throw new Error(`roles[${i}].role: a role name is required`);
    const issuers = list(r.issuers);
    if (issuers.length === 0) throw new Error(`roles[${i}].issuers: name at least one issuer (or *)`);
    const allow = list(r.allow);
    if (allow.length === 0) throw new Error(`roles[${i}].allow: name at least one command or property (or *)`);
    return { role, issuers, allow };
  });
  const rateLimits: RateLimitRule[] = rows(config.rateLimits, 'rateLimits').map((r, i) => ({
    target: target(r, `rateLimits[${i}]`),
    perIssuer: text(r.per) !== 'all',
    max: number(r.max, `rateLimits[${i}].max`, (n) => Number.isInteger(n) && n >= 1, 'must be a whole number, 1 or more'),
    windowMs: number(r.window, `rateLimits[${i}].window`, (n) => n > 0, 'must be a number of seconds above 0') * 1000,
  }));
  const interlocks: InterlockRule[] = rows(config.interlocks, 'interlocks').map((r, i) => {
    const path = text(r.path);
    if (!path) throw new Error(`interlocks[${i}].path: the twin value the condition reads (e.g. doorOpen) is required`);
    if (text(r.value) === '' && typeof r.value !== 'boolean') throw new Error(`interlocks[${i}].value: the value to compare with is required`);
    const op = operator(r.op, `interlocks[${i}].op`);
    const value = literal(r.value);
    return { target: target(r, `interlocks[${i}]`), path, op, value, text: text(r.text) || `${path} must be ${op} ${JSON.stringify(value)}` };
  });
  const ranges: RangeRule[] = rows(config.ranges, 'ranges').map((r, i) => {
    const min = bound(r.min);
    const max = bound(r.max);
    if (min === undefined && max === undefined) throw new Error(`ranges[${i}]: give a min, a max or both (numbers or twin paths such as spindle/maxSpeed)`);
    return { target: target(r, `ranges[${i}]`), ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  });
  const ramps: RampRule[] = rows(config.ramps, 'ramps').map((r, i) => {
    const mode = text(r.mode) || 'reject';
    if (mode !== 'reject' && mode !== 'ramp') throw new Error(`ramps[${i}].mode: must be reject or ramp`);
    return {
      target: target(r, `ramps[${i}]`),
      ratePerSecond: number(r.rate, `ramps[${i}].rate`, (n) => n > 0, 'must be a change per second above 0'),
      mode,
      periodMs: number(r.period, `ramps[${i}].period`, (n) => n >= 0.05, 'must be at least 0.05 seconds', 1) * 1000,
    };
  });
  const approvals: ApprovalRule[] = rows(config.approvals, 'approvals').map((r, i) => {
    const approvers = number(r.approvers, `approvals[${i}].approvers`, (n) => n === 1 || n === 2, 'must be 1 or 2', 1) as 1 | 2;
    const hasCondition = text(r.op) !== '';
    const rule: ApprovalRule = {
      target: target(r, `approvals[${i}]`),
      approvers,
      timeoutMs: number(r.timeout, `approvals[${i}].timeout`, (n) => n > 0, 'must be a number of seconds above 0', 300) * 1000,
      text: text(r.text) || 'needs approval',
    };
    if (hasCondition) {
      rule.op = operator(r.op, `approvals[${i}].op`);
      if (text(r.value) === '') throw new Error(`approvals[${i}].value: the value the condition compares with is required`);
      rule.value = literal(r.value);
    }
    return rule;
  });
  return {
    roles,
    rateLimits,
    interlocks,
    ranges,
    ramps,
    approvals,
    whatIf: list(config.whatIf),
    whatIfTimeoutMs: number(config.whatIfTimeout, 'whatIfTimeout', (n) => n > 0, 'must be a number of seconds above 0', 10) * 1000,
  };
}
