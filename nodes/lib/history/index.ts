// Public entry of the InfluxDB history: typed line protocol from twin messages, the DTDL-to-InfluxDB
// mapping, the store-and-forward queue and writer, the client, and history queries.
export { encodeFieldValue, encodeTimestamp, escapeKey, escapeMeasurement, escapeTagValue, formatFloat, HistoryError, PRECISIONS, quoteIdentifier, type FieldType, type Precision } from './line-protocol';
export { fieldTypeOf, HistorySchema, measurementName, type FieldTarget, type HistorySchemaOptions } from './schema';
export { eventDetail, LineEncoder, sampleOfEvent, type Encoded, type EncoderOptions } from './encoder';
export { Spool, SPOOL_HEADER, type SpoolOpenReport, type SpoolOptions, type SpoolRecord, type SpoolTake } from './spool';
export { BacklogFullError, HistoryWriter, type OverflowPolicy, type Queued, type WriteFailure, type WriterOptions, type WriterState, type WriteTransport } from './writer';
export { checkSetup, continuousQueryName, DURATION, ensureSetup, InfluxClient, type InfluxSettings, type QueryResult, type SetupOptions } from './influx-client';
export { AGGREGATES, buildStatements, chartMessages, durationMs, parseTime, rowsOf, tableRows, type Aggregate, type HistoryRequest, type HistoryRow, type OutputShape, type Statement } from './query';
