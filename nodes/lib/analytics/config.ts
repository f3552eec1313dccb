// The anomaly engine's configuration: what to watch, how to learn the baseline, and how the
// detectors and alarms are tuned; checked field by field so a person reads which field is wrong.
import type { AlertSeverity } from '../messages';
import { NELSON_RULES, WESTERN_ELECTRIC_RULES, isSpcRule, type Direction, type SpcRule } from './detectors';

export const DETECTORS = ['ewma', 'cusum', 'spc', 'flatline', 'gap'] as const;
export type DetectorName = (typeof DETECTORS)[number];

export interface SignalSpec {
  /** the sample topic (DTDL path), e.g. spindle/vibrationRms */
  topic: string;
  /** topics whose values explain this one within an operating regime (e.g. motor current for vibration) */
  covariates: string[];
  /** which deviations count: up (rises only), down, or both */
  direction: Direction;
  /** the detectors that may raise alarms for this signal (each also needs to be enabled globally) */
  detectors: DetectorName[];
}

export interface MultivariateSpec {
  /** names the channel and its alarms, e.g. "spindle" */
  name: string;
  /** at least two topics, scored together by their Mahalanobis distance (Hotelling T^2) */
  topics: string[];
  /** ewma, cusum and spc apply to the group's score (flat line and gap to its topics when they are signals) */
  detectors: DetectorName[];
}

export interface RegimeSpec {
  /** the topic that sets the operating point (e.g. spindle/speedSetpoint); its last value holds until it changes */
  topic: string;
  /** regime = round(value / binWidth): each bin has its own baseline */
  binWidth: number;
  /** samples taken within this long after the regime changed are not scored (transients) */
  settleSeconds: number;
}

export interface AnomalyConfig {
  /** `source` of every alert */
  source: string;
  signals: SignalSpec[];
  multivariate: MultivariateSpec[];
  regime?: RegimeSpec;
  training: {
    /** length of the training window in source time */
    seconds: number;
    /** a regime needs this many training samples to get a baseline */
    minRegimeSamples: number;
  };
  /** scores beyond +-clip feed EWMA and CUSUM as +-clip, so one spike cannot raise an alarm by itself */
  clipScore: number;
  ewma: { enabled: boolean; lambda: number; limit: number; warmup: number };
  cusum: { enabled: boolean; k: number; h: number };
  /**
   * rules: evaluated on every chart point and reported with it; alarmRules: those of them that raise
   * an alarm. Run rules on a stream sampled every second signal many times a day by chance alone (the
   * four Western Electric rules together: once in about 92 in-control points), so by default only the
   * limit rules raise alarms and the run rules mark the chart.
   */
  spc: { enabled: boolean; subgroupSize: number; rules: SpcRule[]; alarmRules: SpcRule[]; sigmaLimit: number };
  flatLine: { enabled: boolean; seconds: number; minSamples: number; tolerance: number };
  gap: { enabled: boolean; /** 0 = factor x the typical interval learned in training */ seconds: number; factor: number };
  alarm: {
    /** a statistical condition must hold this long before it raises an alarm (ISA-18.2 on-delay) */
    onDelaySeconds: number;
    /** and be gone this long before the alarm returns to normal (off-delay) */
    offDelaySeconds: number;
    processSeverity: AlertSeverity;
    sensorSeverity: AlertSeverity;
  };
  /** chart points in the signal's units (value, expected centre line, limits) or as sigma scores */
  chart: 'value' | 'score';
}

export class AnomalyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnomalyConfigError';
  }
}

export const DEFAULT_CONFIG: Omit<AnomalyConfig, 'source' | 'signals' | 'multivariate'> = {
  training: { seconds: 3600, minRegimeSamples: 30 },
  clipScore: 6,
  ewma: { enabled: true, lambda: 0.05, limit: 4, warmup: 20 },
  cusum: { enabled: true, k: 0.75, h: 25 },
  spc: { enabled: true, subgroupSize: 10, rules: [...WESTERN_ELECTRIC_RULES], alarmRules: ['beyond3Sigma', 'twoOfThreeBeyond2Sigma'], sigmaLimit: 3 },
  flatLine: { enabled: true, seconds: 30, minSamples: 5, tolerance: 0 },
  gap: { enabled: true, seconds: 0, factor: 10 },
  alarm: { onDelaySeconds: 30, offDelaySeconds: 60, processSeverity: 'high', sensorSeverity: 'medium' },
  chart: 'value',
};

type Raw = Record<string, unknown>;

function fail(message: string): never {
  throw new AnomalyConfigError(message);
}

function obj(value: unknown, field: string): Raw {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(`${field}: must be an object`);
  return value as Raw;
}

