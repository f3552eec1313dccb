// Limits on desired values that DTDL cannot express (it has no minimum or maximum), e.g. a spindle
// speed setpoint at most the machine's rated maximum speed. They guard what the twin asks the asset
// to do; what the asset reports is recorded as it is.

import type { ModelSet } from '../dtdl';
import { TwinError } from './errors';
import { modelMatches, type ContentEntry, type LimitBound, type LimitRule, type ModelIndex } from './model-index';
import { readValue } from './twin-state';
import type { TwinDocument } from './types';

export type { LimitBound, LimitRule } from './model-index';

/** Throws `limit-config` naming the first rule that cannot apply to the models. */
export function checkLimitRules(models: ModelSet, rules: readonly LimitRule[]): void {
  rules.forEach((rule, i) => {
    const fail = (message: string): never => {
      throw new TwinError('limit-config', `limit rule ${i + 1}: ${message}`, typeof rule?.path === 'string' ? { path: rule.path } : {});
    };
    if (rule === null || typeof rule !== 'object' || typeof rule.path !== 'string') fail('must be an object { model?, path, min?, max? }');
    if (rule.min === undefined && rule.max === undefined) fail('needs a min, a max, or both');
    const candidates = [...models.interfaces.keys()].filter((dtmi) => modelMatches(models, dtmi, rule.model));
    if (candidates.length === 0) fail(`model ${rule.model} is not in the model set`);
    const holders = candidates.filter((dtmi) => {
      const content = models.resolve(dtmi, rule.path);
      return content?.kind === 'Property' && content.writable;
    });
    if (holders.length === 0) fail(`${rule.path} is not a writable Property of ${rule.model ?? 'any model in the model set'}`);
    for (const bound of [rule.min, rule.max]) {
      if (bound === undefined) continue;
      if (typeof bound === 'number') {
        if (!Number.isFinite(bound)) fail(`bound ${bound} is not a finite number`);
        continue;
      }
      if (bound === null || typeof bound !== 'object' || typeof bound.path !== 'string') fail('a bound is a number or { path } of another property');
      const ok = holders.some((dtmi) => {
        const kind = models.resolve(dtmi, bound.path)?.kind;
        return kind === 'Property' || kind === 'Telemetry';
      });
      if (!ok) fail(`bound ${bound.path} is not a Property or Telemetry of the models ${rule.path} is in`);
    }
  });
}

function boundValue(doc: TwinDocument, index: ModelIndex, bound: LimitBound): { value: number; from?: string } | undefined {
  if (typeof bound === 'number') return { value: bound };
  let entry: ContentEntry;
  try {
    entry = index.entry(bound.path);
  } catch {
    return undefined; // this model lacks the bounding property: nothing to check against
  }
  const value = readValue(doc, entry);
  return typeof value === 'number' ? { value, from: bound.path } : undefined;
}

/** Throws `value-limit` when a desired value breaks a limit. A bound whose property has no value yet is not checked. */
export function checkLimits(doc: TwinDocument, index: ModelIndex, entry: ContentEntry, value: unknown, twinId: string): void {
  if (entry.limits.length === 0 || typeof value !== 'number') return;
  for (const rule of entry.limits) {
    const max = rule.max === undefined ? undefined : boundValue(doc, index, rule.max);
    if (max !== undefined && value > max.value) {
      throw new TwinError('value-limit', `${entry.path}: ${value} is above the maximum ${max.value}${max.from ? ` (${max.from})` : ''}`, { twinId, path: entry.path });
    }
    const min = rule.min === undefined ? undefined : boundValue(doc, index, rule.min);
    if (min !== undefined && value < min.value) {
      throw new TwinError('value-limit', `${entry.path}: ${value} is below the minimum ${min.value}${min.from ? ` (${min.from})` : ''}`, { twinId, path: entry.path });
    }
  }
}
