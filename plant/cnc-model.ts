// The simulated 3-axis CNC machine as a pure model: state in, state out. No I/O, no timers, no
// OPC UA: the server (cnc-server.ts), the tests and the evaluations all drive it with step().
//
// Time advances in fixed sub-steps, so what the model does never depends on how a caller chunks
// time. Sensor noise is a pure function of (seed, sub-step, sensor): reading more or less often
// never changes later values, and the same seed with the same calls gives bit-identical readings.
import { CounterNoise, Random } from '../nodes/lib/random';
import { HOME_POSITION, PROGRAMS, PROGRAM_IDS, type AxisTarget, type MachiningProgram, type ProgramSegment } from './programs';

export { PROGRAMS, PROGRAM_IDS, HOME_POSITION, programDuration } from './programs';
export type { AxisTarget, MachiningProgram, ProgramSegment } from './programs';

// ---- Public constants -------------------------------------------------------------------------

/** Fixed integration step, simulated seconds. */
export const SUB_STEP_SECONDS = 0.01;
export const DEFAULT_RATED_MAX_SPEED = 12000;
/** Spindle speed follows its setpoint with this first-order time constant, s. */
export const SPINDLE_TIME_CONSTANT_SECONDS = 0.5;
/** The drive never accelerates or decelerates the spindle faster than this in normal operation, rpm/s. */
export const SPINDLE_RAMP_LIMIT_RPM_PER_SECOND = 2000;
/** Braking rate on an emergency stop or an alarm, rpm/s. */
export const SPINDLE_BRAKING_LIMIT_RPM_PER_SECOND = 8000;
export const NOMINAL_COOLANT_FLOW_L_PER_MIN = 20;
export const DEFAULT_AMBIENT_TEMPERATURE_C = 22;

/**
 * Bearing vibration (velocity RMS, cm/s) at which the spindle bearing counts as failed: the
 * ISO 10816 zone C/D boundary for machines of this size (7.1 mm/s). Vibration is in cm/s because
 * DTDL's QuantitativeTypes has no millimetrePerSecond, and the twin model must describe the
 * machine with a unit on every quantity. With bearing wear injected, the reading
 * crosses it after about the configured time to failure (within a few percent, depending on
 * speed and load). Use it as the end-of-life threshold for remaining-useful-life estimates.
 */
export const BEARING_FAILURE_VIBRATION_RMS = 0.71;
/** Vibration at which a bearing deserves attention (ISO 10816 zone B/C boundary, 4.5 mm/s), cm/s. */
export const BEARING_ALERT_VIBRATION_RMS = 0.45;
/**
 * Bearing temperature (degC) that a failing bearing reaches near the end of its life at working
 * speed. Temperature lags vibration by minutes, so vibration is the primary failure criterion.
 */
export const BEARING_FAILURE_TEMPERATURE_C = 70;
/** Default simulated time from injecting bearing wear to the failure threshold, s. */
export const DEFAULT_BEARING_TIME_TO_FAILURE_SECONDS = 30 * 60;
/** A spindle drive fault trips the machine into alarm after this long, simulated s. */
export const DRIVE_FAULT_TRIP_SECONDS = 3;

// ---- Public types -----------------------------------------------------------------------------

export const MACHINE_STATES = ['idle', 'running', 'alarm', 'emergencyStop'] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

