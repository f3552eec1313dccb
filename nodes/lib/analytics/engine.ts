// The anomaly engine: learns a baseline of a machine's signals in a training window, then scores
// every new sample against it and keeps ISA-18.2 alarms for what it finds.
//
// Baseline. Each watched signal gets, per operating regime (a bin of a regime topic such as the
// spindle speed setpoint), a linear model of its value on chosen covariates (e.g. vibration on motor
// current: both follow the cutting load); a multivariate group gets a mean vector and covariance per
// regime. Samples within a settling time after a regime change are not used (transients). After the
// window the engine replays the training samples through the detectors to measure how much more
// the residuals wander than white noise (autocorrelation), and widens the limits by that much.
//
// Scoring. A sample's residual divided by its regime's residual standard deviation is a z-score;
// EWMA, CUSUM and a Shewhart chart with run rules watch the z-scores of each channel. Stuck sensors
// (flat line) and dropouts (gaps, or samples of bad quality) are watched on the raw samples.
//
// Time is the samples' source time, never the wall clock, so a simulation running faster than real
// time is judged in its own time; tick(now) lets a caller advance the clock when samples stop.
import type { Alert, Quality, TwinRef } from '../messages';
import { AlarmTable, applyAlarmAction, type AlarmAction, type AlarmSnapshot } from '../alarms';
import type { AnomalyConfig, DetectorName } from './config';
import { baselineFingerprint } from './config';
import { RunningCovariance, regressLast, type LinearFit } from './covariance';
import { CusumDetector, EwmaDetector, FlatLineDetector, SpcChart, SPC_RULES, type Direction, type SpcRule } from './detectors';
import { chiSquareToZ, cholesky, choleskyInverse, median, quadraticForm, RunningStats, zToChiSquare } from './stats';

export interface EngineSample {
  topic: string;
  /** null when the sensor sent no value */
  value: number | null;
  /** source time, ms since the epoch */
  time: number;
  quality: Quality;
  twin?: TwinRef;
}

/** One point of a channel's SPC chart, at the end of a subgroup. */
export interface ChartPoint {
  channel: string;
  /** source time of the subgroup's last sample, ms */
  time: number;
  value: number;
  centre: number;
  upper: number;
  lower: number;
  /** subgroup mean in sigma units of the subgroup mean */
  score: number;
  violations: SpcRule[];
}

/**
 * A scored sample of a univariate channel, condition-normalised: the residual (what the regime and the
 * covariates do not explain) added to the channel's typical level in training. Wear shows in it without
 * the operating point's swings, which makes it the better degradation indicator for a RUL trend.
 */
export interface IndicatorPoint {
  channel: string;
  time: number;
  value: number;
  expected: number;
  z: number;
  normalised: number;
}

export interface EngineOutput {
  alerts: Alert[];
  chart: ChartPoint[];
  indicators: IndicatorPoint[];
}

export interface Calibration {
  /** how much wider the EWMA statistic wanders than for white noise (>= 1) */
  ewmaScale: number;
  /**
   * lag-1 autocorrelation of the scores: the SPC chart judges the innovations
   * (z - phi z_prev) / sqrt(1 - phi^2), which are white where the scores are not
   */
  phi: number;
  /** how much wider subgroup means of the innovations spread than for white noise (>= 1) */
  subgroupScale: number;
  /** a regime's residual standard deviation is never taken below this (a signal that rested at one value in training) */
  sdFloor: number;
  samples: number;
}

export interface UnivariateBaseline {
  kind: 'univariate';
  /** by regime bin */
  regimes: Record<string, LinearFit>;
  calibration: Calibration;
  /** the mean expected value over the training samples: the level the normalised indicator is given at */
  reference: number;
}

export interface MultivariateBaseline {
  kind: 'multivariate';
  regimes: Record<string, { mean: number[]; inverse: number[]; count: number }>;
  calibration: Calibration;
}

export interface TopicBaseline {
  /** typical time between samples, ms */
  interval: number;
  /** the longest run of unchanged values in training, in regimes where the signal moves, s */
  longestFlatSeconds: number;
  /** regimes where the signal rests at one value (a speed at standstill): no flat-line check there */
  restingRegimes: number[];
  samples: number;
}

export interface Baseline {
  /** source time of the training window */
  from: number;
  to: number;
  channels: Record<string, UnivariateBaseline | MultivariateBaseline>;
  topics: Record<string, TopicBaseline>;
  /** channels that got no baseline, with the reason */
  unlearned: Record<string, string>;
}

export interface AnomalySnapshot {
  version: 1;
  fingerprint: string;
  baseline?: Baseline;
  alarms: AlarmSnapshot;
}

export type Phase = 'training' | 'monitoring';

