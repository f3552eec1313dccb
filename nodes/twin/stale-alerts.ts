// A staleness transition as an alert in the message contract: raised (active, unacknowledged) when a
// value grows older than its maximum age, returned to normal (unacknowledged) when it is fresh again.
import type { Alert } from '../lib/messages';
import type { StalenessTransition } from '../lib/twin';

export function staleAlert(t: StalenessTransition, source: string): { topic: string; payload: string; alert: Alert } {
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  const message = t.stale
    ? `${t.twinId}: ${t.path} is stale: no value for ${seconds(t.age)} (maximum age ${seconds(t.maxAge)}); check the data source`
    : `${t.twinId}: ${t.path} is fresh again`;
  return {
    topic: t.path,
    payload: message,
    alert: {
      id: `stale:${t.twinId}:${t.path}`,
      source,
      severity: 'medium',
      state: t.stale ? 'active-unacked' : 'rtn-unacked',
      message,
      twin: { id: t.twinId, model: t.model },
      since: t.time,
    },
  };
}
