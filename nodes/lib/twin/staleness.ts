// Staleness: each telemetry (or property) may have a maximum age. checkStaleness(now) compares every
// watched path's last sample with it and reports transitions (became stale, fresh again), so a node
// raises an alert once and clears it once instead of on every tick.
//
// Rules: `{ model?, path?, maxAge }`, most specific first: model + path, then path alone (any
// model that has it), then model alone (every Telemetry of that model, components included).
// A rule's `model` matches the DTMI, every Interface extending it, and without `;version` any version.
// Only twins in a monitored stage (operation, adaptation) are watched. The clock of a path starts at
// its last sample, but never before monitoring started (the twin entered a monitored stage, or the
// graph was created or restored), so a restart or a new twin gets one full maxAge of grace.

import type { ModelSet } from '../dtdl';
import { TwinError } from './errors';
import { MONITORED_STAGES } from './lifecycle';
import { modelMatches, type ModelIndex } from './model-index';
import type { TwinRecord } from './twin-state';

export interface StalenessRule {
  /** DTMI (with or without `;version`); absent: any model. */
  model?: string;
  /** DTDL path of a Telemetry or Property (`spindle/speed`); absent: every Telemetry of `model`. */
  path?: string;
  /** Maximum age in ms. */
  maxAge: number;
}

export interface StalenessTransition {
  twinId: string;
  model: string;
  path: string;
  /** True: became stale. False: fresh again (or no longer watched). */
  stale: boolean;
  maxAge: number;
  /** ms of the path's last sample; absent when none has arrived. */
  lastUpdate?: number;
  /** ms since the last sample (or since monitoring started, when none came since). */
  age: number;
  /** The `now` of the check. */
  time: number;
  message: string;
}

export interface StalePath {
  path: string;
  maxAge: number;
  age: number;
  lastUpdate?: number;
  message: string;
}

export interface StalenessStatus {
  twinId: string;
  stale: boolean;
  /** Whether the twin's stage is watched at all. */
  monitored: boolean;
  /** The stale paths and why, empty when fresh. */
  paths: StalePath[];
}

interface Watch {
  path: string;
  maxAge: number;
}