export interface EngineStatus {
  phase: Phase;
  /** training: fraction of the window done */
  progress: number;
  samples: number;
  scored: number;
  /** samples not scored: regime unsettled or not learned, covariates missing */
  unscored: number;
  activeAlarms: number;
  unlearned: string[];
}

interface TrainingRow {
  time: number;
  regime: number;
  /** covariates then the signal (univariate) or the group's topics in order (multivariate) */
  values: number[];
}

interface Score {
  z: number;
  value: number;
  expected: number;
  /** residual standard deviation (univariate), in the signal's units */
  sd: number;
}

interface Channel {
  name: string;
  kind: 'univariate' | 'multivariate';
  /** the topic whose samples trigger scoring */
  lead: string;
  /** every topic a row needs, in row order */
  inputs: string[];
  direction: Direction;
  detectors: ReadonlySet<DetectorName>;
  rows: TrainingRow[];
  baseline?: UnivariateBaseline | MultivariateBaseline;
  ewma?: EwmaDetector;
  cusum?: CusumDetector;
  spc?: SpcChart;
  /** the previous (clipped) score, for the SPC innovations */
  lastZ: number | undefined;
  subgroup: { value: number; expected: number; sd: number; count: number };
}

interface TopicState {
  value?: number;
  /** time of the last good value */
  time?: number;
  /** last sample of any quality */
  lastSeen?: number;
  bad: boolean;
  flat: FlatLineDetector;
  /** training: per regime, samples and how many repeated the previous value, and the longest run */
  rests: Map<number, { samples: number; repeats: number; longest: number }>;
  detectors: ReadonlySet<DetectorName>;
  intervals: number[];
  samples: number;
}

/** An ISA-18.2 on-delay and off-delay in front of the alarm table. */
class AlarmGate {
  condition = false;
  changedAt = 0;
  active = false;
  message = '';

  constructor(readonly onDelayMs: number, readonly offDelayMs: number) {}

  update(condition: boolean, now: number, message?: string): 'raise' | 'clear' | undefined {
    if (message !== undefined) this.message = message;
    if (condition !== this.condition) {
      this.condition = condition;
      this.changedAt = now;
    }
    if (condition && !this.active && now - this.changedAt >= this.onDelayMs) {
      this.active = true;
      return 'raise';
    }
    if (!condition && this.active && now - this.changedAt >= this.offDelayMs) {
      this.active = false;
      return 'clear';
    }
    return undefined;
  }
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

export class AnomalyEngine {
  readonly config: AnomalyConfig;
  readonly fingerprint: string;
  readonly #alarms: AlarmTable;
  #channels: Channel[] = [];
  readonly #byLead = new Map<string, Channel[]>();
  readonly #topics = new Map<string, TopicState>();
  readonly #gates = new Map<string, AlarmGate>();
  #phase: Phase = 'training';
  #trainingFrom: number | undefined;
  #baseline: Baseline | undefined;
  #clock = Number.NEGATIVE_INFINITY;
  #regime: { bin: number; since: number } | undefined;
  #twin: TwinRef | undefined;
  #counts = { samples: 0, scored: 0, unscored: 0 };
  /** the latest good value of every topic the engine reads */
  readonly #values = new Map<string, { value: number; time: number }>();

  constructor(config: AnomalyConfig, snapshot?: AnomalySnapshot) {
    this.config = config;
    this.fingerprint = baselineFingerprint(config);
    this.#alarms = new AlarmTable({ source: config.source });
    for (const s of config.signals) {
      this.#addChannel({ name: s.topic, kind: 'univariate', lead: s.topic, inputs: [...s.covariates, s.topic], direction: s.direction, detectors: new Set(s.detectors) });
    }
    for (const m of config.multivariate) {
      this.#addChannel({ name: m.name, kind: 'multivariate', lead: m.topics[0] as string, inputs: [...m.topics], direction: 'up', detectors: new Set(m.detectors) });
    }
    for (const topic of this.watchedTopics()) this.#topics.set(topic, this.#newTopicState(topic));
    if (snapshot) this.#restore(snapshot);
  }

  /** Topics checked for flat lines and gaps: every scored signal and multivariate member. */
  watchedTopics(): string[] {
    return [...new Set([...this.config.signals.map((s) => s.topic), ...this.config.multivariate.flatMap((m) => m.topics)])];
  }

  /** Every topic the engine reads (watched, covariates, regime); other samples are ignored. */
  relevantTopics(): ReadonlySet<string> {
    if (!this.#relevant) {
      const set = new Set<string>(this.watchedTopics());
      for (const s of this.config.signals) for (const c of s.covariates) set.add(c);
      if (this.config.regime) set.add(this.config.regime.topic);
      this.#relevant = set;
    }
    return this.#relevant;
  }

