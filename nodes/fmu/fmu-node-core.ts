// Pure parts of the `fmu` node: its settings, FMU paths, the names messages use for variables, and
// the translation of messages into engine calls (inputs, what-if, batch) and of results back into
// messages. No Node-RED here: the adapter (fmu.ts) reads config, calls these, sends, sets status.
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath, formatCsv, parseInputCsv } from './index';
import type {
  BatchRequest, BatchResult, FmuArchive, InputChange, InputTable, Limit, MasterAlgorithm, ModelDescription, ModelVariable,
  SystemSpec, VariableValue, WhatIfRequest, WhatIfResult,
} from './index';

export type Mode = 'live' | 'whatif' | 'batch';
export type Stepping = 'timer' | 'message' | 'none';
export type OutputFormat = 'messages' | 'samples' | 'object';
export type BatchFormat = 'columns' | 'csv';

/** A what-if or batch run longer than this many communication steps is refused: it would block Node-RED. */
export const MAX_RUN_STEPS = 2_000_000;

/** Config as the editor stores it (strings from inputs, arrays from lists). */
export interface RawConfig {
  source?: unknown;
  fmu?: unknown;
  system?: unknown;
  parameters?: unknown;
  stepSize?: unknown;
  algorithm?: unknown;
  startTime?: unknown;
  mode?: unknown;
  stepping?: unknown;
  interval?: unknown;
  realTimeFactor?: unknown;
  stepsPerMessage?: unknown;
  /** not `outputs`: Node-RED's editor keeps the number of output ports there */
  outputNames?: unknown;
  outputFormat?: unknown;
  inputMap?: unknown;
  ignoreUnknown?: unknown;
  whatIfDuration?: unknown;
  whatIfLimits?: unknown;
  whatIfMaxPoints?: unknown;
  batchStopTime?: unknown;
  batchFormat?: unknown;
  batchRecordEvery?: unknown;
}

export interface LimitSetting {
  variable: string;
  min?: number;
  max?: number;
}

export interface NodeSettings {
  /** FMU paths resolved to absolute files */
  system: SystemSpec;
  /** one FMU (names without the "<fmu>." prefix) or a co-simulation set */
  single: boolean;
  /** the config field each FMU path came from, for errors */
  fmuFields: string[];
  stepSize: number;
  startTime: number;
  algorithm: MasterAlgorithm;
  mode: Mode;
  stepping: Stepping;
  intervalMs: number;
  realTimeFactor: number;
  stepsPerMessage: number;
  /** public names; empty: every scalar output */
  outputNames: string[];
  outputFormat: OutputFormat;
  inputMap: { topic: string; input: string }[];
  ignoreUnknown: boolean;
  whatIf: { duration: number; limits: LimitSetting[]; maxPoints: number };
  batch: { stopTime: number | undefined; format: BatchFormat; recordEvery: number };
}

/** Where FMU paths are resolved: relative paths against userDir, bare names among the shipped FMUs. */
export interface PathContext {
  userDir: string;
  shippedDir: string;
  /** environment variables (Node-RED's flow/global env first, then the process) */
  env: (name: string) => string | undefined;
}

// ---- settings -------------------------------------------------------------------------------------

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : String(value).trim();
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, field: string): T {
  const t = text(value);
  if (t === '') return fallback;
  if (!(allowed as readonly string[]).includes(t)) throw new Error(`${field}: "${t}" must be one of ${allowed.join(', ')}`);
  return t as T;
}

function number(value: unknown, field: string, rule: { fallback?: number; positive?: boolean; integer?: boolean; min?: number }): number {
  const t = typeof value === 'number' ? value : text(value) === '' ? undefined : Number(text(value));
  if (t === undefined) {
    if (rule.fallback !== undefined) return rule.fallback;
    throw new Error(`${field}: a number is required`);
  }
  if (!Number.isFinite(t)) throw new Error(`${field}: ${JSON.stringify(value)} is not a number`);
  if (rule.positive && !(t > 0)) throw new Error(`${field}: ${t} must be above 0`);
  if (rule.integer && !Number.isInteger(t)) throw new Error(`${field}: ${t} must be a whole number`);
  if (rule.min !== undefined && t < rule.min) throw new Error(`${field}: ${t} must be at least ${rule.min}`);
  return t;
}

function optionalNumber(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || text(value) === '') return undefined;
  return number(value, field, {});
}

function jsonValue(value: unknown, field: string): unknown {
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`${field}: not valid JSON (${(err as Error).message})`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** The FMUs shipped in the package's native/build/, by name (file name without .fmu). */
export function shippedFmus(shippedDir: string): string[] {
  if (!existsSync(shippedDir)) return [];
  return readdirSync(shippedDir).filter((f) => f.endsWith('.fmu')).map((f) => f.slice(0, -4)).sort();
}

/**
 * An FMU path from config: `${VAR}` replaced from the environment; a bare name without a slash or
 * `.fmu` names an FMU shipped with Twinflow; other relative paths resolve against the user directory.
 */
export function resolveFmuPath(value: unknown, field: string, ctx: PathContext): string {
  const raw = text(value);
  if (raw === '') throw new Error(`${field}: an FMU file path or the name of a shipped FMU is required`);
  const expanded = raw.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    const resolved = ctx.env(name.trim());
    if (resolved === undefined || resolved === '') throw new Error(`${field}: environment variable ${name.trim()} (in "${raw}") is not set`);
    return resolved;
  });
  if (!/[\\/]/.test(expanded) && !expanded.toLowerCase().endsWith('.fmu')) {
    const file = path.join(ctx.shippedDir, `${expanded}.fmu`);
    if (!existsSync(file)) {
      const shipped = shippedFmus(ctx.shippedDir);
      throw new Error(`${field}: "${expanded}" is not an FMU shipped with Twinflow (shipped: ${shipped.join(', ') || 'none; run npm run build'}); give a path ending in .fmu for your own`);
    }
    return file;
  }
  const home = expanded === '~' || expanded.startsWith('~/') ? path.join(os.homedir(), expanded.slice(1)) : expanded;
  return path.resolve(ctx.userDir, home);
}

