// FMI 3.0 Co-Simulation through koffi: typed getters and setters (Float32..UInt64, Boolean,
// String, Binary, arrays), event mode, early return, FMU state. The FMI 3.0 logger is not
// variadic, so it is a koffi-registered callback directly.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FmuError } from './errors';
import { binaryPath, createInstanceSet, requireCoSimulation, type FmuArchive, type InstanceSet } from './fmu-archive';
import {
  bindFunctions,
  copyNative,
  decodeCString,
  FMI3_REQUIRED,
  FMI3_SIGNATURES,
  fmi3LogMessagePointer,
  loadLibrary,
  NativeBlock,
  registerLogHandler,
  toAddress,
  unregisterLogHandler,
  type BoundFunctions,
  type KoffiFunction,
  type Library,
} from './fmi-types';
import {
  InstanceBase,
  StepOutcome,
  toIntegerArray,
  type CoSimInstance,
  type Experiment,
  type Float64Port,
  type FmuLibrary,
  type FmuState,
  type InstantiateOptions,
  type VariableValue,
} from './cosim';
import type { AccessType, ModelDescription } from './model-description';

type Fmi3Functions = BoundFunctions<typeof FMI3_SIGNATURES>;

/** How many rounds of fmi3UpdateDiscreteStates we allow before calling it an event loop. */
const MAX_EVENT_ITERATIONS = 100;

type TypedArrayConstructor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor
  | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

const TYPED_ARRAYS: Partial<Record<AccessType, TypedArrayConstructor>> = {
  Float32: Float32Array, Float64: Float64Array, Int8: Int8Array, UInt8: Uint8Array, Int16: Int16Array, UInt16: Uint16Array,
  Int32: Int32Array, UInt32: Uint32Array, Int64: BigInt64Array, UInt64: BigUint64Array,
};

export class Fmi3Library implements FmuLibrary {
  readonly fmiVersion = '3.0' as const;
  readonly description: ModelDescription;
  readonly libraryPath: string;
  private readonly instances = new Set<Fmi3Instance>();
  private unloaded = false;

  private constructor(
    readonly archive: FmuArchive,
    private readonly instanceSet: InstanceSet,
    private readonly library: Library,
    readonly functions: Fmi3Functions,
  ) {
    this.description = archive.description;
    this.libraryPath = instanceSet.libraryPath;
  }

  static load(archive: FmuArchive): Fmi3Library {
    if (archive.description.fmiVersion !== '3.0') throw new FmuError('FMU_UNSUPPORTED', `${path.basename(archive.file)} is FMI ${archive.description.fmiVersion}, not 3.0`);
    const capabilities = requireCoSimulation(archive);
    const relative = path.relative(archive.directory, binaryPath(archive));
    const instanceSet = createInstanceSet(archive);
    let library: Library;
    try {
      library = loadLibrary(instanceSet.libraryPath);
    } catch (err) {
      instanceSet.dispose();
      throw new FmuError('FMU_BINARY_INVALID', `${path.basename(archive.file)}: cannot load its binary ${relative}: ${(err as Error).message}`, { cause: err });
    }
    const functions = bindFunctions(library, FMI3_SIGNATURES);
    const missing = FMI3_REQUIRED.filter((key) => !functions[key]).map((key) => FMI3_SIGNATURES[key][0]);
    const version = functions.getVersion ? String(functions.getVersion()) : '';
    if (missing.length > 0 || !version.startsWith('3.')) {
      library.unload();
      instanceSet.dispose();
      const problem = missing.length > 0 ? `does not export ${missing.join(', ')}` : `fmi3GetVersion() returns "${version}", not "3.x"`;
      throw new FmuError('FMU_BINARY_INVALID', `${path.basename(archive.file)}: the binary for ${capabilities.modelIdentifier} ${problem}`);
    }
    return new Fmi3Library(archive, instanceSet, library, functions);
  }

  get liveInstances(): number {
    return this.instances.size;
  }