  #relevant: Set<string> | undefined;

  get phase(): Phase {
    return this.#phase;
  }

  get baseline(): Baseline | undefined {
    return this.#baseline;
  }

  /** The engine's clock: the latest source time seen (or given to tick). */
  get now(): number {
    return this.#clock;
  }

  status(): EngineStatus {
    const progress = this.#phase === 'monitoring' ? 1 : this.#trainingFrom === undefined ? 0 : Math.min(1, (this.#clock - this.#trainingFrom) / (this.config.training.seconds * 1000));
    return {
      phase: this.#phase,
      progress,
      ...this.#counts,
      activeAlarms: this.#alarms.list().filter((a) => a.state === 'active-unacked' || a.state === 'active-acked').length,
      unlearned: Object.keys(this.#baseline?.unlearned ?? {}),
    };
  }

  /** Alarms that are not normal, most recent first. */
  alarms(): Alert[] {
    return this.#alarms.list();
  }

  /** An operator's acknowledge, shelve or unshelve; returns the alerts whose state changed. */
  alarmAction(action: AlarmAction, now: number = this.#clock): Alert[] {
    const changed = applyAlarmAction(this.#alarms, action, Number.isFinite(now) ? now : Date.now());
    this.#alarms.forgetNormal();
    return changed;
  }

  // ---- Input ------------------------------------------------------------------------------------

  /**
   * Takes the samples of one moment (one message, or one batch): every value is recorded first, then
   * the channels whose lead topic is among them are scored, so a batch aligns its covariates.
   */
  ingest(samples: readonly EngineSample[]): EngineOutput {
    const out: EngineOutput = { alerts: [], chart: [], indicators: [] };
    const relevant = this.relevantTopics();
    const fresh: EngineSample[] = [];
    for (const sample of samples) {
      if (!relevant.has(sample.topic)) continue;
      if (sample.twin) this.#twin = sample.twin;
      if (sample.time > this.#clock) this.#clock = sample.time;
      if (this.#phase === 'training' && this.#trainingFrom === undefined) this.#trainingFrom = sample.time;
      if (this.#recordValue(sample, out)) fresh.push(sample);
    }
    for (const sample of fresh) {
      for (const channel of this.#byLead.get(sample.topic) ?? []) this.#scoreChannel(channel, sample.time, out);
    }
    if (this.#phase === 'training' && this.#trainingFrom !== undefined && this.#clock - this.#trainingFrom >= this.config.training.seconds * 1000) {
      this.#finishTraining();
    }
    this.#checkGaps(this.#clock, out);
    out.alerts.push(...this.#alarms.tick(this.#clock));
    return out;
  }

  /** Advances the clock without samples (silence is a symptom too): gaps, pending delays, shelving. */
  tick(now: number): EngineOutput {
    const out: EngineOutput = { alerts: [], chart: [], indicators: [] };
    if (!Number.isFinite(now)) return out;
    if (now > this.#clock) this.#clock = now;
    // Statistical conditions change only with new evidence (samples); silence is judged by the gap check.
    this.#checkGaps(this.#clock, out);
    out.alerts.push(...this.#alarms.tick(this.#clock));
    return out;
  }

  /** Forgets the baseline and learns a new one from the next samples; conditions it raised return to normal. */
  relearn(): EngineOutput {
    const out: EngineOutput = { alerts: [], chart: [], indicators: [] };
    const now = this.#clock;
    for (const [id, gate] of this.#gates) {
      if (gate.active) {
        gate.active = false;
        const alert = this.#alarms.clear(id, now, `${id.slice(0, id.lastIndexOf(':'))}: the baseline is being learned again`);
        if (alert) out.alerts.push(alert);
      }
    }
    this.#gates.clear();
    this.#baseline = undefined;
    this.#phase = 'training';
    this.#trainingFrom = undefined;
    for (const channel of this.#channels) this.#resetChannel(channel);
    for (const topic of this.#topics.keys()) this.#topics.set(topic, this.#newTopicState(topic));
    this.#regime = undefined;
    this.#counts = { samples: 0, scored: 0, unscored: 0 };
    return out;
  }

  snapshot(): AnomalySnapshot {
    return {
      version: 1,
      fingerprint: this.fingerprint,
      ...(this.#baseline ? { baseline: this.#baseline } : {}),
      alarms: this.#alarms.snapshot(),
    };
  }

  // ---- Internals --------------------------------------------------------------------------------

  #addChannel(c: Pick<Channel, 'name' | 'kind' | 'lead' | 'inputs' | 'direction' | 'detectors'>): void {
    const channel: Channel = { ...c, rows: [], lastZ: undefined, subgroup: { value: 0, expected: 0, sd: 0, count: 0 } };
    this.#channels.push(channel);
    const list = this.#byLead.get(c.lead) ?? [];
    list.push(channel);
    this.#byLead.set(c.lead, list);
  }

  #newTopicState(topic: string): TopicState {
    const f = this.config.flatLine;
    // A topic that is only a member of multivariate groups gets both sensor checks.
    const spec = this.config.signals.find((s) => s.topic === topic);
    const detectors = new Set<DetectorName>(spec ? spec.detectors : ['flatline', 'gap']);
    if (!f.enabled) detectors.delete('flatline');
    if (!this.config.gap.enabled) detectors.delete('gap');
    return { bad: false, flat: new FlatLineDetector({ seconds: f.seconds, minSamples: f.minSamples, tolerance: f.tolerance }), rests: new Map(), detectors, intervals: [], samples: 0 };
  }

  #resetChannel(channel: Channel): void {
    channel.rows = [];
    channel.baseline = undefined;
    delete channel.ewma;
    delete channel.cusum;
    delete channel.spc;
    channel.lastZ = undefined;
    channel.subgroup = { value: 0, expected: 0, sd: 0, count: 0 };
  }

  #restore(snapshot: AnomalySnapshot): void {
    if (snapshot.version !== 1) throw new Error(`anomaly snapshot: version ${String(snapshot.version)} is not 1`);
    // A snapshot of another configuration says nothing about these channels: start afresh.
    if (snapshot.fingerprint !== this.fingerprint) return;
    if (snapshot.alarms) this.#alarms.restore(snapshot.alarms);
    if (snapshot.baseline) this.#useBaseline(snapshot.baseline);
    // Alarms the saved state held active come back with their gates, so they clear when the condition does.
    for (const alert of this.#alarms.list()) {
      if (alert.state === 'active-unacked' || alert.state === 'active-acked' || alert.state === 'shelved') {
        const gate = this.#gateFor(alert.id);
        gate.condition = true;
        gate.active = true;
        gate.changedAt = alert.since;
        gate.message = alert.message;
      }
    }
  }

  /** Whether a snapshot's baseline matched this configuration and was taken up. */
  get restoredBaseline(): boolean {
    return this.#baseline !== undefined;
  }

  #useBaseline(baseline: Baseline): void {
    this.#baseline = baseline;
    this.#phase = 'monitoring';
    for (const channel of this.#channels) {
      const learned = baseline.channels[channel.name];
      channel.rows = [];
      if (learned) {
        channel.baseline = learned;
        this.#armDetectors(channel);
      }
    }
    for (const [topic, state] of this.#topics) {
      const learned = baseline.topics[topic];
      if (learned) state.flat.options = { ...state.flat.options, seconds: this.#flatSeconds(learned) };
    }
  }

  #flatSeconds(learned: TopicBaseline): number {
    // A signal that naturally rests at one value (a speed at standstill) may do so as long as it did in training, and more.
    return Math.max(this.config.flatLine.seconds, 1.5 * learned.longestFlatSeconds);
  }

  #gapMs(topic: string): number | undefined {
    if (!this.#topics.get(topic)?.detectors.has('gap')) return undefined;
    if (this.config.gap.seconds > 0) return this.config.gap.seconds * 1000;
    const learned = this.#baseline?.topics[topic];
    return learned && learned.interval > 0 ? this.config.gap.factor * learned.interval : undefined;
  }

  #armDetectors(channel: Channel): void {
    const c = this.config;
    const cal = channel.baseline!.calibration;
    if (c.ewma.enabled && channel.detectors.has('ewma')) channel.ewma = new EwmaDetector({ lambda: c.ewma.lambda, limit: c.ewma.limit, warmup: c.ewma.warmup, direction: channel.direction }, cal.ewmaScale);
    else delete channel.ewma;
    if (c.cusum.enabled && channel.detectors.has('cusum')) channel.cusum = new CusumDetector({ k: c.cusum.k, h: c.cusum.h, direction: channel.direction }, cal.ewmaScale);
    else delete channel.cusum;
    channel.spc = new SpcChart({ subgroupSize: c.spc.subgroupSize, rules: c.spc.rules, sigmaLimit: c.spc.sigmaLimit, direction: channel.direction }, cal.subgroupScale);
    channel.lastZ = undefined;
    channel.subgroup = { value: 0, expected: 0, sd: 0, count: 0 };
  }

  /** Records one sample's value; returns whether it is a new good value (which scores its channels). */
  #recordValue(sample: EngineSample, out: EngineOutput): boolean {
    const isRegime = this.config.regime?.topic === sample.topic;
    const good = sample.quality !== 'bad' && sample.value !== null && Number.isFinite(sample.value);
    if (isRegime && good) {
      const bin = Math.round((sample.value as number) / this.config.regime!.binWidth);
      if (!this.#regime || this.#regime.bin !== bin) this.#regime = { bin, since: sample.time };
    }
    const state = this.#topics.get(sample.topic);
    if (!state) {
      // A covariate or the regime: only its latest value matters.
      return good && this.#holdValue(sample);
    }
    if (state.lastSeen !== undefined && sample.time < state.lastSeen) return false; // late or repeated
    this.#counts.samples++;
    if (!good) {
      state.lastSeen = sample.time;
      if (!state.bad) {
        state.bad = true;
        if (this.#phase === 'monitoring' && state.detectors.has('gap')) {
          this.#setSensorCondition(`${sample.topic}:gap`, true, sample.time, `${sample.topic}: the sensor reports bad quality (no usable value)`, out);
        }
      }
      return false;
    }
    if (state.time !== undefined && sample.time > state.time) {
      state.intervals.push(sample.time - state.time);
      if (state.intervals.length > 2000) state.intervals.splice(0, 1000);
    }
    state.bad = false;
    state.value = sample.value as number;
    state.time = sample.time;
    state.lastSeen = sample.time;
    state.samples++;
    this.#values.set(sample.topic, { value: sample.value as number, time: sample.time });
    const run = state.flat.update(sample.value as number, sample.time);
    const regime = this.#settledRegime(sample.time);
    if (this.#phase === 'training') {
      if (regime !== undefined) {
        const rest = state.rests.get(regime) ?? { samples: 0, repeats: 0, longest: 0 };
        rest.samples++;
        if (run.repeated) rest.repeats++;
        rest.longest = Math.max(rest.longest, run.seconds);
        state.rests.set(regime, rest);
      }
      return true;
    }
    if (state.detectors.has('gap')) this.#setSensorCondition(`${sample.topic}:gap`, false, sample.time, `${sample.topic}: samples arrive again`, out);
    if (state.detectors.has('flatline')) {
      const learned = this.#baseline?.topics[sample.topic];
      // Judged only in a settled regime where the signal moved in training.
      const judged = regime !== undefined && !learned?.restingRegimes.includes(regime);
      const stuck = run.stuck && judged;
      this.#setSensorCondition(
        `${sample.topic}:flatline`,
        stuck,
        sample.time,
        stuck ? `${sample.topic}: value stuck at ${fmt(sample.value as number)} for ${Math.round(run.seconds)} s (stuck sensor?)` : `${sample.topic}: value changes again`,
        out,
      );
    }
    return true;
  }

  #holdValue(sample: EngineSample): boolean {
    const held = this.#values.get(sample.topic);
    if (held && sample.time < held.time) return false;
    this.#values.set(sample.topic, { value: sample.value as number, time: sample.time });
    return true;
  }

  /** The current regime bin if it has settled by `time`; undefined while it is changing or unknown. */
  #settledRegime(time: number): number | undefined {
    const spec = this.config.regime;
    if (!spec) return 0;
    if (!this.#regime) return undefined;
    return time - this.#regime.since >= spec.settleSeconds * 1000 ? this.#regime.bin : undefined;
  }

  #rowFor(channel: Channel, time: number): TrainingRow | undefined {
    const regime = this.#settledRegime(time);
    if (regime === undefined) return undefined;
    const values: number[] = [];
    for (const topic of channel.inputs) {
      const held = this.#values.get(topic);
      if (!held) return undefined;
      // A watched input in a gap or reporting bad quality holds no usable value.
      const state = this.#topics.get(topic);
      if (state && (state.bad || this.#gates.get(`${topic}:gap`)?.condition)) return undefined;
      values.push(held.value);
    }
    return { time, regime, values };
  }

  #scoreChannel(channel: Channel, time: number, out: EngineOutput): void {
    const row = this.#rowFor(channel, time);
    if (this.#phase === 'training') {
      if (row) channel.rows.push(row);
      return;
    }
    if (!row || !channel.baseline) {
      this.#counts.unscored++;
      return;
    }
    const score = scoreRow(channel, channel.baseline, row);
    if (!score) {
      this.#counts.unscored++;
      return;
    }
    this.#counts.scored++;
    if (channel.baseline.kind === 'univariate') {
      out.indicators.push({ channel: channel.name, time, value: score.value, expected: score.expected, z: score.z, normalised: score.value - score.expected + channel.baseline.reference });
    }
    this.#detect(channel, score, time, out);
  }

  #detect(channel: Channel, score: Score, time: number, out: EngineOutput): void {
    const c = this.config;
    const clipped = Math.max(-c.clipScore, Math.min(c.clipScore, score.z));
    const describe = (what: string) =>
      channel.kind === 'univariate'
        ? `${channel.name}: ${what}; value ${fmt(score.value)}, expected ${fmt(score.expected)} (z ${score.z.toFixed(1)})`
        : `${channel.name}: ${what}; T² ${fmt(score.value)} of ${channel.inputs.join(', ')} (z ${score.z.toFixed(1)})`;
    if (channel.ewma) {
      const e = channel.ewma.update(clipped);
      const side = e.signal > 0 ? 'above' : 'below';
      this.#setProcessCondition(`${channel.name}:ewma`, e.signal !== 0, time, e.signal !== 0 ? describe(`EWMA of the score ${side} its limit (${e.statistic.toFixed(2)} vs ${(e.signal * e.limit).toFixed(2)})`) : undefined, out);
    }
    if (channel.cusum) {
      const s = channel.cusum.update(clipped);
      const side = s.signal > 0 ? 'upward' : 'downward';
      this.#setProcessCondition(`${channel.name}:cusum`, s.signal !== 0, time, s.signal !== 0 ? describe(`CUSUM found a ${side} drift (${Math.max(s.high, s.low).toFixed(1)} > ${c.cusum.h})`) : undefined, out);
    }
    if (channel.spc) {
      const phi = channel.baseline!.calibration.phi;
      const previous = channel.lastZ ?? 0;
      channel.lastZ = clipped;
      const innovationSd = Math.sqrt(1 - phi * phi);
      const g = channel.subgroup;
      g.value += score.value;
      // The one-step forecast: what the baseline expects, plus the part of the last deviation that persists.
      g.expected += score.expected + phi * previous * score.sd;
      g.sd += score.sd * innovationSd;
      g.count++;
      const point = channel.spc.update((clipped - phi * previous) / innovationSd);
      if (point) {
        out.chart.push(this.#chartPoint(channel, point.u, point.violations, time));
        channel.subgroup = { value: 0, expected: 0, sd: 0, count: 0 };
        if (c.spc.enabled && channel.detectors.has('spc')) {
          const alarming = point.violations.filter((r) => c.spc.alarmRules.includes(r));
          const violated = alarming.length > 0;
          this.#setProcessCondition(`${channel.name}:spc`, violated, time, violated ? describe(`SPC: ${alarming.map((r) => SPC_RULES[r]).join('; ')}`) : undefined, out);
        }
      }
    }
  }

  #chartPoint(channel: Channel, u: number, violations: SpcRule[], time: number): ChartPoint {
    const c = this.config;
    const spc = channel.spc!;
    const limit = c.spc.sigmaLimit;
    if (c.chart === 'score') return { channel: channel.name, time, value: u, centre: 0, upper: limit, lower: -limit, score: u, violations };
    const g = channel.subgroup;
    // A multivariate channel has no units of its own: its chart is in sigma scores.
    if (channel.kind === 'multivariate') return { channel: channel.name, time, value: u, centre: 0, upper: limit, lower: -limit, score: u, violations };
    const centre = g.expected / g.count;
    const halfWidth = limit * spc.subgroupSigma * (g.sd / g.count);
    return { channel: channel.name, time, value: g.value / g.count, centre, upper: centre + halfWidth, lower: centre - halfWidth, score: u, violations };
  }

  #gateFor(id: string): AlarmGate {
    let gate = this.#gates.get(id);
    if (!gate) {
      const sensor = id.endsWith(':gap') || id.endsWith(':flatline');
      // Sensor conditions carry their own delay (the gap or flat-line time); they raise at once.
      gate = sensor ? new AlarmGate(0, 0) : new AlarmGate(this.config.alarm.onDelaySeconds * 1000, this.config.alarm.offDelaySeconds * 1000);
      this.#gates.set(id, gate);
    }
    return gate;
  }

  #setProcessCondition(id: string, condition: boolean, now: number, message: string | undefined, out: EngineOutput): void {
    const gate = this.#gateFor(id);
    const change = gate.update(condition, now, message);
    if (change) this.#applyGate(id, change, gate, this.config.alarm.processSeverity, out);
  }

  #setSensorCondition(id: string, condition: boolean, now: number, message: string, out: EngineOutput): void {
    const gate = this.#gates.get(id);
    if (!condition && !gate?.condition) return;
    const g = gate ?? this.#gateFor(id);
    const change = g.update(condition, now, condition ? message : undefined);
    if (change) this.#applyGate(id, change, g, this.config.alarm.sensorSeverity, out, condition ? undefined : message);
  }