/** The instance name of a single FMU: its file name, made a valid member name. */
export function memberNameFor(file: string): string {
  const base = path.basename(file).replace(/\.fmu$/i, '').replace(/[^\w-]/g, '_');
  return /^[A-Za-z_]/.test(base) ? base : `_${base}`;
}

function parseSystem(raw: RawConfig, ctx: PathContext): { system: SystemSpec; single: boolean; fmuFields: string[] } {
  const source = oneOf(raw.source, ['file', 'system'] as const, 'file', 'source');
  if (source === 'file') {
    const file = resolveFmuPath(raw.fmu, 'fmu', ctx);
    const parameters = jsonValue(raw.parameters, 'parameters') ?? {};
    if (!isPlainObject(parameters)) throw new Error('parameters: must be a JSON object { "name": value }');
    return {
      system: { fmus: [{ name: memberNameFor(file), fmu: file, parameters: parameters as Record<string, VariableValue> }] },
      single: true,
      fmuFields: ['fmu'],
    };
  }
  const spec = jsonValue(raw.system, 'system');
  if (!isPlainObject(spec) || !Array.isArray(spec.fmus) || spec.fmus.length === 0) {
    throw new Error('system: must be a JSON object { "fmus": [{ "name", "fmu" }, ...], "connections": [{ "from", "to" }, ...] } with at least one FMU');
  }
  const fmuFields: string[] = [];
  const fmus = spec.fmus.map((entry: unknown, i: number) => {
    const field = `system.fmus[${i}]`;
    if (!isPlainObject(entry)) throw new Error(`${field}: must be an object { "name", "fmu", "parameters" }`);
    if (typeof entry.name !== 'string' || !/^[A-Za-z_][\w-]*$/.test(entry.name)) {
      throw new Error(`${field}.name: ${JSON.stringify(entry.name)} must be a name without dots or spaces`);
    }
    if (entry.parameters !== undefined && !isPlainObject(entry.parameters)) throw new Error(`${field}.parameters: must be an object { "name": value }`);
    fmuFields.push(`${field}.fmu`);
    return { ...entry, name: entry.name, fmu: resolveFmuPath(entry.fmu, `${field}.fmu`, ctx) };
  });
  const names = fmus.map((f) => f.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`system.fmus: the name "${twice}" is used twice`);
  if (spec.connections !== undefined && !Array.isArray(spec.connections)) throw new Error('system.connections: must be an array of { "from", "to" }');
  const connections = (spec.connections ?? []) as unknown[];
  connections.forEach((c, i) => {
    if (!isPlainObject(c) || typeof c.from !== 'string' || typeof c.to !== 'string') {
      throw new Error(`system.connections[${i}]: must be { "from": "<fmu>.<output>", "to": "<fmu>.<input>" }`);
    }
  });
  return { system: { fmus, connections: connections as SystemSpec['connections'] }, single: false, fmuFields };
}

function stringList(value: unknown, field: string): string[] {
  const list = jsonValue(value, field) ?? [];
  if (!Array.isArray(list)) throw new Error(`${field}: must be a list of variable names`);
  return list.map((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') throw new Error(`${field}[${i}]: must be a variable name`);
    return v.trim();
  });
}