  instantiate(name: string, options: InstantiateOptions = {}): Fmi3Instance {
    if (this.unloaded) throw new FmuError('FMU_INSTANCE_FREED', `${path.basename(this.archive.file)}: the library was unloaded`);
    const instance = new Fmi3Instance(this, name, options);
    this.instances.add(instance);
    return instance;
  }

  poisonAll(reason: string): void {
    for (const instance of this.instances) instance.poison(reason);
  }

  forget(instance: Fmi3Instance): void {
    this.instances.delete(instance);
  }

  unload(): void {
    if (this.unloaded) return;
    for (const instance of [...this.instances]) instance.free();
    this.unloaded = true;
    this.library.unload();
    this.instanceSet.dispose();
  }
}

export class Fmi3Instance extends InstanceBase implements CoSimInstance {
  readonly fmiVersion = '3.0' as const;
  readonly eventModeUsed: boolean;
  readonly earlyReturnAllowed: boolean;
  protected readonly fileName: string;
  private readonly functions: Fmi3Functions;
  private readonly instance: bigint;
  private readonly instanceAddress: number;
  private readonly environmentId: number;
  /** doStep outputs: [0] eventHandlingNeeded, [1] terminateSimulation, [2] earlyReturn, [8] lastSuccessfulTime; [16] state pointer, [24] size_t; [32..40) event flags; [40] nextEventTime */
  private readonly scratch = new NativeBlock(48);
  private readonly flags = new Uint8Array(this.scratch.buffer, 0, 8);
  private readonly stepTime = new Float64Array(this.scratch.buffer, 8, 1);
  private readonly scratchWords = new BigUint64Array(this.scratch.buffer, 16, 2);
  private readonly eventFlags = new Uint8Array(this.scratch.buffer, 32, 8);
  private readonly nextEventTimeView = new Float64Array(this.scratch.buffer, 40, 1);
  private readonly doStepFunction: KoffiFunction;
  /** set by doStep: the FMU stopped early (lastSuccessfulTime < t + h) */
  returnedEarly = false;
  /** the next time event the FMU announced in event mode, if any */
  nextEventTime: number | undefined;

  constructor(private readonly library: Fmi3Library, name: string, options: InstantiateOptions) {
    const capabilities = requireCoSimulation(library.archive);
    super(name, library.description, capabilities, options);
    this.fileName = library.archive.file;
    this.functions = library.functions;
    this.doStepFunction = this.functions.doStepFast ?? this.functions.doStep!;
    if (!name) throw new FmuError('FMU_INVALID_VALUE', `${path.basename(this.fileName)}: the instance name must not be empty`);
    this.eventModeUsed = options.eventModeUsed ?? capabilities.hasEventMode;
    this.earlyReturnAllowed = options.earlyReturnAllowed ?? false;
    if (this.eventModeUsed && !capabilities.hasEventMode) {
      throw new FmuError('FMU_UNSUPPORTED', `${name}: ${path.basename(this.fileName)} has no event mode (hasEventMode=false)`);
    }
    if (this.eventModeUsed && (!this.functions.enterEventMode || !this.functions.enterStepMode || !this.functions.updateDiscreteStates)) {
      throw new FmuError('FMU_BINARY_INVALID', `${name}: declares hasEventMode but does not export fmi3EnterEventMode, fmi3UpdateDiscreteStates and fmi3EnterStepMode`);
    }
    this.environmentId = registerLogHandler((status, category, message) => this.receiveLog(status, category, message));
    const resources = path.join(library.archive.directory, 'resources');
    const resourcePath = existsSync(resources) ? resources + path.sep : null;
    const loggingOn = options.loggingOn ?? options.logger !== undefined;
    const instance = this.functions.instantiateCoSimulation!(
      name, this.description.instantiationToken, resourcePath, !!options.visible, loggingOn, this.eventModeUsed, this.earlyReturnAllowed,
      null, 0, BigInt(this.environmentId), fmi3LogMessagePointer(), null,
    ) as bigint | null;
    if (!instance) {
      this.release();
      const reason = this.lastFmuError ? `: ${this.lastFmuError}` : ' (the FMU gave no reason)';
      throw new FmuError('FMU_INSTANTIATION_FAILED', `${name}: fmi3InstantiateCoSimulation of ${path.basename(this.fileName)} returned NULL${reason}`);
    }
    this.instance = instance;
    this.instanceAddress = toAddress(instance);
  }