/** Numbers may come from the editor as text. */
function num(value: unknown, field: string, fallback: number, rule: { min?: number; max?: number; above?: number; integer?: boolean } = {}): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) fail(`${field}: ${JSON.stringify(value)} is not a number`);
  if (rule.integer && !Number.isInteger(n)) fail(`${field}: ${n} must be a whole number`);
  if (rule.above !== undefined && !(n > rule.above)) fail(`${field}: ${n} must be above ${rule.above}`);
  if (rule.min !== undefined && n < rule.min) fail(`${field}: ${n} is below the minimum ${rule.min}`);
  if (rule.max !== undefined && n > rule.max) fail(`${field}: ${n} is above the maximum ${rule.max}`);
  return n;
}

function bool(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return fail(`${field}: ${JSON.stringify(value)} must be true or false`);
}

/** A list given as an array or as comma-separated text. */
function topics(value: unknown, field: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list)) fail(`${field}: must be a list of topics`);
  return list.map((t, i) => {
    if (typeof t !== 'string') fail(`${field}[${i}]: must be a topic (text)`);
    return t.trim();
  }).filter((t) => t !== '');
}

function detectorList(value: unknown, field: string, allowed: readonly DetectorName[]): DetectorName[] {
  if (value === undefined || value === null || value === '') return [...allowed];
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  if (!Array.isArray(list)) fail(`${field}: must be a list of detectors (${allowed.join(', ')})`);
  return list.map((d, i) => {
    if (!allowed.includes(d as DetectorName)) fail(`${field}[${i}]: ${JSON.stringify(d)} must be one of ${allowed.join(', ')}`);
    return d as DetectorName;
  });
}

const SEVERITIES: readonly AlertSeverity[] = ['critical', 'high', 'medium', 'low'];

function severity(value: unknown, field: string, fallback: AlertSeverity): AlertSeverity {
  if (value === undefined || value === null || value === '') return fallback;
  if (!SEVERITIES.includes(value as AlertSeverity)) fail(`${field}: ${JSON.stringify(value)} must be one of ${SEVERITIES.join(', ')}`);
  return value as AlertSeverity;
}

function direction(value: unknown, field: string): Direction {
  if (value === undefined || value === null || value === '') return 'both';
  if (value !== 'both' && value !== 'up' && value !== 'down') fail(`${field}: ${JSON.stringify(value)} must be both, up or down`);
  return value;
}

function rules(value: unknown, field: string, fallback: readonly SpcRule[]): SpcRule[] {
  if (value === undefined || value === null || value === '') return [...fallback];
  if (value === 'westernElectric') return [...WESTERN_ELECTRIC_RULES];
  if (value === 'nelson') return [...NELSON_RULES];
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  if (!Array.isArray(list)) fail(`${field}: must be westernElectric, nelson or a list of rules`);
  return list.map((r, i) => {
    if (!isSpcRule(r)) fail(`${field}[${i}]: ${JSON.stringify(r)} is not a known rule`);
    return r;
  });
}