function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export class StalenessWatch {
  private rules: readonly StalenessRule[] = [];
  private readonly byModel = new Map<string, readonly Watch[]>();

  constructor(private readonly models: ModelSet) {}

  /** Replaces the rules; throws `staleness-config` naming the rule that cannot apply. */
  setRules(rules: readonly StalenessRule[]): void {
    rules.forEach((rule, i) => this.checkRule(rule, i));
    this.rules = rules.map((r) => ({ ...r }));
    this.byModel.clear();
  }

  getRules(): StalenessRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  private checkRule(rule: StalenessRule, i: number): void {
    const where = `staleness rule ${i + 1}`;
    const fail = (message: string): never => {
      throw new TwinError('staleness-config', `${where}: ${message}`, rule?.path === undefined ? {} : { path: rule.path });
    };
    if (rule === null || typeof rule !== 'object') fail('must be an object { model?, path?, maxAge }');
    if (typeof rule.maxAge !== 'number' || !Number.isFinite(rule.maxAge) || rule.maxAge <= 0) fail(`maxAge ${JSON.stringify(rule.maxAge)} is not a positive number of milliseconds`);
    if (rule.model === undefined && rule.path === undefined) fail('needs a model, a path, or both');
    if (rule.model !== undefined && typeof rule.model !== 'string') fail('model must be a DTMI text');
    if (rule.path !== undefined && typeof rule.path !== 'string') fail('path must be a DTDL path text');
    const candidates = [...this.models.interfaces.keys()].filter((dtmi) => modelMatches(this.models, dtmi, rule.model));
    if (candidates.length === 0) fail(`model ${rule.model} is not in the model set`);
    if (rule.path !== undefined) {
      const path = rule.path;
      const found = candidates.some((dtmi) => {
        const kind = this.models.resolve(dtmi, path)?.kind;
        return kind === 'Telemetry' || kind === 'Property';
      });
      if (!found) fail(`${path} is not a Telemetry or Property of ${rule.model ?? 'any model in the model set'}`);
    }
  }

  /** The watched paths of one model, most specific rule winning. */
  watchesFor(index: ModelIndex): readonly Watch[] {
    const cached = this.byModel.get(index.dtmi);
    if (cached) return cached;
    const chosen = new Map<string, { maxAge: number; rank: number }>();
    const offer = (path: string, maxAge: number, rank: number): void => {
      const current = chosen.get(path);
      if (!current || rank > current.rank) chosen.set(path, { maxAge, rank });
    };
    const known = new Set([...index.telemetryPaths, ...index.propertyPaths]);
    for (const rule of this.rules) {
      if (!modelMatches(this.models, index.dtmi, rule.model)) continue;
      if (rule.path === undefined) for (const path of index.telemetryPaths) offer(path, rule.maxAge, 1);
      else if (known.has(rule.path)) offer(rule.path, rule.maxAge, rule.model === undefined ? 2 : 3);
    }
    const watches = [...chosen].map(([path, { maxAge }]) => ({ path, maxAge }));
    this.byModel.set(index.dtmi, watches);
    return watches;
  }

  /** Live status of one twin at `now`. */
  status(twin: TwinRecord, now: number): StalenessStatus {
    const monitored = MONITORED_STAGES.has(twin.stage);
    const paths: StalePath[] = [];
    if (monitored) {
      for (const watch of this.watchesFor(twin.index)) {
        const found = this.evaluate(twin, watch, now);
        if (found) paths.push(found);
      }
    }
    return { twinId: twin.id, stale: paths.length > 0, monitored, paths };
  }

  private evaluate(twin: TwinRecord, watch: Watch, now: number): StalePath | undefined {
    const last = twin.lastUpdate(watch.path);
    const since = last === undefined ? twin.monitoredSince : Math.max(last, twin.monitoredSince);
    const age = now - since;
    if (age <= watch.maxAge) return undefined;
    const message =
      last === undefined || last < twin.monitoredSince
        ? `${watch.path}: no value since monitoring started ${seconds(age)} ago (maximum age ${seconds(watch.maxAge)})`
        : `${watch.path}: no value for ${seconds(age)} (maximum age ${seconds(watch.maxAge)})`;
    const stale: StalePath = { path: watch.path, maxAge: watch.maxAge, age, message };
    if (last !== undefined) stale.lastUpdate = last;
    return stale;
  }

  /** Transitions since the previous check, for every twin. */
  check(twins: Iterable<TwinRecord>, now: number): StalenessTransition[] {
    const out: StalenessTransition[] = [];
    for (const twin of twins) {
      const monitored = MONITORED_STAGES.has(twin.stage);
      if (!monitored && twin.stale === undefined) continue;
      const watches = monitored ? this.watchesFor(twin.index) : [];
      for (const watch of watches) {
        const found = this.evaluate(twin, watch, now);
        const was = twin.stale?.has(watch.path) ?? false;
        if (found && !was) {
          (twin.stale ??= new Map()).set(watch.path, now);
          out.push(this.transition(twin, watch.path, true, watch.maxAge, found.age, now, found.message, found.lastUpdate));
        } else if (!found && was) {
          twin.stale?.delete(watch.path);
          const last = twin.lastUpdate(watch.path);
          const age = last === undefined ? now - twin.monitoredSince : now - last;
          out.push(this.transition(twin, watch.path, false, watch.maxAge, age, now, `${watch.path}: fresh again (last value ${seconds(age)} old)`, last));
        }
      }
      if (twin.stale) {
        // Paths still marked stale but no longer watched: the stage or the rules changed.
        for (const path of [...twin.stale.keys()]) {
          if (watches.some((w) => w.path === path)) continue;
          twin.stale.delete(path);
          const last = twin.lastUpdate(path);
          const why = monitored ? 'no staleness rule applies any more' : `the twin is ${twin.stage}, which is not monitored`;
          out.push(this.transition(twin, path, false, 0, last === undefined ? 0 : now - last, now, `${path}: no longer watched (${why})`, last));
        }
        if (twin.stale.size === 0) twin.stale = undefined;
      }
    }
    return out;
  }

  private transition(twin: TwinRecord, path: string, stale: boolean, maxAge: number, age: number, now: number, message: string, lastUpdate: number | undefined): StalenessTransition {
    const t: StalenessTransition = { twinId: twin.id, model: twin.model, path, stale, maxAge, age, time: now, message };
    if (lastUpdate !== undefined) t.lastUpdate = lastUpdate;
    return t;
  }
}
