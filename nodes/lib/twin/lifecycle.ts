// ISO 23247 lifecycle stages of a twin and the transitions between them.
//
//   design ──► deployment ──► operation ◄──► adaptation
//     ▲            │
//     └────────────┘   (a deployment that fails goes back to design)
//   every stage ──► decommissioned   (terminal: the twin becomes read-only, stays queryable)

import { TwinError } from './errors';

export const LIFECYCLE_STAGES = ['design', 'deployment', 'operation', 'adaptation', 'decommissioned'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** Allowed next stages, by current stage. */
export const LIFECYCLE_TRANSITIONS: Readonly<Record<LifecycleStage, readonly LifecycleStage[]>> = Object.freeze({
  design: Object.freeze(['deployment', 'decommissioned'] as const),
  deployment: Object.freeze(['operation', 'design', 'decommissioned'] as const),
  operation: Object.freeze(['adaptation', 'decommissioned'] as const),
  adaptation: Object.freeze(['operation', 'decommissioned'] as const),
  decommissioned: Object.freeze([] as const),
});

/** Stages in which a twin is expected to receive data, so the staleness check watches it. */
export const MONITORED_STAGES: ReadonlySet<LifecycleStage> = new Set<LifecycleStage>(['operation', 'adaptation']);

export function isLifecycleStage(value: unknown): value is LifecycleStage {
  return typeof value === 'string' && (LIFECYCLE_STAGES as readonly string[]).includes(value);
}

export function assertLifecycleStage(value: unknown, twinId?: string): LifecycleStage {
  if (isLifecycleStage(value)) return value;
  throw new TwinError('lifecycle-stage', `lifecycle stage ${JSON.stringify(value)} is not one of ${LIFECYCLE_STAGES.join(', ')}`, twinId === undefined ? {} : { twinId });
}

export function canTransition(from: LifecycleStage, to: LifecycleStage): boolean {
  return LIFECYCLE_TRANSITIONS[from].includes(to);
}

export function assertTransition(twinId: string, from: LifecycleStage, to: LifecycleStage): void {
  if (canTransition(from, to)) return;
  const allowed = LIFECYCLE_TRANSITIONS[from];
  const why =
    from === to
      ? `it is already in ${to}`
      : allowed.length === 0
        ? `${from} is terminal`
        : `from ${from} a twin may go to ${allowed.join(' or ')}`;
  throw new TwinError('lifecycle-transition', `${twinId}: lifecycle transition ${from} → ${to} is not allowed: ${why}`, { twinId });
}