export const FAULT_KINDS = ['bearingWear', 'coolantPumpFailure', 'spindleDriveFault', 'stuckSensor', 'sensorDropout'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The measured values a sensor fault can target, as paths into readings(). */
export const SENSOR_PATHS = [
  'spindle.speed',
  'spindle.motorCurrent',
  'spindle.vibrationRms',
  'spindle.bearingTemperature',
  'coolant.temperature',
  'coolant.flow',
  'positionX',
  'positionY',
  'positionZ',
] as const;
export type SensorPath = (typeof SENSOR_PATHS)[number];

/** good: a fresh (or, when stuck, a frozen but plausible) value; noCommunication: no value at all. */
export type SensorStatus = 'good' | 'noCommunication';

export interface CncReadings {
  /** simulated seconds since start */
  time: number;
  spindle: {
    speed: number | null;
    speedSetpoint: number;
    motorCurrent: number | null;
    vibrationRms: number | null;
    bearingTemperature: number | null;
    maxSpeed: number;
  };
  coolant: { temperature: number | null; flow: number | null };
  positionX: number | null;
  positionY: number | null;
  positionZ: number | null;
  doorOpen: boolean;
  machineState: MachineState;
  /** '' when no program runs */
  activeProgram: string;
  /** per measured value; a value is null exactly when its status is noCommunication */
  status: Record<SensorPath, SensorStatus>;
}

export interface CncTruth {
  time: number;
  spindleSpeed: number;
  speedSetpoint: number;
  /** rpm/s over the last sub-step */
  spindleAcceleration: number;
  /** effective cutting load, fraction of rated torque */
  cuttingLoad: number;
  motorCurrent: number;
  vibrationRms: number;
  bearingTemperature: number;
  coolantTemperature: number;
  coolantFlow: number;
  position: AxisTarget;
  doorOpen: boolean;
  machineState: MachineState;
  activeProgram: string;
  /** why the machine is in alarm, '' otherwise */
  alarmReason: string;
  /** bearing damage: 0 new, 1 at the failure threshold (keeps growing a little past it) */
  bearingWear: number;
  bearingFailed: boolean;
  /** simulated seconds until bearingWear reaches 1; null while no wear is injected */
  bearingRemainingLifeSeconds: number | null;
  coolantPumpFailed: boolean;
  spindleDriveFaulted: boolean;
}

export interface FaultOptions {
  /** bearingWear: simulated seconds from now until the failure threshold (default 1800) */
  timeToFailureSeconds?: number;
  /** bearingWear: damage already present when injected, 0..1 (default 0) */
  initialWear?: number;
}

export interface ActiveFault {
  kind: FaultKind;
  /** sensor path for sensor faults, '' otherwise */
  target: string;
  /** simulated time when it was injected, s */
  since: number;
  /** 'kind' or 'kind:target', the form the OPC UA server lists */
  label: string;
}

export interface CncModelOptions {
  /** seed of every random choice and all sensor noise (default 1) */
  seed?: number;
  /** rated maximum spindle speed, rpm (default 12000) */
  ratedMaxSpeed?: number;
  /** run programs back to back with seeded idle gaps and door openings (default false) */
  autoCycle?: boolean;
  /** degC (default 22) */
  ambientTemperature?: number;
  /** multiplies every sensor's noise; 0 gives noiseless readings (default 1) */
  noiseScale?: number;
}

/** Thrown when the machine's state forbids a command (e.g. a spindle speed under emergency stop). */
export class MachineStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineStateError';
  }
}

// ---- Physics parameters (private: the shape of the machine, not an API) -----------------------

const EMERGENCY_TIME_CONSTANT_SECONDS = 0.1;
/** A spindle whose drive lost control coasts down on bearing and air friction. */
const COAST_TIME_CONSTANT_SECONDS = 8;
const CUTTING_LOAD_TIME_CONSTANT_SECONDS = 0.3;
const STANDBY_CURRENT_A = 0.4;
const MAGNETISING_CURRENT_A = 1.6;
const CURRENT_PER_RPM_A = 0.00055;
const CURRENT_PER_LOAD_A = 24;
const CURRENT_PER_ACCELERATION_A = 0.0035;
const WEAR_FRICTION_CURRENT_A = 1.5;
// Vibration terms in cm/s.
const BACKGROUND_VIBRATION = 0.02;
const SPEED_VIBRATION = 0.1;
const LOAD_VIBRATION = 0.09;
/** Speed fraction above which wear vibration no longer depends on speed. */
const WEAR_FULL_EFFECT_SPEED_FRACTION = 0.25;
/** Healthy vibration at the reference point the failure time is calibrated on (2/3 of rated speed, half load). */
const REFERENCE_SPEED_FRACTION = 2 / 3;
const REFERENCE_LOAD = 0.5;
const WEAR_CURVE_STEEPNESS = 4;
const MAX_BEARING_WEAR = 1.2;
const BEARING_THERMAL_TIME_CONSTANT_SECONDS = 120;
const BEARING_SPEED_RISE_C = 16;
const BEARING_LOAD_RISE_C = 5;
const BEARING_WEAR_RISE_C = 40;
/** How much worse the spindle sheds heat without coolant flow (1.5 = 2.5 times the rise). */
const BEARING_DRY_PENALTY = 1.5;
const COOLANT_SPEED_HEAT_C_PER_S = 0.015;
const COOLANT_LOAD_HEAT_C_PER_S = 0.05;
const COOLANT_FLOW_COOLING_PER_S = 0.004;
const COOLANT_PASSIVE_COOLING_PER_S = 0.0012;
const PUMP_TIME_CONSTANT_SECONDS = 1.5;
const FAILED_PUMP_TIME_CONSTANT_SECONDS = 12;

interface SensorNoise {
  absolute: number;
  relative: number;
}

