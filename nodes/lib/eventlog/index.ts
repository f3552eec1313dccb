// Public entry of the event log: a durable event store (streams, versions, idempotent ids,
// optimistic concurrency, snapshots, state at any time) and its use for twin graphs.
export { EventLogError, EventStore, type AppendOptions, type AppendResult, type EventLogErrorCode, type EventStoreOptions, type NewEvent, type StateAt, type StoredEvent, type StoreOpenReport } from './event-store';
export { applyInPlace, messageDigest, reduceTwin, toChangeEvent, TwinEventLog, type LogContext, type TwinEventData, type TwinGraphView, type TwinLogOptions, type TwinState, type TwinStateAt } from './twin-log';
export { CorruptLogError } from '../durable/segmented-log';
