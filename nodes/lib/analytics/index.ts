// Streaming analytics for twins: anomaly detection with ISA-18.2 alarms, and remaining useful life.
export * from './stats';
export * from './covariance';
export * from './detectors';
export * from './config';
export * from './engine';
export * from './trend';
export * from './rul';