/** Per sensor, in SENSOR_PATHS order; the index is also the noise channel. */
const SENSOR_NOISE: readonly SensorNoise[] = [
  { absolute: 2, relative: 0.0004 },
  { absolute: 0.08, relative: 0.01 },
  { absolute: 0.002, relative: 0.03 },
  { absolute: 0.08, relative: 0 },
  { absolute: 0.05, relative: 0 },
  { absolute: 0.15, relative: 0 },
  { absolute: 0.002, relative: 0 },
  { absolute: 0.002, relative: 0 },
  { absolute: 0.002, relative: 0 },
];

const SENSOR_INDEX: Readonly<Record<SensorPath, number>> = Object.freeze(
  Object.fromEntries(SENSOR_PATHS.map((path, index) => [path, index])) as Record<SensorPath, number>,
);

/** Components a non-sensor fault may name as its target (or leave the target empty). */
const COMPONENT_TARGETS: Readonly<Record<'bearingWear' | 'coolantPumpFailure' | 'spindleDriveFault', string>> = {
  bearingWear: 'spindle',
  coolantPumpFailure: 'coolant',
  spindleDriveFault: 'spindle',
};

const WEAR_CURVE_DENOMINATOR = Math.exp(WEAR_CURVE_STEEPNESS) - 1;

/** Convex degradation curve: 0 at wear 0, 1 at wear 1, steepest near failure. */
function wearCurve(wear: number): number {
  return (Math.exp(WEAR_CURVE_STEEPNESS * wear) - 1) / WEAR_CURVE_DENOMINATOR;
}

function healthyVibration(speedFraction: number, load: number): number {
  return BACKGROUND_VIBRATION + SPEED_VIBRATION * speedFraction * speedFraction + LOAD_VIBRATION * load * Math.sqrt(speedFraction);
}

/** Wear vibration amplitude at wear 1, so that the reference point reads exactly the failure threshold. */
const WEAR_VIBRATION_AT_FAILURE = BEARING_FAILURE_VIBRATION_RMS - healthyVibration(REFERENCE_SPEED_FRACTION, REFERENCE_LOAD);

function secondsToSteps(seconds: number): number {
  return Math.round(seconds / SUB_STEP_SECONDS);
}

function isFaultKind(kind: string): kind is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(kind);
}

/** Accepts 'spindle.vibrationRms', 'spindle/vibrationRms' and 'CNC.spindle.vibrationRms'. */
export function normalizeSensorPath(target: string): SensorPath | null {
  let path = target.trim().replaceAll('/', '.');
  if (path.startsWith('CNC.')) path = path.slice(4);
  return (SENSOR_PATHS as readonly string[]).includes(path) ? (path as SensorPath) : null;
}

/**
 * Reads a fault request given as two strings (the OPC UA method and the command line): for
 * bearingWear a numeric target is the time to failure in simulated seconds.
 */
export function faultRequestFromText(kind: string, target: string): { kind: string; target: string; options: FaultOptions } {
  const trimmed = target.trim();
  if (kind === 'bearingWear' && /^\d+(\.\d+)?$/.test(trimmed)) {
    return { kind, target: '', options: { timeToFailureSeconds: Number(trimmed) } };
  }
  return { kind, target: trimmed, options: {} };
}

interface BearingWearState {
  /** wear at startStep */
  startWear: number;
  startStep: number;
  wearPerStep: number;
}

interface AutoCycleState {
  phase: 'openDoor' | 'closeDoor' | 'start';
  atStep: number;
}

export class CncModel {
  readonly seed: number;
  readonly ratedMaxSpeed: number;
  readonly autoCycle: boolean;
  readonly ambientTemperature: number;

  private readonly random: Random;
  private readonly noise: CounterNoise;
  private readonly noiseScale: number;

  private steps = 0;
  private pendingSeconds = 0;

  // physical state
  private speed = 0;
  private acceleration = 0;
  private setpoint = 0;
  private load = 0;
  private bearingTemperature: number;
  private coolantTemperature: number;
  private flow = NOMINAL_COOLANT_FLOW_L_PER_MIN;
  private readonly position: AxisTarget = { ...HOME_POSITION };
  private readonly axisTarget: AxisTarget = { ...HOME_POSITION };
  private feedRate = 100;
  private door = false;

  // control state
  private state: MachineState = 'idle';
  private alarmReason = '';
  private program: MachiningProgram | null = null;
  private segmentIndex = 0;
  private segmentEndStep = 0;
  private cycleLoadFactor = 1;

  // faults
  private readonly faults = new Map<string, ActiveFault>();
  private bearing: BearingWearState | null = null;
  private pumpFailed = false;
  private driveFaultSinceStep: number | null = null;
  private readonly stuckValues = new Map<SensorPath, number>();
  private readonly droppedSensors = new Set<SensorPath>();