  #applyGate(id: string, change: 'raise' | 'clear', gate: AlarmGate, severity: Alert['severity'], out: EngineOutput, clearMessage?: string): void {
    const alert = change === 'raise'
      ? this.#alarms.raise(id, { severity, message: gate.message, ...(this.#twin ? { twin: this.#twin } : {}) }, this.#clock)
      : this.#alarms.clear(id, this.#clock, clearMessage ?? `${id.slice(0, id.lastIndexOf(':'))}: back within its baseline`);
    if (alert) out.alerts.push(alert);
  }

  #checkGaps(now: number, out: EngineOutput): void {
    if (this.#phase !== 'monitoring' || !this.config.gap.enabled) return;
    for (const [topic, state] of this.#topics) {
      const limit = this.#gapMs(topic);
      if (limit === undefined || state.time === undefined || state.bad) continue;
      const silent = now - state.time;
      if (silent > limit) {
        this.#setSensorCondition(`${topic}:gap`, true, now, `${topic}: no sample for ${Math.round(silent / 1000)} s (expected one every ${fmt((this.#baseline?.topics[topic]?.interval ?? 0) / 1000)} s)`, out);
      }
    }
  }

  #finishTraining(): void {
    const baseline: Baseline = { from: this.#trainingFrom as number, to: this.#clock, channels: {}, topics: {}, unlearned: {} };
    for (const [topic, state] of this.#topics) {
      // A regime where a fifth of the samples repeat the last value is one where the signal rests.
      const resting = [...state.rests].filter(([, r]) => r.repeats > 0.2 * r.samples).map(([regime]) => regime);
      const moving = [...state.rests].filter(([regime]) => !resting.includes(regime));
      baseline.topics[topic] = {
        interval: state.intervals.length > 0 ? median(state.intervals) : 0,
        longestFlatSeconds: moving.reduce((max, [, r]) => Math.max(max, r.longest), 0),
        restingRegimes: resting.sort((a, b) => a - b),
        samples: state.samples,
      };
      state.rests.clear();
    }
    for (const channel of this.#channels) {
      const learned = fitChannel(channel, this.config);
      if (typeof learned === 'string') baseline.unlearned[channel.name] = learned;
      else baseline.channels[channel.name] = learned;
      channel.rows = [];
    }
    this.#useBaseline(baseline);
  }
}

