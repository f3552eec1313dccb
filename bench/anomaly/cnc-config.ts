// The anomaly configuration for the simulated CNC machine that the evaluation judges, and that the
// reference flow cnc-analytics sets in its anomaly node.
export const CNC_ANOMALY_CONFIG = {
  source: 'cnc-1 analytics',
  signals: [
    // Vibration follows the cutting load, and so does the motor current: with the current as
    // covariate, what is left of the vibration is noise and wear.
    { topic: 'spindle/vibrationRms', covariates: ['spindle/motorCurrent'], direction: 'up' },
    { topic: 'spindle/motorCurrent' },
    { topic: 'spindle/speed' },
    // Temperatures follow the thermal history, not the operating point: no SPC run rules on them.
    { topic: 'spindle/bearingTemperature', detectors: ['ewma', 'cusum', 'flatline', 'gap'] },
    { topic: 'coolant/temperature', detectors: ['ewma', 'cusum', 'flatline', 'gap'] },
    { topic: 'coolant/flow' },
  ],
  multivariate: [{ name: 'spindle current+vibration', topics: ['spindle/motorCurrent', 'spindle/vibrationRms'], detectors: ['ewma', 'cusum'] }],
  // Programs run at fixed speeds: the setpoint names the operating point; ramps settle within 12 s.
  regime: { topic: 'spindle/speedSetpoint', binWidth: 500, settleSeconds: 12 },
  training: { seconds: 3600 },
};