  private auto: AutoCycleState | null = null;

  constructor(options: CncModelOptions = {}) {
    const seed = options.seed ?? 1;
    if (!Number.isFinite(seed)) throw new RangeError(`seed: ${seed} is not a finite number`);
    const ratedMaxSpeed = options.ratedMaxSpeed ?? DEFAULT_RATED_MAX_SPEED;
    if (!Number.isFinite(ratedMaxSpeed) || ratedMaxSpeed <= 0) {
      throw new RangeError(`ratedMaxSpeed: ${ratedMaxSpeed} must be a finite number above 0`);
    }
    const noiseScale = options.noiseScale ?? 1;
    if (!Number.isFinite(noiseScale) || noiseScale < 0) throw new RangeError(`noiseScale: ${noiseScale} must be a finite number >= 0`);
    const ambient = options.ambientTemperature ?? DEFAULT_AMBIENT_TEMPERATURE_C;
    if (!Number.isFinite(ambient)) throw new RangeError(`ambientTemperature: ${ambient} is not a finite number`);
    this.seed = seed;
    this.ratedMaxSpeed = ratedMaxSpeed;
    this.autoCycle = options.autoCycle ?? false;
    this.ambientTemperature = ambient;
    this.noiseScale = noiseScale;
    this.random = new Random(seed);
    this.noise = new CounterNoise(seed);
    this.bearingTemperature = ambient;
    this.coolantTemperature = ambient;
    if (this.autoCycle) this.auto = { phase: 'start', atStep: secondsToSteps(this.random.uniform(5, 15)) };
  }

  /** Simulated seconds since start (a whole number of sub-steps). */
  get time(): number {
    return this.steps * SUB_STEP_SECONDS;
  }

  get machineState(): MachineState {
    return this.state;
  }

  get speedSetpoint(): number {
    return this.setpoint;
  }

  get doorOpen(): boolean {
    return this.door;
  }

  get activeProgram(): string {
    return this.program?.id ?? '';
  }

  /** Advances simulated time; time that does not fill a sub-step is carried to the next call. */
  step(dtSeconds: number): void {
    if (!Number.isFinite(dtSeconds) || dtSeconds < 0) {
      throw new RangeError(`dtSeconds: ${dtSeconds} must be a finite number >= 0`);
    }
    this.pendingSeconds += dtSeconds;
    // The small tolerance keeps 3 * 0.01 from being 2.9999 sub-steps.
    const count = Math.floor(this.pendingSeconds / SUB_STEP_SECONDS + 1e-7);
    this.pendingSeconds = Math.max(0, this.pendingSeconds - count * SUB_STEP_SECONDS);
    for (let i = 0; i < count; i++) this.subStep();
  }

  // ---- Commands -------------------------------------------------------------------------------

  setSpeedSetpoint(rpm: number): void {
    if (typeof rpm !== 'number' || !Number.isFinite(rpm)) {
      throw new RangeError(`speedSetpoint: ${String(rpm)} is not a finite number`);
    }
    if (rpm < 0) throw new RangeError(`speedSetpoint: ${rpm} is below the minimum 0`);
    if (rpm > this.ratedMaxSpeed) throw new RangeError(`speedSetpoint: ${rpm} is above the maximum ${this.ratedMaxSpeed}`);
    // Stopping is always allowed; starting the spindle is not while an alarm or e-stop holds it.
    if (rpm > 0 && (this.state === 'alarm' || this.state === 'emergencyStop')) {
      throw new MachineStateError(`speedSetpoint: ${rpm} is refused while the machine is in ${this.state}; reset the alarm first`);
    }
    this.setpoint = rpm;
  }

  setDoorOpen(open: boolean): void {
    if (typeof open !== 'boolean') throw new TypeError(`doorOpen: ${String(open)} is not a boolean`);
    if (open === this.door) return;
    this.door = open;
    if (open && this.state === 'running') this.raiseAlarm('door opened during cycle');
  }

  startCycle(programId: string): string {
    if (this.state === 'emergencyStop') return 'rejected: emergency stop active';
    if (this.state === 'alarm') return 'rejected: alarm active';
    if (this.door) return 'rejected: door open';
    if (this.state === 'running') return 'rejected: already running';
    const program = PROGRAMS[programId];
    if (program === undefined || !Object.hasOwn(PROGRAMS, programId)) return `rejected: unknown program ${programId}`;
    this.beginProgram(program, 1);
    return 'started';
  }