// ---- Fitting and scoring (pure functions of a channel's rows) ----------------------------------------

function scoreRow(channel: Channel, baseline: UnivariateBaseline | MultivariateBaseline, row: TrainingRow): Score | undefined {
  if (baseline.kind === 'univariate') {
    const fit = baseline.regimes[String(row.regime)];
    if (!fit) return undefined;
    const y = row.values[row.values.length - 1] as number;
    let expected = fit.intercept;
    for (let i = 0; i < fit.coefficients.length; i++) expected += (fit.coefficients[i] as number) * (row.values[i] as number);
    const sd = Math.max(fit.residualSd, baseline.calibration.sdFloor, 1e-12);
    return { z: (y - expected) / sd, value: y, expected, sd };
  }
  const regime = baseline.regimes[String(row.regime)];
  if (!regime) return undefined;
  const d = row.values.map((v, i) => v - (regime.mean[i] as number));
  const t2 = quadraticForm(regime.inverse, d);
  return { z: chiSquareToZ(t2, channel.inputs.length), value: t2, expected: zToChiSquare(0, channel.inputs.length), sd: 1 };
}

function fitChannel(channel: Channel, config: AnomalyConfig): UnivariateBaseline | MultivariateBaseline | string {
  const byRegime = new Map<number, TrainingRow[]>();
  for (const row of channel.rows) {
    const list = byRegime.get(row.regime) ?? [];
    list.push(row);
    byRegime.set(row.regime, list);
  }
  const min = config.training.minRegimeSamples;
  let baseline: UnivariateBaseline | MultivariateBaseline;
  const unit: Calibration = { ewmaScale: 1, phi: 0, subgroupScale: 1, sdFloor: 0, samples: 0 };
  if (channel.kind === 'univariate') {
    const regimes: Record<string, LinearFit> = {};
    for (const [regime, rows] of byRegime) {
      if (rows.length < min) continue;
      const cov = new RunningCovariance(channel.inputs.length);
      for (const row of rows) cov.push(row.values);
      const fit = regressLast(cov);
      if (fit) regimes[String(regime)] = fit;
    }
    // A regime where the signal rested at one value (a speed at standstill) must not make every later
    // wobble a thousand sigmas: its deviation is floored at a hundredth of the typical regime's.
    const sds = Object.values(regimes).map((f) => f.residualSd).filter((sd) => sd > 0);
    baseline = { kind: 'univariate', regimes, calibration: { ...unit, sdFloor: sds.length > 0 ? median(sds) / 100 : 0 }, reference: 0 };
  } else {
    const regimes: MultivariateBaseline['regimes'] = {};
    const p = channel.inputs.length;
    for (const [regime, rows] of byRegime) {
      if (rows.length < Math.max(min, p + 2)) continue;
      const cov = new RunningCovariance(p);
      for (const row of rows) cov.push(row.values);
      const s = cov.covariance();
      // A variable that never moved in this regime still gets a tiny variance, so the others can be judged.
      for (let i = 0; i < p; i++) s[i * p + i] = Math.max((s[i * p + i] as number) * (1 + 1e-9), 1e-12 + (1e-6 * (cov.mean[i] as number)) ** 2);
      const l = cholesky(s, p);
      if (l) regimes[String(regime)] = { mean: [...cov.mean], inverse: choleskyInverse(l, p), count: cov.count };
    }
    baseline = { kind: 'multivariate', regimes, calibration: unit };
  }
  if (Object.keys(baseline.regimes).length === 0) {
    const counts = [...byRegime.values()].map((r) => r.length);
    return channel.rows.length === 0
      ? 'no training samples (is the topic arriving, with its covariates and a settled regime?)'
      : `no regime had ${min} training samples (most: ${Math.max(...counts)})`;
  }
  baseline.calibration = calibrate(channel, baseline, config);
  if (baseline.kind === 'univariate') {
    const expected = new RunningStats();
    for (const row of channel.rows) {
      const score = scoreRow(channel, baseline, row);
      if (score) expected.push(score.expected);
    }
    baseline.reference = expected.mean;
  }
  return baseline;
}

