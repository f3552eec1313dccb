// The reconciler's dialog values (strings from the editor, numbers from imported JSON) turned into
// settings, each fault named by its field and rule.
import type { AlertSeverity } from '../lib/messages';
import { labelOf, type CommandRule, type PairRule, type ReconcilerSettings } from './reconciler-core';

export interface ReconcilerConfig {
  twinId?: unknown;
  loopMs?: unknown;
  confirmTimeout?: unknown;
  queueLimit?: unknown;
  rules?: unknown;
  commandRules?: unknown;
}

const SEVERITIES: AlertSeverity[] = ['critical', 'high', 'medium', 'low'];

function number(value: unknown, field: string, fallback: number, check: (n: number) => boolean, rule: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || !check(n)) throw new Error(`${field}: ${JSON.stringify(value)} ${rule}`);
  return n;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** A dialog value meant as a number, boolean or text ("running", 3, true). */
function literal(value: unknown): string | number | boolean {
  if (typeof value !== 'string') return value as number | boolean;
  const t = value.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t;
}

export function parseSettings(config: ReconcilerConfig, source: string): ReconcilerSettings & { loopMs: number; twinId: string } {
  const rawRules = config.rules ?? [];
  if (!Array.isArray(rawRules)) throw new Error('rules: must be a list of { desired, actual, absolute?, percent?, grace?, hint? }');
  const rules: PairRule[] = rawRules.map((r: Record<string, unknown>, i) => {
    const desired = text(r?.desired);
    const actual = text(r?.actual);
    if (!desired) throw new Error(`rules[${i}].desired: the writable property (e.g. spindle/speedSetpoint) is required`);
    if (!actual) throw new Error(`rules[${i}].actual: the reported value that follows ${desired} (e.g. spindle/speed) is required`);
    const absolute = number(r.absolute, `rules[${i}].absolute`, 0, (n) => n >= 0, 'must be a tolerance of 0 or more');
    const percent = number(r.percent, `rules[${i}].percent`, 0, (n) => n >= 0 && n <= 100, 'must be a percentage from 0 to 100');
    const severity = text(r.severity) || 'high';
    if (!SEVERITIES.includes(severity as AlertSeverity)) throw new Error(`rules[${i}].severity: must be one of ${SEVERITIES.join(', ')}`);
    return {
      desired,
      actual,
      absolute,
      percent,
      graceMs: number(r.grace, `rules[${i}].grace`, 2, (n) => n >= 0, 'must be a number of seconds, 0 or more') * 1000,
      label: text(r.label) || labelOf(actual),
      hint: text(r.hint),
      severity: severity as AlertSeverity,
    };
  });
  const rawCommands = config.commandRules ?? [];
  if (!Array.isArray(rawCommands)) throw new Error('commandRules: must be a list of { command, actual, equals }');
  const commandRules: CommandRule[] = rawCommands.map((r: Record<string, unknown>, i) => {
    const command = text(r?.command);
    const actual = text(r?.actual);
    if (!command) throw new Error(`commandRules[${i}].command: the command name (e.g. startCycle) is required`);
    if (!actual) throw new Error(`commandRules[${i}].actual: the reported value that confirms ${command} (e.g. machineState) is required`);
    if (r.equals === undefined || r.equals === '') throw new Error(`commandRules[${i}].equals: the value of ${actual} that confirms ${command} is required`);
    return { command, actual, equals: literal(r.equals) };
  });
  return {
    rules,
    commandRules,
    source,
    twinId: text(config.twinId),
    loopMs: number(config.loopMs, 'loopMs', 100, (n) => n >= 10 && n <= 60_000, 'must be from 10 to 60000 ms'),
    confirmTimeoutMs: number(config.confirmTimeout, 'confirmTimeout', 30, (n) => n > 0 && n <= 86_400, 'must be from above 0 to 86400 seconds') * 1000,
    queueLimit: number(config.queueLimit, 'queueLimit', 100, (n) => Number.isInteger(n) && n >= 1, 'must be a whole number, 1 or more'),
  };
}