  /**
   * Stops everything at once: cycle aborted, spindle braked to 0, axes halted. Returns whether
   * the stop is confirmed, which it is not while the spindle drive is faulted (the spindle coasts).
   */
  emergencyStop(): boolean {
    this.endProgram();
    this.state = 'emergencyStop';
    this.alarmReason = 'emergency stop';
    this.setpoint = 0;
    this.haltAxes();
    return this.driveFaultSinceStep === null;
  }

  /**
   * Leaves alarm or emergency stop for idle when nothing holds the alarm. Returns true when the
   * machine is no longer in alarm or emergency stop.
   */
  resetAlarm(): boolean {
    if (this.state !== 'alarm' && this.state !== 'emergencyStop') return true;
    if (this.driveFaultSinceStep !== null) {
      this.state = 'alarm';
      this.alarmReason = 'spindle drive fault';
      return false;
    }
    this.state = 'idle';
    this.alarmReason = '';
    return true;
  }

  injectFault(kind: string, target?: string, options: FaultOptions = {}): ActiveFault {
    const fault = this.resolveFault(kind, target);
    const existing = this.faults.get(fault.label);
    const active: ActiveFault = existing ?? { kind: fault.kind, target: fault.target, since: this.time, label: fault.label };
    switch (fault.kind) {
      case 'bearingWear': {
        const timeToFailure = options.timeToFailureSeconds ?? DEFAULT_BEARING_TIME_TO_FAILURE_SECONDS;
        if (!Number.isFinite(timeToFailure) || timeToFailure <= 0) {
          throw new RangeError(`timeToFailureSeconds: ${timeToFailure} must be a finite number above 0`);
        }
        const currentWear = this.bearingWear();
        const startWear = options.initialWear ?? currentWear;
        if (!Number.isFinite(startWear) || startWear < 0 || startWear > 1) {
          throw new RangeError(`initialWear: ${startWear} must be between 0 and 1`);
        }
        // Time to failure counts from now, from whatever wear is there.
        const remaining = Math.max(1 - startWear, 1e-9);
        this.bearing = { startWear, startStep: this.steps, wearPerStep: (remaining * SUB_STEP_SECONDS) / timeToFailure };
        break;
      }
      case 'coolantPumpFailure':
        this.pumpFailed = true;
        break;
      case 'spindleDriveFault':
        if (this.driveFaultSinceStep === null) this.driveFaultSinceStep = this.steps;
        break;
      case 'stuckSensor': {
        const path = fault.target as SensorPath;
        if (!this.stuckValues.has(path)) this.stuckValues.set(path, this.measured(SENSOR_INDEX[path]));
        break;
      }
      case 'sensorDropout':
        this.droppedSensors.add(fault.target as SensorPath);
        break;
    }
    this.faults.set(fault.label, active);
    return { ...active };
  }

  /** Clears a fault; returns false when it was not active. A cleared bearingWear is a new bearing. */
  clearFault(kind: string, target?: string): boolean {
    const fault = this.resolveFault(kind, target);
    if (!this.faults.delete(fault.label)) return false;
    switch (fault.kind) {
      case 'bearingWear':
        this.bearing = null;
        break;
      case 'coolantPumpFailure':
        this.pumpFailed = false;
        break;
      case 'spindleDriveFault':
        // The alarm stays latched until resetAlarm().
        this.driveFaultSinceStep = null;
        break;
      case 'stuckSensor':
        this.stuckValues.delete(fault.target as SensorPath);
        break;
      case 'sensorDropout':
        this.droppedSensors.delete(fault.target as SensorPath);
        break;
    }
    return true;
  }

  activeFaults(): ActiveFault[] {
    return [...this.faults.values()].map((fault) => ({ ...fault }));
  }

  // ---- Observation ----------------------------------------------------------------------------

  /** What the sensors report now: noise, stuck values and dropouts applied. */
  readings(): CncReadings {
    const values = SENSOR_PATHS.map((path, index) => this.sensorReading(path, index));
    const status = {} as Record<SensorPath, SensorStatus>;
    SENSOR_PATHS.forEach((path, index) => {
      status[path] = values[index] === null ? 'noCommunication' : 'good';
    });
    return {
      time: this.time,
      spindle: {
        speed: values[0],
        speedSetpoint: this.setpoint,
        motorCurrent: values[1],
        vibrationRms: values[2],
        bearingTemperature: values[3],
        maxSpeed: this.ratedMaxSpeed,
      },
      coolant: { temperature: values[4], flow: values[5] },
      positionX: values[6],
      positionY: values[7],
      positionZ: values[8],
      doorOpen: this.door,
      machineState: this.state,
      activeProgram: this.activeProgram,
      status,
    };
  }