/**
 * Replays the training rows through white-noise detectors: how much wider does the EWMA wander, how
 * strongly does each score follow the last one, and how wide do subgroup means of the innovations spread?
 */
function calibrate(channel: Channel, baseline: UnivariateBaseline | MultivariateBaseline, config: AnomalyConfig): Calibration {
  // Each measure is its own one-loop function and this one has no loop. When this was one function
  // with three loops, V8 13.6's Maglev compiled it on stack replacement and, about once in 150
  // second trainings in a process, returned another channel's calibration (test/unit/analytics/determinism.test.ts).
  const scores = trainingScores(channel, baseline, config.clipScore);
  const phi = lagOneCorrelation(scores);
  return {
    ewmaScale: ewmaWidening(scores, config.ewma.lambda),
    phi,
    subgroupScale: innovationSubgroupWidening(scores, phi, config.spc.subgroupSize),
    sdFloor: baseline.calibration.sdFloor,
    samples: scores.length,
  };
}

/** The training rows' scores against the new baseline, clipped as in monitoring. */
function trainingScores(channel: Channel, baseline: UnivariateBaseline | MultivariateBaseline, clipScore: number): number[] {
  const scores: number[] = [];
  for (const row of channel.rows) {
    const score = scoreRow(channel, baseline, row);
    if (score) scores.push(Math.max(-clipScore, Math.min(clipScore, score.z)));
  }
  return scores;
}

