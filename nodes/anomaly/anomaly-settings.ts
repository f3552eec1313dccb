// The anomaly node's dialog values (strings from the editor, numbers and lists from imported JSON)
// turned into the engine's configuration; every fault names its field and rule.
import { anomalyConfig, type AnomalyConfig } from '../lib/analytics';

export interface AnomalyNodeConfig {
  name?: unknown;
  signals?: unknown;
  multivariate?: unknown;
  regimeTopic?: unknown;
  regimeBinWidth?: unknown;
  regimeSettle?: unknown;
  trainingSeconds?: unknown;
  minRegimeSamples?: unknown;
  ewma?: unknown;
  ewmaLambda?: unknown;
  ewmaLimit?: unknown;
  ewmaWarmup?: unknown;
  cusum?: unknown;
  cusumK?: unknown;
  cusumH?: unknown;
  spc?: unknown;
  spcSubgroup?: unknown;
  spcRules?: unknown;
  spcAlarmRules?: unknown;
  flatline?: unknown;
  flatSeconds?: unknown;
  flatTolerance?: unknown;
  gap?: unknown;
  gapSeconds?: unknown;
  gapFactor?: unknown;
  onDelay?: unknown;
  offDelay?: unknown;
  processSeverity?: unknown;
  sensorSeverity?: unknown;
  chart?: unknown;
}

const blank = (v: unknown) => v === undefined || v === null || v === '';

/** The engine configuration of a node; `source` names the node in every alert. */
export function anomalySettings(def: AnomalyNodeConfig, source: string): AnomalyConfig {
  const regimeTopic = typeof def.regimeTopic === 'string' ? def.regimeTopic.trim() : '';
  return anomalyConfig({
    source,
    signals: blank(def.signals) ? [] : def.signals,
    multivariate: blank(def.multivariate) ? [] : def.multivariate,
    ...(regimeTopic ? { regime: { topic: regimeTopic, binWidth: def.regimeBinWidth, settleSeconds: def.regimeSettle } } : {}),
    training: { seconds: def.trainingSeconds, minRegimeSamples: def.minRegimeSamples },
    ewma: { enabled: def.ewma, lambda: def.ewmaLambda, limit: def.ewmaLimit, warmup: def.ewmaWarmup },
    cusum: { enabled: def.cusum, k: def.cusumK, h: def.cusumH },
    spc: { enabled: def.spc, subgroupSize: def.spcSubgroup, rules: def.spcRules, alarmRules: def.spcAlarmRules },
    flatLine: { enabled: def.flatline, seconds: def.flatSeconds, tolerance: def.flatTolerance },
    gap: { enabled: def.gap, seconds: def.gapSeconds, factor: def.gapFactor },
    alarm: { onDelaySeconds: def.onDelay, offDelaySeconds: def.offDelay, processSeverity: def.processSeverity, sensorSeverity: def.sensorSeverity },
    chart: def.chart,
  });
}