  /** The noiseless physical state, for tests and evaluation. */
  truth(): CncTruth {
    const wear = this.bearingWear();
    return {
      time: this.time,
      spindleSpeed: this.speed,
      speedSetpoint: this.setpoint,
      spindleAcceleration: this.acceleration,
      cuttingLoad: this.load,
      motorCurrent: this.trueMotorCurrent(),
      vibrationRms: this.trueVibration(),
      bearingTemperature: this.bearingTemperature,
      coolantTemperature: this.coolantTemperature,
      coolantFlow: this.flow,
      position: { ...this.position },
      doorOpen: this.door,
      machineState: this.state,
      activeProgram: this.activeProgram,
      alarmReason: this.alarmReason,
      bearingWear: wear,
      bearingFailed: wear >= 1,
      bearingRemainingLifeSeconds:
        this.bearing === null ? null : Math.max(0, ((1 - wear) / this.bearing.wearPerStep) * SUB_STEP_SECONDS),
      coolantPumpFailed: this.pumpFailed,
      spindleDriveFaulted: this.driveFaultSinceStep !== null,
    };
  }

  // ---- Internals ------------------------------------------------------------------------------

  private resolveFault(kind: string, target: string | undefined): { kind: FaultKind; target: string; label: string } {
    if (typeof kind !== 'string' || !isFaultKind(kind)) {
      throw new RangeError(`fault: "${String(kind)}" is not a known fault; use one of ${FAULT_KINDS.join(', ')}`);
    }
    const given = (target ?? '').trim();
    if (kind === 'stuckSensor' || kind === 'sensorDropout') {
      if (given === '') throw new RangeError(`target: ${kind} needs a sensor, one of ${SENSOR_PATHS.join(', ')}`);
      const path = normalizeSensorPath(given);
      if (path === null) throw new RangeError(`target: "${given}" is not a sensor; use one of ${SENSOR_PATHS.join(', ')}`);
      return { kind, target: path, label: `${kind}:${path}` };
    }
    const component = COMPONENT_TARGETS[kind];
    if (given !== '' && given !== component && given !== `CNC.${component}`) {
      throw new RangeError(`target: ${kind} acts on the ${component}; leave the target empty or use "${component}", not "${given}"`);
    }
    return { kind, target: '', label: kind };
  }

  private bearingWear(): number {
    if (this.bearing === null) return 0;
    const wear = this.bearing.startWear + (this.steps - this.bearing.startStep) * this.bearing.wearPerStep;
    return Math.min(wear, MAX_BEARING_WEAR);
  }

  private speedFraction(): number {
    // The machine's physics scale with its rating: full speed is fraction 1 whatever the rpm.
    return this.speed / this.ratedMaxSpeed;
  }

  private trueVibration(): number {
    const speedFraction = this.speedFraction();
    const wearEffect = Math.min(1, speedFraction / WEAR_FULL_EFFECT_SPEED_FRACTION);
    return healthyVibration(speedFraction, this.load) + WEAR_VIBRATION_AT_FAILURE * wearCurve(this.bearingWear()) * wearEffect;
  }

  private driveFaultTripped(): boolean {
    return this.driveFaultSinceStep !== null && this.steps - this.driveFaultSinceStep >= secondsToSteps(DRIVE_FAULT_TRIP_SECONDS);
  }

  private trueMotorCurrent(): number {
    if (this.driveFaultSinceStep !== null) {
      // The power stage is off once the drive has tripped; before that the current hunts wildly.
      if (this.driveFaultTripped()) return 0.2;
      const t = this.time;
      return 16 + 7 * Math.sin(2 * Math.PI * 2.7 * t) + 4 * Math.sin(2 * Math.PI * 11.3 * t);
    }
    const spinning = this.speed > 1 || this.setpoint > 0;
    if (!spinning) return STANDBY_CURRENT_A;
    const speedFraction = this.speedFraction();
    const wearFriction = WEAR_FRICTION_CURRENT_A * wearCurve(this.bearingWear()) * Math.min(1, speedFraction / WEAR_FULL_EFFECT_SPEED_FRACTION);
    return (
      STANDBY_CURRENT_A +
      MAGNETISING_CURRENT_A +
      CURRENT_PER_RPM_A * this.speed +
      CURRENT_PER_LOAD_A * this.load +
      CURRENT_PER_ACCELERATION_A * Math.abs(this.acceleration) +
      wearFriction
    );
  }