  protected override markFailed(fatal: boolean): void {
    super.markFailed(fatal);
    if (fatal) this.library.poisonAll(`another instance of this FMU (${this.name}) returned Fatal: ${this.failure}`);
  }

  enterInitializationMode(experiment: Experiment): void {
    this.requireState('enterInitializationMode', 'instantiated');
    const { startTime, stopTime, tolerance } = experiment;
    this.check(
      this.functions.enterInitializationMode!(this.instance, tolerance !== undefined, tolerance ?? 0, startTime, stopTime !== undefined, stopTime ?? 0),
      'fmi3EnterInitializationMode',
    );
    this.state = 'initialization';
    this.lastSuccessfulTime = startTime;
  }

  exitInitializationMode(): void {
    this.requireState('exitInitializationMode', 'initialization');
    this.check(this.functions.exitInitializationMode!(this.instance), 'fmi3ExitInitializationMode');
    if (this.eventModeUsed) {
      // Leaving initialization with event mode puts the FMU in Event Mode (FMI 3.0 section 4.2.1).
      this.state = 'event';
      this.updateDiscreteStates();
      this.check(this.functions.enterStepMode!(this.instance), 'fmi3EnterStepMode');
    }
    this.state = 'step';
  }

  doStep(currentCommunicationPoint: number, communicationStepSize: number, noSetFMUStatePriorToCurrentPoint = true): StepOutcome {
    if (!this.usable || this.state !== 'step') this.requireState('doStep', 'step');
    const address = this.scratch.address;
    const status = this.doStepFunction(this.instanceAddress, currentCommunicationPoint, communicationStepSize, noSetFMUStatePriorToCurrentPoint,
      address, address + 1, address + 2, address + 8) as number;
    if (status <= 1) {
      const flags = this.flags;
      this.eventHandlingNeeded = flags[0] !== 0;
      if (flags[1] !== 0) this.terminateRequested = true;
      this.returnedEarly = flags[2] !== 0;
      this.lastSuccessfulTime = this.returnedEarly ? this.stepTime[0]! : currentCommunicationPoint + communicationStepSize;
      return this.returnedEarly ? StepOutcome.ReturnedEarly : StepOutcome.Completed;
    }
    if (status === 2) {
      this.lastSuccessfulTime = this.stepTime[0]!;
      if (this.flags[1] !== 0) this.terminateRequested = true;
      return StepOutcome.Discarded;
    }
    this.check(status, 'fmi3DoStep', `at t=${currentCommunicationPoint} (step ${communicationStepSize})`);
    return StepOutcome.Completed;
  }

  /** In event mode: fmi3UpdateDiscreteStates until the FMU says its discrete states are stable. */
  private updateDiscreteStates(): void {
    const p = this.scratch.pointer + 32n;
    for (let iteration = 0; iteration < MAX_EVENT_ITERATIONS; iteration++) {
      this.check(this.functions.updateDiscreteStates!(this.instance, p, p + 1n, p + 2n, p + 3n, p + 4n, p + 8n), 'fmi3UpdateDiscreteStates');
      if (this.eventFlags[1] !== 0) this.terminateRequested = true;
      this.nextEventTime = this.eventFlags[4] !== 0 ? this.nextEventTimeView[0] : undefined;
      if (this.eventFlags[0] === 0) return;
    }
    this.check(3, 'fmi3UpdateDiscreteStates', `(discrete states still changing after ${MAX_EVENT_ITERATIONS} rounds: an event loop)`);
  }

  handleEvents(): void {
    if (!this.eventModeUsed) return;
    this.requireState('handleEvents', 'step');
    this.check(this.functions.enterEventMode!(this.instance), 'fmi3EnterEventMode');
    this.state = 'event';
    this.updateDiscreteStates();
    this.check(this.functions.enterStepMode!(this.instance), 'fmi3EnterStepMode');
    this.state = 'step';
    this.eventHandlingNeeded = false;
  }