/** Checks and normalizes the node's config; errors name the field and the rule. */
export function parseSettings(raw: RawConfig, ctx: PathContext): NodeSettings {
  const { system, single, fmuFields } = parseSystem(raw, ctx);
  const mode = oneOf(raw.mode, ['live', 'whatif', 'batch'] as const, 'live', 'mode');
  const stepping = oneOf(raw.stepping, ['timer', 'message', 'none'] as const, 'timer', 'stepping');
  if (mode === 'live' && stepping === 'none') throw new Error('stepping: a live node steps on a timer or per message (none is for what-if nodes)');
  const inputMapRaw = jsonValue(raw.inputMap, 'inputMap') ?? [];
  if (!Array.isArray(inputMapRaw)) throw new Error('inputMap: must be a list of { topic, input }');
  const topics = new Set<string>();
  const inputMap = inputMapRaw.map((entry: unknown, i: number) => {
    const e = (isPlainObject(entry) ? entry : {}) as { topic?: unknown; input?: unknown };
    const topic = text(e.topic);
    const input = text(e.input);
    if (!topic) throw new Error(`inputMap[${i}].topic: a message topic is required`);
    if (!input) throw new Error(`inputMap[${i}].input: the input it sets is required`);
    if (topics.has(topic)) throw new Error(`inputMap[${i}].topic: "${topic}" is mapped twice`);
    topics.add(topic);
    return { topic, input };
  });
  const limitsRaw = jsonValue(raw.whatIfLimits, 'whatIfLimits') ?? [];
  if (!Array.isArray(limitsRaw)) throw new Error('whatIfLimits: must be a list of { variable, min, max }');
  const limits = limitsRaw.map((entry: unknown, i: number) => parseLimit(entry, `whatIfLimits[${i}]`));
  const batchStop = optionalNumber(raw.batchStopTime, 'batchStopTime');
  return {
    system,
    single,
    fmuFields,
    stepSize: number(raw.stepSize, 'stepSize', { positive: true }),
    startTime: number(raw.startTime, 'startTime', { fallback: 0 }),
    algorithm: oneOf(raw.algorithm, ['gauss-seidel', 'jacobi'] as const, 'gauss-seidel', 'algorithm'),
    mode,
    stepping,
    intervalMs: number(raw.interval, 'interval', { fallback: 100, min: 10 }),
    realTimeFactor: number(raw.realTimeFactor, 'realTimeFactor', { fallback: 1, positive: true }),
    stepsPerMessage: number(raw.stepsPerMessage, 'stepsPerMessage', { fallback: 1, integer: true, min: 1 }),
    outputNames: stringList(raw.outputNames, 'outputNames'),
    outputFormat: oneOf(raw.outputFormat, ['messages', 'samples', 'object'] as const, 'messages', 'outputFormat'),
    inputMap,
    ignoreUnknown: raw.ignoreUnknown === true || raw.ignoreUnknown === 'true',
    whatIf: {
      duration: number(raw.whatIfDuration, 'whatIfDuration', { fallback: 10, positive: true }),
      limits,
      maxPoints: number(raw.whatIfMaxPoints, 'whatIfMaxPoints', { fallback: 500, integer: true, min: 2 }),
    },
    batch: {
      stopTime: batchStop,
      format: oneOf(raw.batchFormat, ['columns', 'csv'] as const, 'columns', 'batchFormat'),
      recordEvery: number(raw.batchRecordEvery, 'batchRecordEvery', { fallback: 1, integer: true, min: 1 }),
    },
  };
}

function parseLimit(entry: unknown, field: string): LimitSetting {
  if (!isPlainObject(entry)) throw new Error(`${field}: must be { variable, min, max }`);
  const variable = text(entry.variable);
  if (!variable) throw new Error(`${field}.variable: a variable name is required`);
  const min = optionalNumber(entry.min, `${field}.min`);
  const max = optionalNumber(entry.max, `${field}.max`);
  if (min === undefined && max === undefined) throw new Error(`${field}: ${variable} needs a min, a max or both`);
  if (min !== undefined && max !== undefined && min > max) throw new Error(`${field}: min ${min} is above max ${max}`);
  return { variable, ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
}

// ---- names --------------------------------------------------------------------------------------

export interface MemberDescription {
  name: string;
  description: ModelDescription;
}

export interface Resolved {
  /** "<fmu>.<variable>", what the engine takes */
  path: string;
  /** what messages use: the bare variable name for a single FMU, the path in a set */
  name: string;
  member: string;
  variable: ModelVariable;
}

export type Role = 'input' | 'start' | 'any';

const NUMERIC = new Set(['Float32', 'Float64', 'Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Boolean', 'Enumeration']);

/**
 * The names messages use for variables. A single FMU's variables go by their own names
 * (`speedSetpoint`); in a co-simulation set by `<fmu>.<variable>`, or by the bare name when only
 * one FMU has it.
 */
export class Names {
  private readonly connected: Map<string, string>;

  constructor(
    readonly members: readonly MemberDescription[],
    readonly single: boolean,
    connections: readonly { from: string; to: string }[] = [],
  ) {
    this.connected = new Map(connections.map((c) => [c.to, c.from]));
  }

  publicName(variablePath: string): string {
    if (!this.single) return variablePath;
    const prefix = `${this.members[0]!.name}.`;
    return variablePath.startsWith(prefix) ? variablePath.slice(prefix.length) : variablePath;
  }

  private resolved(member: MemberDescription, variable: ModelVariable): Resolved {
    const p = `${member.name}.${variable.name}`;
    return { path: p, name: this.publicName(p), member: member.name, variable };
  }

  private find(name: string): Resolved[] {
    const found: Resolved[] = [];
    for (const member of this.members) {
      const exact = member.description.variables.find((v) => v.name === name);
      if (exact) found.push(this.resolved(member, exact));
    }
    if (found.length > 0) return found;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const member = this.members.find((m) => m.name === name.slice(0, dot));
      const variable = member?.description.variables.find((v) => v.name === name.slice(dot + 1));
      if (member && variable) return [this.resolved(member, variable)];
    }
    return [];
  }

  /** Settable inputs (role input) or variables (any), comma-separated, for errors. */
  listOf(role: Role): string {
    const names: string[] = [];
    for (const member of this.members) {
      for (const v of member.description.variables) {
        const p = `${member.name}.${v.name}`;
        if (role === 'input' ? v.causality === 'input' && !this.connected.has(p) : v.causality === 'output') names.push(this.publicName(p));
      }
    }
    return names.join(', ') || 'none';
  }

  private owner(): string {
    return this.single ? this.members[0]!.name : 'the co-simulation set';
  }

  /**
   * A variable by the name a message or the config gives. `input`: an input no connection feeds, or
   * a tunable parameter (set while running); `start`: an input or parameter (set before the start);
   * `any`: any variable (limits, recording).
   */
  resolve(name: unknown, field: string, role: Role): Resolved {
    if (typeof name !== 'string' || name.trim() === '') throw new Error(`${field}: must be a variable name, got ${JSON.stringify(name) ?? 'nothing'}`);
    const found = this.find(name.trim());
    if (found.length > 1) throw new Error(`${field}: "${name}" is in several FMUs (${found.map((f) => f.path).join(', ')}); give "<fmu>.${name}"`);
    const hit = found[0];
    if (!hit) {
      const what = role === 'input' ? 'an input' : role === 'start' ? 'an input or parameter' : 'a variable';
      const list = role === 'any' ? `outputs: ${this.listOf('any')}` : `inputs: ${this.listOf('input')}`;
      throw new Error(`${field}: "${name}" is not ${what} of ${this.owner()} (${list})`);
    }
    const { causality, variability } = hit.variable;
    if (role === 'input') {
      const source = this.connected.get(hit.path);
      if (source) throw new Error(`${field}: ${hit.name} is fed by ${this.publicName(source)}; it cannot be set from messages`);
      if (causality === 'parameter' && variability !== 'tunable') {
        throw new Error(`${field}: ${hit.name} is a ${variability} parameter; set it in the node's parameters (before the start), not while running`);
      }
      if (causality !== 'input' && causality !== 'parameter') {
        throw new Error(`${field}: ${hit.name} is ${causality === 'output' ? 'an output' : `a ${causality} variable`}, not an input (inputs: ${this.listOf('input')})`);
      }
    } else if (role === 'start') {
      if (causality !== 'input' && causality !== 'parameter') throw new Error(`${field}: ${hit.name} is ${causality === 'output' ? 'an output' : `a ${causality} variable`}; only inputs and parameters have start values`);
      const source = this.connected.get(hit.path);
      if (source) throw new Error(`${field}: ${hit.name} is fed by ${this.publicName(source)}`);
    }
    return hit;
  }

  /** A variable that can be recorded or limited: a numeric or boolean scalar. */
  resolveNumeric(name: unknown, field: string): Resolved {
    const hit = this.resolve(name, field, 'any');
    if (hit.variable.dimensions || !NUMERIC.has(hit.variable.type)) throw new Error(`${field}: ${hit.name} is a ${hit.variable.type}${hit.variable.dimensions ? ' array' : ''}; only numeric scalars can be recorded or limited`);
    return hit;
  }

  /** Every scalar output that is not a Binary or Clock, in declaration order. */
  outputs(): Resolved[] {
    const out: Resolved[] = [];
    for (const member of this.members) {
      for (const v of member.description.variables) {
        if (v.causality === 'output' && !v.dimensions && v.type !== 'Binary' && v.type !== 'Clock') out.push(this.resolved(member, v));
      }
    }
    return out;
  }
}

