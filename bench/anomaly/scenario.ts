// One evaluation run: the seeded CNC model stepped much faster than real time, its sensor readings
// fed to the anomaly engine (and the RUL estimator) as samples stamped with simulated time, a
// fault injected after training, and every alert recorded with its simulated time.
import { CncModel, type FaultOptions, type SensorPath } from '../../plant/cnc-model';
import { AnomalyEngine, anomalyConfig, type EngineOutput, type EngineSample } from '../../nodes/lib/analytics';
import type { Alert } from '../../nodes/lib/messages';

/** Simulated epoch of every run: samples carry ms since the epoch, as OPC UA source times do. */
export const EPOCH = Date.UTC(2026, 10, 25);

/** The CNC model's sensors as the twin's DTDL paths (what opcua-in emits as topics). */
export const TOPICS: ReadonlyArray<[SensorPath, string]> = [
  ['spindle.speed', 'spindle/speed'],
  ['spindle.motorCurrent', 'spindle/motorCurrent'],
  ['spindle.vibrationRms', 'spindle/vibrationRms'],
  ['spindle.bearingTemperature', 'spindle/bearingTemperature'],
  ['coolant.temperature', 'coolant/temperature'],
  ['coolant.flow', 'coolant/flow'],
];

export type Reporting = 'periodic' | 'exception';

export interface FaultPlan {
  kind: string;
  target?: string;
  options?: FaultOptions;
  /** simulated seconds after start */
  atSeconds: number;
}

export interface ScenarioOptions {
  seed: number;
  config: unknown;
  durationSeconds: number;
  /** simulated seconds between samples (default 1) */
  sampleSeconds?: number;
  fault?: FaultPlan;
  /** periodic: every sensor every sample (polled, or MQTT); exception: only changed values, as OPC UA subscriptions report */
  reporting?: Reporting;
  /** stop this long after the first alert that came after the fault (default: run to the end) */
  stopAfterDetectionSeconds?: number;
  /** a dropped-out sensor sends nothing at all (a cut cable) instead of one sample of bad quality */
  silentDropout?: boolean;
  /** called after every sample with the model (for RUL estimation and truth) and what the engine produced */
  onSample?: (model: CncModel, time: number, samples: EngineSample[], out: EngineOutput) => void;
}

export interface AlertEvent {
  /** simulated seconds since start */
  at: number;
  alert: Alert;
}

export interface ScenarioResult {
  alerts: AlertEvent[];
  /** simulated seconds when training ended */
  trainedAt: number | undefined;
  model: CncModel;
  engine: AnomalyEngine;
}

export function runScenario(options: ScenarioOptions): ScenarioResult {
  const model = new CncModel({ seed: options.seed, autoCycle: true });
  const engine = new AnomalyEngine(anomalyConfig(options.config));
  const step = options.sampleSeconds ?? 1;
  const reporting = options.reporting ?? 'periodic';
  const alerts: AlertEvent[] = [];
  const last = new Map<string, number | null>();
  let trainedAt: number | undefined;
  let stopAt = Number.POSITIVE_INFINITY;
  let injected = false;
  for (let t = step; t <= options.durationSeconds && t <= stopAt; t += step) {
    if (options.fault && !injected && t >= options.fault.atSeconds) {
      model.injectFault(options.fault.kind, options.fault.target, options.fault.options ?? {});
      injected = true;
    }
    model.step(step);
    const time = EPOCH + Math.round(model.time * 1000);
    const readings = model.readings();
    const samples: EngineSample[] = [];
    for (const [path, topic] of TOPICS) {
      const [group, name] = path.includes('.') ? (path.split('.') as [string, string]) : ['', path];
      const value = (group ? (readings as unknown as Record<string, Record<string, number | null>>)[group]![name] : null) ?? null;
      const previous = last.get(topic);
      last.set(topic, value);
      if (value === null) {
        // A dropped-out sensor is flagged once with bad quality, then stays silent (as the OPC UA server does).
        if (previous !== null && !options.silentDropout) samples.push({ topic, value: null, time, quality: 'bad' });
        continue;
      }
      if (reporting === 'exception' && previous === value) continue;
      samples.push({ topic, value, time, quality: 'good' });
    }
    const setpoint = readings.spindle.speedSetpoint;
    if (reporting === 'periodic' || last.get('spindle/speedSetpoint') !== setpoint) samples.push({ topic: 'spindle/speedSetpoint', value: setpoint, time, quality: 'good' });
    last.set('spindle/speedSetpoint', setpoint);
    const out = engine.ingest(samples);
    if (trainedAt === undefined && engine.phase === 'monitoring') trainedAt = model.time;
    for (const alert of out.alerts) {
      alerts.push({ at: model.time, alert });
      if (injected && options.stopAfterDetectionSeconds !== undefined && stopAt === Number.POSITIVE_INFINITY && alert.state === 'active-unacked') {
        stopAt = t + options.stopAfterDetectionSeconds;
      }
    }
    options.onSample?.(model, time, samples, out);
  }
  return { alerts, trainedAt, model, engine };
}
