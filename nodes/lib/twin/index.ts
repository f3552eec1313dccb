// Public entry of the twin core: validated twin state over a DTDL ModelSet, relationships, a twin
// graph with lifecycle, staleness, queries and snapshots. Pure TypeScript, no Node-RED.
export { TwinGraph, type AckInput, type CommandOptions, type ContentReading, type CreateTwinInput, type DesiredOptions, type ListFilter, type RelationshipInput, type SampleBatch, type TwinGraphOptions } from './twin-graph';
export { TwinError, type TwinErrorCode, type TwinErrorInfo } from './errors';
export { LIFECYCLE_STAGES, LIFECYCLE_TRANSITIONS, MONITORED_STAGES, canTransition, isLifecycleStage, type LifecycleStage } from './lifecycle';
export { applyPatch, cloneJson, escapePointerToken, jsonEqual, parsePointer, pointer } from './patch';
export { SNAPSHOT_FORMAT, type SnapshotProblem, type TwinGraphSnapshot } from './persistence';
export { parseQuery, type QueryAst, type QueryRow } from './query';
export type { StalenessRule, StalenessStatus, StalenessTransition, StalePath } from './staleness';
export type { LimitBound, LimitRule } from './limits';
export type * from './types';