/** How much wider than for white noise an EWMA of the scores wanders (at least 1). */
function ewmaWidening(scores: readonly number[], lambda: number): number {
  const ewma = new EwmaDetector({ lambda, limit: Number.POSITIVE_INFINITY, warmup: 0, direction: 'both' });
  const stats = new RunningStats();
  const warmup = Math.ceil(3 / lambda);
  for (const z of scores) {
    const e = ewma.update(z);
    if (ewma.count > warmup) stats.push(e.statistic);
  }
  return stats.count >= 10 ? Math.max(1, stats.sd / EwmaDetector.nominalSd(lambda)) : 1;
}

/** The lag-one autocorrelation of the scores, in [0, 0.995]. */
function lagOneCorrelation(scores: readonly number[]): number {
  let lagged = 0;
  let squares = 0;
  for (let i = 1; i < scores.length; i++) {
    lagged += (scores[i] as number) * (scores[i - 1] as number);
    squares += (scores[i - 1] as number) ** 2;
  }
  return squares > 0 ? Math.min(0.995, Math.max(0, lagged / squares)) : 0;
}

/** How much wider than for white noise the means of n successive innovations spread (at least 1). */
function innovationSubgroupWidening(scores: readonly number[], phi: number, n: number): number {
  const innovationSd = Math.sqrt(1 - phi * phi);
  const stats = new RunningStats();
  let sum = 0;
  let count = 0;
  for (let i = 1; i < scores.length; i++) {
    sum += ((scores[i] as number) - phi * (scores[i - 1] as number)) / innovationSd;
    if (++count === n) {
      stats.push(sum / n);
      sum = 0;
      count = 0;
    }
  }
  return stats.count >= 10 ? Math.max(1, stats.sd * Math.sqrt(n)) : 1;
}
