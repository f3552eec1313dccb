// What FMI 2.0 and FMI 3.0 Co-Simulation instances have in common: the interface the master and
// the node use, the state machine we enforce on our side (after Error or Fatal only free() is
// allowed), status checking with the FMU's own error message, and access by variable name.
import { FmuError } from './errors';
import type { FmuArchive } from './fmu-archive';
import {
  findVariable,
  type AccessType,
  type CoSimulationCapabilities,
  type FmiVersion,
  type ModelDescription,
  type ModelVariable,
} from './model-description';

export type FmiStatusName = 'ok' | 'warning' | 'discard' | 'error' | 'fatal' | 'pending';
export const STATUS_NAMES: readonly FmiStatusName[] = ['ok', 'warning', 'discard', 'error', 'fatal', 'pending'];

export interface FmuLogMessage {
  /** instance name */
  instance: string;
  status: FmiStatusName;
  category: string;
  message: string;
}

export interface InstantiateOptions {
  /** receives every message the FMU logs, formatted */
  logger?: (message: FmuLogMessage) => void;
  /** ask the FMU for debug logging (default: true when a logger is given) */
  loggingOn?: boolean;
  visible?: boolean;
  /** FMI 3.0: hand time events to the importer through event mode (default: when the FMU has event mode) */
  eventModeUsed?: boolean;
  /** FMI 3.0: let doStep stop early at an event (default false) */
  earlyReturnAllowed?: boolean;
}

export interface Experiment {
  startTime: number;
  /** leave undefined for open-ended live runs (stopTimeDefined = false) */
  stopTime?: number;
  tolerance?: number;
}

/** How a doStep call ended. */
export const StepOutcome = {
  /** reached t + h */
  Completed: 0,
  /** the FMU discarded the step; lastSuccessfulTime says how far it got */
  Discarded: 1,
  /** FMI 3.0 early return at lastSuccessfulTime < t + h */
  ReturnedEarly: 2,
} as const;
export type StepOutcome = (typeof StepOutcome)[keyof typeof StepOutcome];

export type InstanceState = 'instantiated' | 'initialization' | 'step' | 'event' | 'terminated' | 'error' | 'freed';

export type VariableValue =
  | number | bigint | boolean | string | Uint8Array
  | Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array
  | number[] | bigint[] | boolean[] | string[] | Uint8Array[];

/**
 * Preallocated Float64 access for the hot path: set `values` and call write(), or call read() and
 * look at `values`. One FFI call each, no allocation.
 */
export interface Float64Port {
  readonly variables: readonly ModelVariable[];
  readonly valueReferences: Uint32Array;
  readonly values: Float64Array;
  read(): void;
  write(): void;
  dispose(): void;
}

/** An FMU state saved with getState(); free it with freeState() (the instance frees leftovers when freed). */
export interface FmuState {
  readonly owner: CoSimInstance;
  readonly pointer: bigint;
}

export interface CoSimInstance {
  readonly name: string;
  readonly fmiVersion: FmiVersion;
  readonly description: ModelDescription;
  readonly capabilities: CoSimulationCapabilities;
  readonly state: InstanceState;
  /** false once a call returned Error or Fatal, or after free() */
  readonly usable: boolean;
  /** set by doStep */
  readonly lastSuccessfulTime: number;
  readonly eventHandlingNeeded: boolean;
  readonly terminateRequested: boolean;
  readonly eventModeUsed: boolean;

  enterInitializationMode(experiment: Experiment): void;
  /** FMI 3.0 with event mode: also runs the initial event iteration and enters step mode */
  exitInitializationMode(): void;
  doStep(currentCommunicationPoint: number, communicationStepSize: number, noSetFMUStatePriorToCurrentPoint?: boolean): StepOutcome;
  /** FMI 3.0: enter event mode, update discrete states until stable, enter step mode; no-op otherwise */
  handleEvents(): void;

  getFloat64(valueReferences: Uint32Array, values: Float64Array): void;
  setFloat64(valueReferences: Uint32Array, values: Float64Array): void;
  getInt32(valueReferences: Uint32Array, values: Int32Array): void;
  setInt32(valueReferences: Uint32Array, values: Int32Array): void;
  getBoolean(valueReferences: Uint32Array, count?: number): boolean[];
  setBoolean(valueReferences: Uint32Array, values: readonly boolean[]): void;
  getString(valueReferences: Uint32Array, count?: number): string[];
  setString(valueReferences: Uint32Array, values: readonly string[]): void;

  /** by name, any type; arrays come back as typed arrays (or boolean[]/string[]) */
  getValue(name: string): VariableValue;
  setValue(name: string, value: VariableValue): void;
  createFloat64Port(names: readonly string[]): Float64Port;

  getState(reuse?: FmuState): FmuState;
  setState(state: FmuState): void;
  freeState(state: FmuState): void;
  serializeState(state: FmuState): Uint8Array;
  deserializeState(bytes: Uint8Array): FmuState;

  terminate(): void;
  reset(): void;
  /** always allowed, also after Error or Fatal; idempotent */
  free(): void;
}