  // ---- values -------------------------------------------------------------------------------------

  private totalElements(valueReferences: Uint32Array): number {
    let total = 0;
    for (const vr of valueReferences) {
      const variable = this.description.variables.find((v) => v.valueReference === vr);
      total += variable ? this.elementCount(variable) : 1;
    }
    return total;
  }

  private typedCall(type: AccessType, setter: boolean, valueReferences: Uint32Array, values: ArrayBufferView & { length: number }): void {
    this.guard();
    const name = `${setter ? 'set' : 'get'}${type}` as keyof Fmi3Functions;
    const fn = this.functions[name];
    if (!fn) throw new FmuError('FMU_BINARY_INVALID', `${this.name}: the FMU does not export fmi3${setter ? 'Set' : 'Get'}${type}`);
    this.check(fn(this.instance, valueReferences, valueReferences.length, values, values.length) as number, `fmi3${setter ? 'Set' : 'Get'}${type}`);
  }

  getFloat64(valueReferences: Uint32Array, values: Float64Array): void {
    this.typedCall('Float64', false, valueReferences, values);
  }

  setFloat64(valueReferences: Uint32Array, values: Float64Array): void {
    this.typedCall('Float64', true, valueReferences, values);
  }

  getInt32(valueReferences: Uint32Array, values: Int32Array): void {
    this.typedCall('Int32', false, valueReferences, values);
  }

  setInt32(valueReferences: Uint32Array, values: Int32Array): void {
    this.typedCall('Int32', true, valueReferences, values);
  }

  getBoolean(valueReferences: Uint32Array, count = this.totalElements(valueReferences)): boolean[] {
    const bytes = new Uint8Array(count);
    this.typedCall('Boolean', false, valueReferences, bytes);
    return Array.from(bytes, (b) => b !== 0);
  }

  setBoolean(valueReferences: Uint32Array, values: readonly boolean[]): void {
    this.typedCall('Boolean', true, valueReferences, Uint8Array.from(values, (v) => (v ? 1 : 0)));
  }

  getString(valueReferences: Uint32Array, count = this.totalElements(valueReferences)): string[] {
    this.guard();
    const pointers = new BigUint64Array(count);
    this.check(this.functions.getString!(this.instance, valueReferences, valueReferences.length, pointers, count) as number, 'fmi3GetString');
    return Array.from(pointers, (p) => decodeCString(p) ?? '');
  }

  setString(valueReferences: Uint32Array, values: readonly string[]): void {
    this.guard();
    this.check(this.functions.setString!(this.instance, valueReferences, valueReferences.length, [...values], values.length) as number, 'fmi3SetString');
  }

  getBinary(valueReferences: Uint32Array, count = this.totalElements(valueReferences)): Uint8Array[] {
    this.guard();
    const sizes = new BigUint64Array(count);
    const pointers = new BigUint64Array(count);
    this.check(this.functions.getBinary!(this.instance, valueReferences, valueReferences.length, sizes, pointers, count) as number, 'fmi3GetBinary');
    return Array.from(pointers, (p, i) => (p === 0n ? new Uint8Array(0) : copyNative(p, Number(sizes[i]))));
  }

  setBinary(valueReferences: Uint32Array, values: readonly Uint8Array[]): void {
    this.guard();
    const blocks = values.map((value) => {
      const block = new NativeBlock(value.length);
      new Uint8Array(block.buffer).set(value);
      return block;
    });
    try {
      const sizes = BigUint64Array.from(values, (v) => BigInt(v.length));
      const pointers = BigUint64Array.from(blocks, (b) => b.pointer);
      this.check(this.functions.setBinary!(this.instance, valueReferences, valueReferences.length, sizes, pointers, values.length) as number, 'fmi3SetBinary');
    } finally {
      for (const block of blocks) block.free();
    }
  }

