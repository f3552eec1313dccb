// Staleness and limit rules from the twin-graph dialog's tables, checked before the graph sees them.
import type { LimitRule, StalenessRule } from '../lib/twin';

export function stalenessRules(raw: unknown): StalenessRule[] {
  if (raw === undefined || raw === null || raw === '') return [];
  if (!Array.isArray(raw)) throw new Error('staleness: must be a list of { model?, path?, maxAge (seconds) }');
  return raw.map((r: Record<string, unknown>, i) => {
    const seconds = Number(r?.maxAge);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`staleness[${i}].maxAge: "${String(r?.maxAge)}" must be a number of seconds above 0`);
    return {
      ...(typeof r.model === 'string' && r.model ? { model: r.model } : {}),
      ...(typeof r.path === 'string' && r.path ? { path: r.path } : {}),
      maxAge: seconds * 1000,
    };
  });
}

/** A bound is a number, or the path of another property or telemetry (e.g. spindle/maxSpeed). */
function bound(value: unknown, where: string): LimitRule['min'] {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.trim()) ? Number(value) : { path: value.trim() };
  throw new Error(`${where}: must be a number or the path of another property`);
}

export function limitRules(raw: unknown): LimitRule[] {
  if (raw === undefined || raw === null || raw === '') return [];
  if (!Array.isArray(raw)) throw new Error('limits: must be a list of { model?, path, min?, max? }');
  return raw.map((r: Record<string, unknown>, i) => {
    if (typeof r?.path !== 'string' || r.path === '') throw new Error(`limits[${i}].path: the writable property to limit is required`);
    const min = bound(r.min, `limits[${i}].min`);
    const max = bound(r.max, `limits[${i}].max`);
    return {
      ...(typeof r.model === 'string' && r.model ? { model: r.model } : {}),
      path: r.path,
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
    } as LimitRule;
  });
}