export interface FmuLibrary {
  readonly archive: FmuArchive;
  readonly description: ModelDescription;
  readonly fmiVersion: FmiVersion;
  readonly libraryPath: string;
  readonly liveInstances: number;
  instantiate(name: string, options?: InstantiateOptions): CoSimInstance;
  /** frees live instances, unloads the library and deletes its private copy */
  unload(): void;
}

// ---- shared implementation ----------------------------------------------------------------------

export abstract class InstanceBase implements Partial<CoSimInstance> {
  state: InstanceState = 'instantiated';
  usable = true;
  lastSuccessfulTime = NaN;
  eventHandlingNeeded = false;
  terminateRequested = false;
  /** the last Error/Fatal message the FMU logged, quoted in our errors */
  protected lastFmuError = '';
  protected failure = '';
  protected readonly openStates = new Set<FmuState>();
  protected readonly ports = new Set<Float64Port>();
  protected readonly logger: ((message: FmuLogMessage) => void) | undefined;

  constructor(
    readonly name: string,
    readonly description: ModelDescription,
    readonly capabilities: CoSimulationCapabilities,
    options: InstantiateOptions,
  ) {
    this.logger = options.logger;
  }

  abstract readonly fmiVersion: FmiVersion;
  protected abstract readonly fileName: string;

  /** Called by the log callback. */
  protected receiveLog(status: number, category: string, message: string): void {
    const statusName = STATUS_NAMES[status] ?? 'error';
    if (status >= 3) this.lastFmuError = message;
    this.logger?.({ instance: this.name, status: statusName, category, message });
  }

  protected guard(): void {
    if (this.usable) return;
    if (this.state === 'freed') throw new FmuError('FMU_INSTANCE_FREED', `${this.name}: the instance was freed`);
    throw new FmuError('FMU_INSTANCE_UNUSABLE', `${this.name}: unusable since ${this.failure}; only free() is allowed`);
  }

  protected requireState(operation: string, ...allowed: InstanceState[]): void {
    this.guard();
    if (!allowed.includes(this.state)) {
      throw new FmuError('FMU_WRONG_STATE', `${this.name}: ${operation} is not allowed in state ${this.state} (only in ${allowed.join(' or ')})`);
    }
  }

  /** Checks an FMI status; Error and Fatal make the instance unusable and throw. */
  protected check(status: number, fmiFunction: string, context = ''): void {
    if (status <= 1) return;
    const where = context ? ` ${context}` : '';
    const reason = this.lastFmuError ? `: ${this.lastFmuError}` : '';
    if (status === 2) {
      throw new FmuError('FMU_DISCARD', `${this.name}: ${fmiFunction} returned Discard${where}${reason}`);
    }
    const fatal = status === 4;
    this.failure = `${fmiFunction} returned ${fatal ? 'Fatal' : status === 3 ? 'Error' : `status ${status}`}${where}${reason}`;
    this.markFailed(fatal);
    throw new FmuError(fatal ? 'FMU_STATUS_FATAL' : 'FMU_STATUS_ERROR', `${this.name}: ${this.failure}`);
  }

  protected markFailed(fatal: boolean): void {
    void fatal;
    this.usable = false;
    this.state = 'error';
  }

  /** Used by the library when another instance returned Fatal: the whole library is unusable. */
  poison(reason: string): void {
    if (!this.usable) return;
    this.usable = false;
    this.state = 'error';
    this.failure = reason;
  }

  // ---- by-name access ---------------------------------------------------------------------------

  protected variable(name: string): ModelVariable {
    return findVariable(this.description, name, this.name);
  }

  abstract getFloat64(valueReferences: Uint32Array, values: Float64Array): void;
  abstract setFloat64(valueReferences: Uint32Array, values: Float64Array): void;
  abstract getInt32(valueReferences: Uint32Array, values: Int32Array): void;
  abstract setInt32(valueReferences: Uint32Array, values: Int32Array): void;
  abstract getBoolean(valueReferences: Uint32Array, count?: number): boolean[];
  abstract setBoolean(valueReferences: Uint32Array, values: readonly boolean[]): void;
  abstract getString(valueReferences: Uint32Array, count?: number): string[];
  abstract setString(valueReferences: Uint32Array, values: readonly string[]): void;
  /** other types (FMI 3.0); FMI 2.0 throws FMU_UNSUPPORTED */
  protected abstract getOther(type: AccessType, valueReferences: Uint32Array, count: number): VariableValue;
  protected abstract setOther(type: AccessType, valueReferences: Uint32Array, values: VariableValue, count: number): void;

  protected elementCount(variable: ModelVariable): number {
    if (!variable.dimensions) return 1;
    let count = 1;
    for (const dimension of variable.dimensions) {
      if (dimension.start !== undefined) {
        count *= dimension.start;
      } else {
        const size = this.getOther('UInt64', Uint32Array.of(dimension.valueReference!), 1) as BigUint64Array;
        count *= Number(size[0]);
      }
    }
    return count;
  }