// ---- values ---------------------------------------------------------------------------------------

const INTEGER_RANGES: Record<string, [number, number]> = {
  Int8: [-128, 127], UInt8: [0, 255], Int16: [-32768, 32767], UInt16: [0, 65535], Int32: [-2147483648, 2147483647], UInt32: [0, 4294967295],
};

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** A message value converted to what the variable takes; the error names the field and the rule. */
export function coerceValue(value: unknown, target: Resolved, field: string): VariableValue {
  const v = target.variable;
  const type = v.type === 'Enumeration' ? 'Int64' : v.type;
  if (v.dimensions) {
    if (!Array.isArray(value) && !ArrayBuffer.isView(value)) throw new Error(`${field}: ${target.name} is an array; send an array of values`);
    return value as VariableValue;
  }
  const checkBounds = (n: number | bigint): void => {
    if (v.min !== undefined && n < v.min) throw new Error(`${field}: ${show(n)} is below the minimum ${show(v.min)} of ${target.name}${v.unit ? ` (${v.unit})` : ''}`);
    if (v.max !== undefined && n > v.max) throw new Error(`${field}: ${show(n)} is above the maximum ${show(v.max)} of ${target.name}${v.unit ? ` (${v.unit})` : ''}`);
  };
  switch (type) {
    case 'Float32':
    case 'Float64': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${field}: ${show(value)} is not a number (${target.name} is ${v.type}${v.unit ? ` in ${v.unit}` : ''})`);
      checkBounds(n);
      return n;
    }
    case 'Int64':
    case 'UInt64': {
      let n: bigint;
      if (typeof value === 'bigint') n = value;
      else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
      else if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) n = BigInt(value.trim());
      else throw new Error(`${field}: ${show(value)} is not a whole number (${target.name} is ${v.type})`);
      const low = type === 'UInt64' ? 0n : -(2n ** 63n);
      const high = type === 'UInt64' ? 2n ** 64n - 1n : 2n ** 63n - 1n;
      if (n < low || n > high) throw new Error(`${field}: ${n} is outside the ${type} range`);
      checkBounds(n);
      return v.type === 'Enumeration' && target.variable.accessType === 'Int32' ? Number(n) : n;
    }
    case 'Boolean': {
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
      throw new Error(`${field}: ${show(value)} is not a boolean (${target.name} takes true or false)`);
    }
    case 'String':
      if (typeof value !== 'string') throw new Error(`${field}: ${show(value)} is not a string (${target.name} is a String)`);
      return value;
    case 'Binary':
      if (value instanceof Uint8Array) return value;
      throw new Error(`${field}: ${target.name} is Binary; send a Buffer`);
    default: {
      const range = INTEGER_RANGES[type];
      if (!range) throw new Error(`${field}: ${target.name} is a ${v.type}, which messages cannot set`);
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error(`${field}: ${show(value)} is not a whole number (${target.name} is ${v.type})`);
      if (n < range[0] || n > range[1]) throw new Error(`${field}: ${n} is outside the ${v.type} range ${range[0]}..${range[1]}`);
      checkBounds(n);
      return n;
    }
  }
}

/** A value read from the FMU, ready for a message payload (numbers stay numbers). */
export function payloadValue(value: VariableValue): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  // Typed arrays (FMI 3.0 array variables) as plain arrays, so they survive JSON and the debug sidebar.
  if (ArrayBuffer.isView(value) && !Buffer.isBuffer(value)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
  }
  return value;
}

// ---- messages in ----------------------------------------------------------------------------------

export interface IncomingMessage {
  topic?: unknown;
  payload?: unknown;
  whatIf?: unknown;
  desired?: unknown;
  batch?: unknown;
  reset?: unknown;
  quality?: unknown;
  [key: string]: unknown;
}

export interface InputValue {
  path: string;
  name: string;
  value: VariableValue;
}

export type Request =
  | { kind: 'inputs'; values: InputValue[]; ignored: string[] }
  | { kind: 'tick' }
  | { kind: 'reset' }
  | { kind: 'whatIf'; request: WhatIfRequest; echo: WhatIfEcho }
  | { kind: 'batch'; run: BatchRun };

export interface WhatIfEcho {
  duration: number;
  changes: { at: number; variable: string; value: unknown }[];
  limits: LimitSetting[];
}

export interface BatchRun {
  request: BatchRequest;
  /** start values by FMU, merged into the system for this run */
  parameters: Record<string, Record<string, VariableValue>>;
  format: BatchFormat;
  stopTime: number;
}

/** The input a topic sets: through the node's topic map first, then by variable name. */
function inputForTopic(topic: string, field: string, names: Names, settings: NodeSettings): Resolved | undefined {
  const mapped = settings.inputMap.find((m) => m.topic === topic);
  if (mapped) return names.resolve(mapped.input, `inputMap (topic "${topic}")`, 'input');
  try {
    return names.resolve(topic, field, 'input');
  } catch (err) {
    if (settings.ignoreUnknown) return undefined;
    const mappedTopics = settings.inputMap.map((m) => m.topic);
    throw new Error(`${(err as Error).message}${mappedTopics.length > 0 ? `; mapped topics: ${mappedTopics.join(', ')}` : ''}`);
  }
}

/** What a message asks of the node. Every value is checked before anything is applied. */
export function classifyMessage(msg: IncomingMessage, settings: NodeSettings, names: Names, now: { time: number }): Request {
  if (msg.reset === true) return { kind: 'reset' };
  if (settings.mode === 'batch') return { kind: 'batch', run: batchRun(msg, settings, names, now) };
  const asksWhatIf = (msg.whatIf !== undefined && msg.whatIf !== false && msg.whatIf !== null) || (settings.mode === 'whatif' && msg.desired !== undefined);
  if (asksWhatIf) return whatIfRequest(msg, settings, names);
  return inputRequest(msg, settings, names);
}

function inputRequest(msg: IncomingMessage, settings: NodeSettings, names: Names): Request {
  const topic = typeof msg.topic === 'string' ? msg.topic.trim() : '';
  const values: InputValue[] = [];
  const ignored: string[] = [];
  const put = (target: Resolved, value: unknown, field: string): void => {
    const coerced = coerceValue(value, target, field);
    const same = values.findIndex((v) => v.path === target.path);
    if (same >= 0) values.splice(same, 1);
    values.push({ path: target.path, name: target.name, value: coerced });
  };
  if (topic === 'samples' && Array.isArray(msg.payload)) {
    // A batch of samples (opcua-in's per-cycle output): samples whose topic is no input are skipped.
    msg.payload.forEach((sample: unknown, i: number) => {
      const s = (isPlainObject(sample) ? sample : {}) as IncomingMessage;
      const t = typeof s.topic === 'string' ? s.topic.trim() : '';
      const mapped = settings.inputMap.find((m) => m.topic === t);
      let target: Resolved | undefined;
      if (mapped) target = names.resolve(mapped.input, `inputMap (topic "${t}")`, 'input');
      else {
        try {
          target = t ? names.resolve(t, `payload[${i}].topic`, 'input') : undefined;
        } catch {
          target = undefined;
        }
      }
      if (!target || s.quality === 'bad') {
        ignored.push(t || `payload[${i}]`);
        return;
      }
      put(target, s.payload, `payload[${i}].payload (${t})`);
    });
    if (values.length === 0 && msg.payload.length > 0 && !settings.ignoreUnknown) {
      throw new Error(`payload: none of the samples' topics (${ignored.slice(0, 8).join(', ')}) is an input (inputs: ${names.listOf('input')})`);
    }
    return { kind: 'inputs', values, ignored };
  }
  if (topic) {
    if (msg.quality === 'bad') return { kind: 'inputs', values, ignored: [topic] };
    const target = inputForTopic(topic, 'topic', names, settings);
    if (!target) return { kind: 'inputs', values, ignored: [topic] };
    if (msg.payload === undefined) throw new Error(`payload: a value for ${target.name} is required`);
    put(target, msg.payload, 'payload');
    return { kind: 'inputs', values, ignored };
  }
  if (isPlainObject(msg.payload)) {
    for (const [key, value] of Object.entries(msg.payload)) {
      const target = inputForTopic(key, `payload.${key}`, names, settings);
      if (target) put(target, value, `payload.${key}`);
      else ignored.push(key);
    }
    return { kind: 'inputs', values, ignored };
  }
  return { kind: 'tick' };
}