  /** The noisy measurement of sensor `index` at the current sub-step, before faults. */
  private measured(index: number): number {
    const noise = SENSOR_NOISE[index];
    const raw = this.rawSensorValue(index);
    const deviation = (noise.absolute + noise.relative * Math.abs(raw)) * this.noiseScale;
    const value = raw + deviation * this.noise.gaussian(this.steps, index);
    switch (index) {
      case 0:
        // An encoder at standstill reads exactly zero.
        return raw < 0.5 ? 0 : Math.max(0, value);
      case 1:
      case 2:
      case 5:
        return Math.max(0, value);
      default:
        return value;
    }
  }

  private rawSensorValue(index: number): number {
    switch (index) {
      case 0: return this.speed;
      case 1: return this.trueMotorCurrent();
      case 2: return this.trueVibration();
      case 3: return this.bearingTemperature;
      case 4: return this.coolantTemperature;
      case 5: return this.flow;
      case 6: return this.position.x;
      case 7: return this.position.y;
      default: return this.position.z;
    }
  }

  private sensorReading(path: SensorPath, index: number): number | null {
    if (this.droppedSensors.has(path)) return null;
    const stuck = this.stuckValues.get(path);
    if (stuck !== undefined) return stuck;
    return this.measured(index);
  }

  private raiseAlarm(reason: string): void {
    this.endProgram();
    this.state = 'alarm';
    this.alarmReason = reason;
    this.setpoint = 0;
    this.haltAxes();
  }

  private haltAxes(): void {
    this.axisTarget.x = this.position.x;
    this.axisTarget.y = this.position.y;
    this.axisTarget.z = this.position.z;
  }

  private beginProgram(program: MachiningProgram, loadFactor: number): void {
    this.program = program;
    this.cycleLoadFactor = loadFactor;
    this.state = 'running';
    this.alarmReason = '';
    this.segmentIndex = 0;
    this.segmentEndStep = this.steps;
    this.enterSegment(0);
  }

  private enterSegment(index: number): void {
    const program = this.program;
    if (program === null) return;
    const segment = program.segments[index];
    this.segmentIndex = index;
    this.segmentEndStep += secondsToSteps(segment.durationSeconds);
    this.setpoint = Math.min(segment.spindleSpeed, this.ratedMaxSpeed);
    this.axisTarget.x = segment.target.x;
    this.axisTarget.y = segment.target.y;
    this.axisTarget.z = segment.target.z;
    this.feedRate = segment.feedRate;
  }

  private endProgram(): void {
    this.program = null;
    this.segmentIndex = 0;
  }

  private currentSegment(): ProgramSegment | null {
    return this.program === null ? null : this.program.segments[this.segmentIndex];
  }

  private advanceProgram(): void {
    if (this.state !== 'running' || this.program === null) return;
    while (this.steps >= this.segmentEndStep) {
      const next = this.segmentIndex + 1;
      if (next >= this.program.segments.length) {
        // Program end: the spindle stops (M05) and the machine waits for the next start.
        this.endProgram();
        this.state = 'idle';
        this.setpoint = 0;
        if (this.auto !== null) this.scheduleAfterCycle();
        return;
      }
      this.enterSegment(next);
    }
  }

  private scheduleAfterCycle(): void {
    this.auto = { phase: 'openDoor', atStep: this.steps + secondsToSteps(this.random.uniform(2, 5)) };
  }

  /** The operator of the auto cycle: unload and load the part with the door open, then start. */
  private runAutoCycle(): void {
    const auto = this.auto;
    if (auto === null || this.steps < auto.atStep) return;
    // An alarm or e-stop waits for a person; check again a little later.
    if (this.state === 'alarm' || this.state === 'emergencyStop') {
      auto.atStep = this.steps + secondsToSteps(5);
      return;
    }
    if (this.state === 'running') return;
    switch (auto.phase) {
      case 'openDoor':
        this.setDoorOpen(true);
        this.auto = { phase: 'closeDoor', atStep: this.steps + secondsToSteps(this.random.uniform(8, 25)) };
        break;
      case 'closeDoor': {
        this.setDoorOpen(false);
        // Now and then the operator takes a break before the next part.
        const pause = this.random.next() < 0.1 ? this.random.uniform(120, 600) : this.random.uniform(3, 20);
        this.auto = { phase: 'start', atStep: this.steps + secondsToSteps(pause) };
        break;
      }
      case 'start': {
        if (this.door) this.setDoorOpen(false);
        const program = PROGRAMS[PROGRAM_IDS[this.random.int(PROGRAM_IDS.length)]];
        // Material and tool condition vary from part to part.
        const loadFactor = Math.min(1.3, Math.max(0.7, this.random.gaussian(1, 0.1)));
        this.beginProgram(program, loadFactor);
        break;
      }
    }
  }