  /** Typed access to any numeric type; `values.length` is the number of elements (arrays included). */
  getTyped<T extends ArrayBufferView & { length: number }>(type: AccessType, valueReferences: Uint32Array, values: T): T {
    this.typedCall(type, false, valueReferences, values);
    return values;
  }

  setTyped(type: AccessType, valueReferences: Uint32Array, values: ArrayBufferView & { length: number }): void {
    this.typedCall(type, true, valueReferences, values);
  }

  protected getOther(type: AccessType, valueReferences: Uint32Array, count: number): VariableValue {
    if (type === 'Binary') return this.getBinary(valueReferences, count);
    const Constructor = TYPED_ARRAYS[type];
    if (!Constructor) throw new FmuError('FMU_UNSUPPORTED', `${this.name}: ${type} variables are not supported`);
    const values = new Constructor(count);
    this.typedCall(type, false, valueReferences, values);
    return values;
  }

  protected setOther(type: AccessType, valueReferences: Uint32Array, value: VariableValue, count: number): void {
    if (type === 'Binary') {
      this.setBinary(valueReferences, value as Uint8Array[]);
      return;
    }
    const Constructor = TYPED_ARRAYS[type];
    if (!Constructor) throw new FmuError('FMU_UNSUPPORTED', `${this.name}: ${type} variables are not supported`);
    let values: ArrayBufferView & { length: number };
    if (type === 'Float32') {
      const items: unknown[] = ArrayBuffer.isView(value) ? Array.from(value as Float32Array) : Array.isArray(value) ? value : [value];
      if (items.length !== count || items.some((v) => typeof v !== 'number')) throw new FmuError('FMU_INVALID_VALUE', `${this.name}: expects ${count} Float32 numbers`);
      values = Float32Array.from(items as number[]);
    } else {
      const integers = toIntegerArray(type, value, count, `${this.name}`);
      values = type === 'Int64' || type === 'UInt64' ? (Constructor as BigInt64ArrayConstructor).from(integers as ArrayLike<bigint>) : (Constructor as Int32ArrayConstructor).from(integers as ArrayLike<number>);
    }
    this.typedCall(type, true, valueReferences, values);
  }

  createFloat64Port(names: readonly string[]): Float64Port {
    this.guard();
    const variables = names.map((name) => this.variable(name));
    for (const variable of variables) {
      if (variable.accessType !== 'Float64' || variable.dimensions) throw new FmuError('FMU_INVALID_VALUE', `${this.name}.${variable.name} is not a scalar Float64`);
    }
    const count = variables.length;
    const valuesOffset = Math.ceil((4 * count) / 8) * 8;
    const block = new NativeBlock(valuesOffset + 8 * count);
    const valueReferences = new Uint32Array(block.buffer, 0, count);
    valueReferences.set(variables.map((v) => v.valueReference));
    const values = new Float64Array(block.buffer, valuesOffset, count);
    const vrPointer = block.address;
    const valuePointer = block.address + valuesOffset;
    const instance = this.instanceAddress;
    const getFloat64 = this.functions.getFloat64Fast!;
    const setFloat64 = this.functions.setFloat64Fast!;
    const port: Float64Port = {
      variables,
      valueReferences,
      values,
      read: () => {
        if (!this.usable) this.guard();
        const status = getFloat64(instance, vrPointer, count, valuePointer, count) as number;
        if (status > 1) this.check(status, 'fmi3GetFloat64');
      },
      write: () => {
        if (!this.usable) this.guard();
        const status = setFloat64(instance, vrPointer, count, valuePointer, count) as number;
        if (status > 1) this.check(status, 'fmi3SetFloat64');
      },
      dispose: () => {
        this.ports.delete(port);
        block.free();
      },
    };
    this.ports.add(port);
    return port;
  }

  // ---- FMU state ----------------------------------------------------------------------------------

  private requireStateSupport(operation: string): void {
    this.guard();
    if (!this.capabilities.canGetAndSetFMUState || !this.functions.getFMUState || !this.functions.setFMUState || !this.functions.freeFMUState) {
      throw new FmuError('FMU_UNSUPPORTED', `${this.name}: cannot ${operation}: the FMU does not support getting and setting its state (canGetAndSetFMUState=false)`);
    }
  }