function checkRunLength(duration: number, stepSize: number, field: string): void {
  const steps = Math.ceil(duration / stepSize - 1e-9);
  if (steps > MAX_RUN_STEPS) {
    throw new Error(`${field}: ${duration} s is ${steps} steps of ${stepSize} s; at most ${MAX_RUN_STEPS} are allowed in one run (it would block Node-RED)`);
  }
}

function whatIfRequest(msg: IncomingMessage, settings: NodeSettings, names: Names): Request {
  const raw = msg.whatIf === true || msg.whatIf === undefined ? {} : msg.whatIf;
  if (!isPlainObject(raw)) throw new Error('whatIf: must be an object { duration, changes, limits } or true');
  const duration = raw.duration === undefined ? settings.whatIf.duration : number(raw.duration, 'whatIf.duration', { positive: true });
  checkRunLength(duration, settings.stepSize, 'whatIf.duration');
  const changes: InputChange[] = [];
  const echoChanges: WhatIfEcho['changes'] = [];
  if (raw.changes !== undefined) {
    if (!Array.isArray(raw.changes)) throw new Error('whatIf.changes: must be a list of { at, variable, value }');
    raw.changes.forEach((change: unknown, i: number) => {
      const field = `whatIf.changes[${i}]`;
      if (!isPlainObject(change)) throw new Error(`${field}: must be { at, variable, value }`);
      const at = change.at === undefined ? 0 : number(change.at, `${field}.at`, { min: 0 });
      const variable = typeof change.variable === 'string' ? change.variable.trim() : change.variable;
      const mapped = typeof variable === 'string' ? settings.inputMap.find((m) => m.topic === variable) : undefined;
      const target = names.resolve(mapped ? mapped.input : variable, `${field}.variable`, 'input');
      const value = coerceValue(change.value, target, `${field}.value`);
      changes.push({ at, variable: target.path, value });
      echoChanges.push({ at, variable: target.name, value: payloadValue(value) });
    });
  } else {
    // The request shape of a desired change: "what if <topic> goes to <payload>?"
    const topic = typeof msg.topic === 'string' ? msg.topic.trim() : '';
    if (topic && topic !== 'samples' && msg.payload !== undefined) {
      const target = inputForTopic(topic, 'topic', names, { ...settings, ignoreUnknown: false });
      const value = coerceValue(msg.payload, target!, 'payload');
      changes.push({ at: 0, variable: target!.path, value });
      echoChanges.push({ at: 0, variable: target!.name, value: payloadValue(value) });
    }
  }
  let limitSettings = settings.whatIf.limits;
  if (raw.limits !== undefined) {
    if (!Array.isArray(raw.limits)) throw new Error('whatIf.limits: must be a list of { variable, min, max }');
    limitSettings = raw.limits.map((l: unknown, i: number) => parseLimit(l, `whatIf.limits[${i}]`));
  }
  const limits: Limit[] = limitSettings.map((l, i) => {
    const target = names.resolveNumeric(l.variable, raw.limits !== undefined ? `whatIf.limits[${i}].variable` : `whatIfLimits[${i}].variable`);
    return { variable: target.path, ...(l.min !== undefined && { min: l.min }), ...(l.max !== undefined && { max: l.max }) };
  });
  const request: WhatIfRequest = { duration, changes, limits };
  if (raw.record !== undefined) {
    if (!Array.isArray(raw.record)) throw new Error('whatIf.record: must be a list of variable names');
    request.record = raw.record.map((r: unknown, i: number) => names.resolveNumeric(r, `whatIf.record[${i}]`).path);
  }
  request.maxPoints = raw.maxPoints === undefined ? settings.whatIf.maxPoints : number(raw.maxPoints, 'whatIf.maxPoints', { integer: true, min: 2 });
  return {
    kind: 'whatIf',
    request,
    echo: { duration, changes: echoChanges, limits: limitSettings.map((l, i) => ({ ...l, variable: names.publicName(limits[i]!.variable) })) },
  };
}