  private subStep(): void {
    const dt = SUB_STEP_SECONDS;
    this.steps++;
    this.advanceProgram();
    if (this.auto !== null) this.runAutoCycle();
    if (this.driveFaultTripped() && (this.state === 'idle' || this.state === 'running')) this.raiseAlarm('spindle drive fault');

    // Spindle speed.
    const previousSpeed = this.speed;
    if (this.driveFaultSinceStep !== null) {
      this.speed -= (this.speed / COAST_TIME_CONSTANT_SECONDS) * dt;
    } else {
      const braking = this.state === 'emergencyStop' || this.state === 'alarm';
      const tau = braking ? EMERGENCY_TIME_CONSTANT_SECONDS : SPINDLE_TIME_CONSTANT_SECONDS;
      const limit = braking ? SPINDLE_BRAKING_LIMIT_RPM_PER_SECOND : SPINDLE_RAMP_LIMIT_RPM_PER_SECOND;
      const target = braking ? 0 : this.setpoint;
      const error = target - this.speed;
      const rate = Math.max(-limit, Math.min(limit, error / tau));
      this.speed += rate * dt;
      // Within a hundredth of an rpm the drive holds the setpoint exactly.
      if (Math.abs(target - this.speed) < 0.01) this.speed = target;
    }
    if (this.speed < 0.01) this.speed = 0;
    this.acceleration = (this.speed - previousSpeed) / dt;

    // Cutting load: only while a segment cuts, and only as far as the spindle is up to speed.
    const segment = this.currentSegment();
    let loadTarget = 0;
    if (segment !== null && segment.cuttingLoad > 0 && segment.spindleSpeed > 0) {
      loadTarget = segment.cuttingLoad * this.cycleLoadFactor * Math.min(1, this.speed / segment.spindleSpeed);
    }
    this.load += (loadTarget - this.load) * (dt / CUTTING_LOAD_TIME_CONSTANT_SECONDS);

    // Coolant pump.
    const flowTarget = this.pumpFailed ? 0 : NOMINAL_COOLANT_FLOW_L_PER_MIN;
    const pumpTau = this.pumpFailed ? FAILED_PUMP_TIME_CONSTANT_SECONDS : PUMP_TIME_CONSTANT_SECONDS;
    this.flow += (flowTarget - this.flow) * (dt / pumpTau);
    const flowFraction = this.flow / NOMINAL_COOLANT_FLOW_L_PER_MIN;

    // Heat: friction and cutting warm the bearing and the coolant; the coolant is cooled in
    // proportion to its flow, the bearing toward the coolant (worse when the coolant stops).
    const speedFraction = this.speedFraction();
    const speedHeat = speedFraction * Math.sqrt(speedFraction);
    const wearHeat = wearCurve(this.bearingWear()) * Math.min(1, speedFraction / WEAR_FULL_EFFECT_SPEED_FRACTION);
    const frictionRise = BEARING_SPEED_RISE_C * speedHeat + BEARING_LOAD_RISE_C * this.load * speedFraction + BEARING_WEAR_RISE_C * wearHeat;
    const bearingTarget = this.coolantTemperature + (1 + BEARING_DRY_PENALTY * (1 - flowFraction)) * frictionRise;
    this.bearingTemperature += (bearingTarget - this.bearingTemperature) * (dt / BEARING_THERMAL_TIME_CONSTANT_SECONDS);
    const heatIn = COOLANT_SPEED_HEAT_C_PER_S * speedHeat + COOLANT_LOAD_HEAT_C_PER_S * this.load * speedFraction;
    const coolingRate = COOLANT_FLOW_COOLING_PER_S * flowFraction + COOLANT_PASSIVE_COOLING_PER_S;
    this.coolantTemperature += (heatIn - coolingRate * (this.coolantTemperature - this.ambientTemperature)) * dt;

    // Axes: straight-line move toward the target at the feed rate.
    const dx = this.axisTarget.x - this.position.x;
    const dy = this.axisTarget.y - this.position.y;
    const dz = this.axisTarget.z - this.position.z;
    const distance = Math.sqrt(dx * dx + dy * dy + dz * dz);
    if (distance > 0) {
      const travel = this.feedRate * dt;
      if (travel >= distance) {
        this.position.x = this.axisTarget.x;
        this.position.y = this.axisTarget.y;
        this.position.z = this.axisTarget.z;
      } else {
        const fraction = travel / distance;
        this.position.x += dx * fraction;
        this.position.y += dy * fraction;
        this.position.z += dz * fraction;
      }
    }
  }
}