  getState(reuse?: FmuState): FmuState {
    this.requireStateSupport('save its state');
    if (reuse && (reuse.owner !== this || !this.openStates.has(reuse))) throw new FmuError('FMU_INVALID_VALUE', `${this.name}: that state belongs to another instance or was freed`);
    this.scratchWords[0] = reuse ? reuse.pointer : 0n;
    this.check(this.functions.getFMUState!(this.instance, this.scratch.pointer + 16n) as number, 'fmi3GetFMUState');
    if (reuse) return reuse;
    const state: FmuState = { owner: this, pointer: this.scratchWords[0]! };
    this.openStates.add(state);
    return state;
  }

  setState(state: FmuState): void {
    this.requireStateSupport('restore a state');
    if (state.owner !== this || !this.openStates.has(state)) throw new FmuError('FMU_INVALID_VALUE', `${this.name}: that state belongs to another instance or was freed`);
    this.check(this.functions.setFMUState!(this.instance, state.pointer) as number, 'fmi3SetFMUState');
  }

  freeState(state: FmuState): void {
    if (!this.openStates.delete(state)) return;
    if (!this.usable) return;
    this.scratchWords[0] = state.pointer;
    this.check(this.functions.freeFMUState!(this.instance, this.scratch.pointer + 16n) as number, 'fmi3FreeFMUState');
  }

  serializeState(state: FmuState): Uint8Array {
    this.requireStateSupport('serialize a state');
    if (!this.capabilities.canSerializeFMUState || !this.functions.serializedFMUStateSize || !this.functions.serializeFMUState) {
      throw new FmuError('FMU_UNSUPPORTED', `${this.name}: the FMU cannot serialize its state (canSerializeFMUState=false)`);
    }
    this.check(this.functions.serializedFMUStateSize(this.instance, state.pointer, this.scratch.pointer + 24n) as number, 'fmi3SerializedFMUStateSize');
    const bytes = new Uint8Array(Number(this.scratchWords[1]));
    this.check(this.functions.serializeFMUState(this.instance, state.pointer, bytes, bytes.length) as number, 'fmi3SerializeFMUState');
    return bytes;
  }

  deserializeState(bytes: Uint8Array): FmuState {
    this.requireStateSupport('deserialize a state');
    if (!this.capabilities.canSerializeFMUState || !this.functions.deserializeFMUState) {
      throw new FmuError('FMU_UNSUPPORTED', `${this.name}: the FMU cannot deserialize a state (canSerializeFMUState=false)`);
    }
    this.scratchWords[0] = 0n;
    this.check(this.functions.deserializeFMUState(this.instance, bytes, bytes.length, this.scratch.pointer + 16n) as number, 'fmi3DeserializeFMUState');
    const state: FmuState = { owner: this, pointer: this.scratchWords[0]! };
    this.openStates.add(state);
    return state;
  }

  // ---- end of life --------------------------------------------------------------------------------

  terminate(): void {
    this.requireState('terminate', 'step', 'event');
    this.check(this.functions.terminate!(this.instance) as number, 'fmi3Terminate');
    this.state = 'terminated';
  }

  reset(): void {
    this.guard();
    if (!this.functions.reset) throw new FmuError('FMU_UNSUPPORTED', `${this.name}: the FMU does not export fmi3Reset`);
    this.check(this.functions.reset(this.instance) as number, 'fmi3Reset');
    this.state = 'instantiated';
  }

  free(): void {
    if (this.state === 'freed') return;
    for (const state of [...this.openStates]) {
      try {
        this.freeState(state);
      } catch {
        // freeing must go on
      }
    }
    this.openStates.clear();
    for (const port of [...this.ports]) port.dispose();
    this.functions.freeInstance!(this.instance);
    this.release();
    this.state = 'freed';
    this.usable = false;
  }

  private release(): void {
    unregisterLogHandler(this.environmentId);
    this.scratch.free();
    this.library.forget(this);
  }
}