function batchRun(msg: IncomingMessage, settings: NodeSettings, names: Names, now: { time: number }): BatchRun {
  const raw = msg.batch === undefined ? {} : msg.batch;
  if (!isPlainObject(raw)) throw new Error('batch: must be an object { stopTime, inputs, parameters, record, recordEvery, format }');
  const defaultStop = names.members[0]?.description.defaultExperiment?.stopTime;
  const stopTime = raw.stopTime !== undefined
    ? number(raw.stopTime, 'batch.stopTime', {})
    : settings.batch.stopTime ?? defaultStop;
  if (stopTime === undefined) throw new Error('batch.stopTime: required (neither the node nor the FMU\'s default experiment gives one)');
  if (!(stopTime > now.time)) throw new Error(`batch.stopTime: ${stopTime} must be after the start time ${now.time}`);
  checkRunLength(stopTime - now.time, settings.stepSize, 'batch.stopTime');
  const request: BatchRequest = { stopTime, recordEvery: raw.recordEvery === undefined ? settings.batch.recordEvery : number(raw.recordEvery, 'batch.recordEvery', { integer: true, min: 1 }) };
  // Inputs: batch.inputs, or the payload: CSV text with a time column, or { time, columns }.
  const source = raw.inputs !== undefined ? raw.inputs : typeof msg.payload === 'string' || (isPlainObject(msg.payload) && 'time' in msg.payload) ? msg.payload : undefined;
  const field = raw.inputs !== undefined ? 'batch.inputs' : 'payload';
  if (source !== undefined) request.inputs = inputTable(source, field, names);
  if (raw.record !== undefined) {
    if (!Array.isArray(raw.record)) throw new Error('batch.record: must be a list of variable names');
    request.record = raw.record.map((r: unknown, i: number) => names.resolveNumeric(r, `batch.record[${i}]`).path);
  } else if (settings.outputNames.length > 0) {
    request.record = settings.outputNames.map((o, i) => names.resolveNumeric(o, `outputNames[${i}]`).path);
  } else {
    request.record = names.outputs().filter((o) => NUMERIC.has(o.variable.type)).map((o) => o.path);
  }
  const parameters: Record<string, Record<string, VariableValue>> = {};
  if (raw.parameters !== undefined) {
    if (!isPlainObject(raw.parameters)) throw new Error('batch.parameters: must be an object { name: value }');
    for (const [key, value] of Object.entries(raw.parameters)) {
      const target = names.resolve(key, `batch.parameters.${key}`, 'start');
      (parameters[target.member] ??= {})[target.variable.name] = coerceValue(value, target, `batch.parameters.${key}`);
    }
  }
  const format = raw.format === undefined ? settings.batch.format : oneOf(raw.format, ['columns', 'csv'] as const, 'columns', 'batch.format');
  return { request, parameters, format, stopTime };
}