/** Checks and completes a configuration; throws AnomalyConfigError naming the first bad field. */
export function anomalyConfig(raw: unknown): AnomalyConfig {
  const r = obj(raw, 'config');
  const source = typeof r.source === 'string' && r.source ? r.source : 'anomaly';
  if (!Array.isArray(r.signals)) fail('signals: must be a list of { topic, covariates?, direction? }');
  const signals: SignalSpec[] = r.signals.map((s, i) => {
    const spec = obj(s, `signals[${i}]`);
    if (typeof spec.topic !== 'string' || spec.topic.trim() === '') fail(`signals[${i}].topic: the topic to watch is required`);
    const topic = spec.topic.trim();
    const covariates = topics(spec.covariates, `signals[${i}].covariates`);
    if (covariates.includes(topic)) fail(`signals[${i}].covariates: ${topic} cannot explain itself`);
    return { topic, covariates, direction: direction(spec.direction, `signals[${i}].direction`), detectors: detectorList(spec.detectors, `signals[${i}].detectors`, DETECTORS) };
  });
  const seen = new Set<string>();
  signals.forEach((s, i) => {
    if (seen.has(s.topic)) fail(`signals[${i}].topic: ${s.topic} is listed twice`);
    seen.add(s.topic);
  });
  const multivariate: MultivariateSpec[] = (Array.isArray(r.multivariate) ? r.multivariate : r.multivariate === undefined || r.multivariate === null || r.multivariate === '' ? [] : fail('multivariate: must be a list of { name, topics }')).map((m, i) => {
    const spec = obj(m, `multivariate[${i}]`);
    const list = topics(spec.topics, `multivariate[${i}].topics`);
    if (list.length < 2) fail(`multivariate[${i}].topics: needs at least two topics`);
    if (new Set(list).size !== list.length) fail(`multivariate[${i}].topics: a topic is listed twice`);
    const name = typeof spec.name === 'string' && spec.name.trim() ? spec.name.trim() : list.join('+');
    if (seen.has(name)) fail(`multivariate[${i}].name: ${name} is already the name of another channel`);
    seen.add(name);
    return { name, topics: list, detectors: detectorList(spec.detectors, `multivariate[${i}].detectors`, ['ewma', 'cusum', 'spc']) };
  });
  if (signals.length === 0 && multivariate.length === 0) fail('signals: watch at least one signal or one multivariate group');

  let regime: RegimeSpec | undefined;
  const rr = obj(r.regime, 'regime');
  if (typeof rr.topic === 'string' && rr.topic.trim() !== '') {
    regime = {
      topic: rr.topic.trim(),
      binWidth: num(rr.binWidth, 'regime.binWidth', Number.NaN, { above: 0 }),
      settleSeconds: num(rr.settleSeconds, 'regime.settleSeconds', 5, { min: 0 }),
    };
    if (Number.isNaN(regime.binWidth)) fail('regime.binWidth: the width of an operating regime is required (e.g. 500 for rpm)');
  }

  const d = DEFAULT_CONFIG;
  const training = obj(r.training, 'training');
  const ewma = obj(r.ewma, 'ewma');
  const cusum = obj(r.cusum, 'cusum');
  const spc = obj(r.spc, 'spc');
  const flat = obj(r.flatLine, 'flatLine');
  const gap = obj(r.gap, 'gap');
  const alarm = obj(r.alarm, 'alarm');
  const chart = r.chart === undefined || r.chart === '' ? d.chart : r.chart;
  if (chart !== 'value' && chart !== 'score') fail(`chart: ${JSON.stringify(r.chart)} must be value or score`);
  const spcRules = rules(spc.rules, 'spc.rules', d.spc.rules);
  const alarmRules = rules(spc.alarmRules, 'spc.alarmRules', d.spc.alarmRules);
  // An alarm rule is always evaluated, whether or not it is listed among the chart's rules.
  for (const rule of alarmRules) if (!spcRules.includes(rule)) spcRules.push(rule);
  return {
    source,
    signals,
    multivariate,
    ...(regime ? { regime } : {}),
    training: {
      seconds: num(training.seconds, 'training.seconds', d.training.seconds, { above: 0 }),
      minRegimeSamples: num(training.minRegimeSamples, 'training.minRegimeSamples', d.training.minRegimeSamples, { min: 5, integer: true }),
    },
    clipScore: num(r.clipScore, 'clipScore', d.clipScore, { above: 0 }),
    ewma: {
      enabled: bool(ewma.enabled, 'ewma.enabled', d.ewma.enabled),
      lambda: num(ewma.lambda, 'ewma.lambda', d.ewma.lambda, { above: 0, max: 1 }),
      limit: num(ewma.limit, 'ewma.limit', d.ewma.limit, { above: 0 }),
      warmup: num(ewma.warmup, 'ewma.warmup', d.ewma.warmup, { min: 0, integer: true }),
    },
    cusum: {
      enabled: bool(cusum.enabled, 'cusum.enabled', d.cusum.enabled),
      k: num(cusum.k, 'cusum.k', d.cusum.k, { min: 0 }),
      h: num(cusum.h, 'cusum.h', d.cusum.h, { above: 0 }),
    },
    spc: {
      enabled: bool(spc.enabled, 'spc.enabled', d.spc.enabled),
      subgroupSize: num(spc.subgroupSize, 'spc.subgroupSize', d.spc.subgroupSize, { min: 1, max: 1000, integer: true }),
      rules: spcRules,
      alarmRules,
      sigmaLimit: num(spc.sigmaLimit, 'spc.sigmaLimit', d.spc.sigmaLimit, { above: 0 }),
    },
    flatLine: {
      enabled: bool(flat.enabled, 'flatLine.enabled', d.flatLine.enabled),
      seconds: num(flat.seconds, 'flatLine.seconds', d.flatLine.seconds, { above: 0 }),
      minSamples: num(flat.minSamples, 'flatLine.minSamples', d.flatLine.minSamples, { min: 2, integer: true }),
      tolerance: num(flat.tolerance, 'flatLine.tolerance', d.flatLine.tolerance, { min: 0 }),
    },
    gap: {
      enabled: bool(gap.enabled, 'gap.enabled', d.gap.enabled),
      seconds: num(gap.seconds, 'gap.seconds', d.gap.seconds, { min: 0 }),
      factor: num(gap.factor, 'gap.factor', d.gap.factor, { above: 1 }),
    },
    alarm: {
      onDelaySeconds: num(alarm.onDelaySeconds, 'alarm.onDelaySeconds', d.alarm.onDelaySeconds, { min: 0 }),
      offDelaySeconds: num(alarm.offDelaySeconds, 'alarm.offDelaySeconds', d.alarm.offDelaySeconds, { min: 0 }),
      processSeverity: severity(alarm.processSeverity, 'alarm.processSeverity', d.alarm.processSeverity),
      sensorSeverity: severity(alarm.sensorSeverity, 'alarm.sensorSeverity', d.alarm.sensorSeverity),
    },
    chart,
  };
}

/** What a learned baseline depends on: a baseline learned under another fingerprint is not reused. */
export function baselineFingerprint(config: AnomalyConfig): string {
  return JSON.stringify({
    signals: config.signals,
    multivariate: config.multivariate,
    regime: config.regime ?? null,
    lambda: config.ewma.lambda,
    subgroupSize: config.spc.subgroupSize,
  });
}