  getValue(name: string): VariableValue {
    const variable = this.variable(name);
    const count = this.elementCount(variable);
    const vrs = Uint32Array.of(variable.valueReference);
    const scalar = !variable.dimensions;
    switch (variable.accessType) {
      case 'Float64': {
        const values = new Float64Array(count);
        this.getFloat64(vrs, values);
        return scalar ? values[0]! : values;
      }
      case 'Int32': {
        const values = new Int32Array(count);
        this.getInt32(vrs, values);
        return scalar ? values[0]! : values;
      }
      case 'Boolean': {
        const values = this.getBoolean(vrs, count);
        return scalar ? values[0]! : values;
      }
      case 'String': {
        const values = this.getString(vrs, count);
        return scalar ? values[0]! : values;
      }
      default: {
        const values = this.getOther(variable.accessType, vrs, count);
        if (!scalar || variable.accessType === 'Binary') return variable.accessType === 'Binary' && scalar ? (values as Uint8Array[])[0]! : values;
        return (values as ArrayLike<number | bigint>)[0]!;
      }
    }
  }

  setValue(name: string, value: VariableValue): void {
    const variable = this.variable(name);
    const count = this.elementCount(variable);
    const vrs = Uint32Array.of(variable.valueReference);
    const list = (expected: string): unknown[] => {
      const items = ArrayBuffer.isView(value) && !(value instanceof Uint8Array && variable.accessType === 'Binary') ? Array.from(value as ArrayLike<unknown>) : Array.isArray(value) ? value : [value];
      if (items.length !== count) {
        throw new FmuError('FMU_INVALID_VALUE', `${this.name}.${name}: expects ${count} ${expected} value${count === 1 ? '' : 's'}, got ${items.length}`);
      }
      return items;
    };
    const numbers = (): number[] =>
      list('numeric').map((item) => {
        const number = typeof item === 'boolean' ? Number(item) : typeof item === 'bigint' ? Number(item) : item;
        if (typeof number !== 'number' || Number.isNaN(number) && variable.accessType !== 'Float64' && variable.accessType !== 'Float32') {
          throw new FmuError('FMU_INVALID_VALUE', `${this.name}.${name}: ${String(item)} is not a number`);
        }
        return number;
      });
    switch (variable.accessType) {
      case 'Float64':
        this.setFloat64(vrs, Float64Array.from(numbers()));
        return;
      case 'Int32': {
        const values = numbers();
        for (const v of values) {
          if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new FmuError('FMU_INVALID_VALUE', `${this.name}.${name}: ${v} is not an Int32`);
        }
        this.setInt32(vrs, Int32Array.from(values));
        return;
      }
      case 'Boolean':
        this.setBoolean(vrs, list('boolean').map((item) => {
          if (typeof item === 'boolean') return item;
          if (item === 0 || item === 1) return item === 1;
          throw new FmuError('FMU_INVALID_VALUE', `${this.name}.${name}: ${String(item)} is not a boolean`);
        }));
        return;
      case 'String':
        this.setString(vrs, list('string').map((item) => {
          if (typeof item !== 'string') throw new FmuError('FMU_INVALID_VALUE', `${this.name}.${name}: ${String(item)} is not a string`);
          return item;
        }));
        return;
      case 'Binary':
        this.setOther('Binary', vrs, (value instanceof Uint8Array ? [value] : list('binary')) as Uint8Array[], count);
        return;
      default:
        this.setOther(variable.accessType, vrs, value, count);
    }
  }

}

/** Checks and converts a value for an integer-typed setter. */
export function toIntegerArray(type: AccessType, value: VariableValue, count: number, where: string): ArrayLike<number | bigint> {
  const items = ArrayBuffer.isView(value) ? Array.from(value as ArrayLike<number | bigint>) : Array.isArray(value) ? (value as unknown[]) : [value];
  if (items.length !== count) throw new FmuError('FMU_INVALID_VALUE', `${where}: expects ${count} values, got ${items.length}`);
  const big = type === 'Int64' || type === 'UInt64';
  const ranges: Record<string, [bigint, bigint]> = {
    Int8: [-128n, 127n], UInt8: [0n, 255n], Int16: [-32768n, 32767n], UInt16: [0n, 65535n], Int32: [-2147483648n, 2147483647n], UInt32: [0n, 4294967295n],
    Int64: [-(2n ** 63n), 2n ** 63n - 1n], UInt64: [0n, 2n ** 64n - 1n],
  };
  const [low, high] = ranges[type]!;
  return items.map((item) => {
    let integer: bigint;
    if (typeof item === 'bigint') integer = item;
    else if (typeof item === 'number' && Number.isInteger(item)) integer = BigInt(item);
    else if (typeof item === 'string' && /^[+-]?\d+$/.test(item.trim())) integer = BigInt(item.trim());
    else throw new FmuError('FMU_INVALID_VALUE', `${where}: ${String(item)} is not an integer`);
    if (integer < low || integer > high) throw new FmuError('FMU_INVALID_VALUE', `${where}: ${integer} is outside the ${type} range ${low}..${high}`);
    return big ? integer : Number(integer);
  }) as ArrayLike<number | bigint>;
}