function inputTable(source: unknown, field: string, names: Names): InputTable {
  let table: { time: unknown; columns: unknown };
  if (typeof source === 'string') {
    const csv = parseInputCsv(source, field);
    table = { time: csv.time, columns: csv.columns };
  } else if (isPlainObject(source)) {
    table = { time: source.time, columns: source.columns };
  } else {
    throw new Error(`${field}: must be CSV text with a time column, or { time: [...], columns: { input: [...] } }`);
  }
  if (!Array.isArray(table.time)) throw new Error(`${field}.time: must be an array of times`);
  const times = table.time.map((t: unknown, i: number) => number(t, `${field}.time[${i}]`, {}));
  if (!isPlainObject(table.columns)) throw new Error(`${field}.columns: must be an object { input: [values] }`);
  const columns: Record<string, (number | boolean)[]> = {};
  for (const [key, values] of Object.entries(table.columns)) {
    const target = names.resolve(key, `${field}.columns.${key}`, 'input');
    if (!Array.isArray(values)) throw new Error(`${field}.columns.${key}: must be an array of values`);
    if (values.length !== times.length) throw new Error(`${field}.columns.${key}: has ${values.length} values for ${times.length} times`);
    columns[target.path] = values.map((v: unknown, i: number) => {
      const coerced = coerceValue(v, target, `${field}.columns.${key}[${i}]`);
      if (typeof coerced !== 'number' && typeof coerced !== 'boolean') throw new Error(`${field}.columns.${key}[${i}]: only numbers and booleans can be tabulated`);
      return coerced;
    });
  }
  return { time: times, columns };
}

// ---- messages out ---------------------------------------------------------------------------------

export interface OutputValue {
  name: string;
  path: string;
  unit?: string;
  value: VariableValue;
}

/** Live outputs as messages, in the message contract (samples), or as one object. */
export function outputMessages(values: readonly OutputValue[], format: OutputFormat, simTime: number, now: number): Record<string, unknown>[] {
  const sample = (v: OutputValue): Record<string, unknown> => ({
    topic: v.name,
    payload: payloadValue(v.value),
    sourceTime: now,
    quality: 'good',
    fmu: { time: simTime, variable: v.path, ...(v.unit !== undefined && { unit: v.unit }) },
  });
  if (format === 'messages') return values.map(sample);
  if (format === 'samples') return [{ topic: 'samples', payload: values.map(sample), sourceTime: now, fmu: { time: simTime } }];
  return [{
    topic: 'outputs',
    payload: Object.fromEntries(values.map((v) => [v.name, payloadValue(v.value)])),
    sourceTime: now,
    fmu: { time: simTime, units: Object.fromEntries(values.filter((v) => v.unit !== undefined).map((v) => [v.name, v.unit])) },
  }];
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs >= 1e6 || abs < 1e-3) ? value.toExponential(3) : String(Math.round(value * 1000) / 1000);
}

export interface WhatIfReply {
  verdict: 'safe' | 'unsafe';
  /** one line a person reads (dashboards, the guard's reason) */
  summary: string;
  violations: { variable: string; bound: 'min' | 'max'; limit: number; value: number; time: number; after: number; unit?: string }[];
  trajectory: { time: number[]; values: Record<string, number[]>; units: Record<string, string> };
  startTime: number;
  endTime: number;
  duration: number;
  changes: WhatIfEcho['changes'];
  limits: LimitSetting[];
  method: 'restore' | 'replay';
  steps: number;
  terminated?: { fmu: string; time: number };
}

function unitOf(names: Names, name: string): string | undefined {
  try {
    return names.resolve(name, 'unit', 'any').variable.unit;
  } catch {
    return undefined;
  }
}

/** The engine's what-if result, with message names and plain arrays (JSON-ready). */
export function whatIfReply(result: WhatIfResult, echo: WhatIfEcho, names: Names): WhatIfReply {
  const violations = result.violations.map((v) => {
    const name = names.publicName(v.variable);
    const unit = unitOf(names, name);
    return { variable: name, bound: v.bound, limit: v.limit, value: v.value, time: v.time, after: v.time - result.startTime, ...(unit !== undefined && { unit }) };
  });
  const values: Record<string, number[]> = {};
  const units: Record<string, string> = {};
  for (const [key, column] of Object.entries(result.trajectory.values)) {
    const name = names.publicName(key);
    values[name] = Array.from(column);
    const unit = unitOf(names, name);
    if (unit !== undefined) units[name] = unit;
  }
  const changeText = echo.changes.length > 0 ? echo.changes.map((c) => `${c.variable} = ${show(c.value)}${c.at > 0 ? ` at +${c.at} s` : ''}`).join(', ') : 'no change';
  const summary = violations.length === 0
    ? `safe: ${changeText}; ${echo.limits.length > 0 ? 'every limit held' : 'no limits given'} for ${formatNumber(echo.duration)} s`
    : `unsafe: ${changeText}; ${violations.map((v) => `${v.variable} ${formatNumber(v.value)}${v.unit ? ` ${v.unit}` : ''} ${v.bound === 'max' ? 'above the maximum' : 'below the minimum'} ${formatNumber(v.limit)} after ${formatNumber(v.after)} s`).join('; ')}`;
  return {
    verdict: result.verdict,
    summary,
    violations,
    trajectory: { time: Array.from(result.trajectory.time), values, units },
    startTime: result.startTime,
    endTime: result.endTime,
    duration: echo.duration,
    changes: echo.changes,
    limits: echo.limits,
    method: result.method,
    steps: result.steps,
    ...(result.terminated && { terminated: result.terminated }),
  };
}

/** A batch result as columns (message names, plain arrays) or as CSV text. */
export function batchPayload(result: BatchResult, format: BatchFormat, names: Names): unknown {
  const labels = result.names.map((n) => names.publicName(n));
  if (format === 'csv') return formatCsv(result, labels);
  return {
    time: Array.from(result.time),
    columns: Object.fromEntries(result.names.map((n, i) => [labels[i]!, Array.from(result.columns[n]!)])),
    names: labels,
    steps: result.steps,
    ...(result.terminated && { terminated: result.terminated }),
  };
}

// ---- the dialog's view of an FMU --------------------------------------------------------------------

export interface DialogVariable {
  /** the name messages use in this node */
  name: string;
  type: string;
  unit?: string;
  start?: unknown;
  min?: unknown;
  max?: unknown;
  variability?: string;
  description?: string;
  connected?: string;
}

export interface DialogFmu {
  name: string;
  file: string;
  modelName: string;
  fmiVersion: string;
  description?: string;
  coSimulation: boolean;
  canGetAndSetFMUState: boolean;
  /** why this machine cannot run it (platform, Model Exchange only), if so */
  problem?: string;
  defaultExperiment?: { startTime?: number; stopTime?: number; stepSize?: number };
  inputs: DialogVariable[];
  outputs: DialogVariable[];
  parameters: DialogVariable[];
}

function jsonScalar(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonScalar);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/** What the edit dialog shows about each FMU of the node: variables with the names messages use. */
export function describeForDialog(members: readonly { name: string; archive: FmuArchive }[], single: boolean, connections: readonly { from: string; to: string }[] = []): { single: boolean; fmus: DialogFmu[] } {
  const names = new Names(members.map((m) => ({ name: m.name, description: m.archive.description })), single, connections);
  const connected = new Map(connections.map((c) => [c.to, c.from]));
  return {
    single,
    fmus: members.map(({ name, archive }) => {
      const d = archive.description;
      let problem: string | undefined;
      try {
        binaryPath(archive);
      } catch (err) {
        problem = (err as Error).message;
      }
      const view = (v: ModelVariable): DialogVariable => {
        const p = `${name}.${v.name}`;
        return {
          name: names.publicName(p),
          type: v.type + (v.dimensions ? '[]' : ''),
          ...(v.unit !== undefined && { unit: v.unit }),
          ...(v.start !== undefined && { start: jsonScalar(v.start) }),
          ...(v.min !== undefined && { min: jsonScalar(v.min) }),
          ...(v.max !== undefined && { max: jsonScalar(v.max) }),
          ...(v.causality === 'parameter' && { variability: v.variability }),
          ...(v.description !== undefined && { description: v.description }),
          ...(connected.has(p) && { connected: names.publicName(connected.get(p)!) }),
        };
      };
      return {
        name,
        file: archive.file,
        modelName: d.modelName,
        fmiVersion: d.fmiVersion,
        ...(d.description !== undefined && { description: d.description }),
        coSimulation: Boolean(d.coSimulation),
        canGetAndSetFMUState: Boolean(d.coSimulation?.canGetAndSetFMUState),
        ...(problem !== undefined && { problem }),
        ...(d.defaultExperiment && { defaultExperiment: d.defaultExperiment }),
        inputs: d.variables.filter((v) => v.causality === 'input').map(view),
        outputs: d.variables.filter((v) => v.causality === 'output').map(view),
        parameters: d.variables.filter((v) => v.causality === 'parameter').map(view),
      };
    }),
  };
}
