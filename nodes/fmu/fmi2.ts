// FMI 2.0 Co-Simulation through koffi. The variadic logger goes through the C shim
// (native/logger/fmi2_logger_shim.c), which formats the message and calls our fixed-argument callback.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { FmuError } from './errors';
import { binaryPath, createInstanceSet, requireCoSimulation, type FmuArchive, type InstanceSet } from './fmu-archive';
import {
  bindFunctions,
  createFmi2Callbacks,
  decodeCString,
  FMI2_REQUIRED,
  FMI2_SIGNATURES,
  loadLibrary,
  NativeBlock,
  registerLogHandler,
  unregisterLogHandler,
  type BoundFunctions,
  toAddress,
  type Fmi2Callbacks,
  type KoffiFunction,
  type Library,
} from './fmi-types';
import {
  InstanceBase,
  StepOutcome,
  type CoSimInstance,
  type Experiment,
  type Float64Port,
  type FmuLibrary,
  type FmuState,
  type InstantiateOptions,
  type VariableValue,
} from './cosim';
import type { AccessType, ModelDescription } from './model-description';

type Fmi2Functions = BoundFunctions<typeof FMI2_SIGNATURES>;

const FMI2_COSIMULATION = 1;
const LAST_SUCCESSFUL_TIME = 2;
const TERMINATED = 3;

export class Fmi2Library implements FmuLibrary {
  readonly fmiVersion = '2.0' as const;
  readonly description: ModelDescription;
  readonly libraryPath: string;
  private readonly instances = new Set<Fmi2Instance>();
  private unloaded = false;

  private constructor(
    readonly archive: FmuArchive,
    private readonly instanceSet: InstanceSet,
    private readonly library: Library,
    readonly functions: Fmi2Functions,
  ) {
    this.description = archive.description;
    this.libraryPath = instanceSet.libraryPath;
  }

  /** Loads a private copy of the FMU's binary for this platform. */
  static load(archive: FmuArchive): Fmi2Library {
    if (archive.description.fmiVersion !== '2.0') throw new FmuError('FMU_UNSUPPORTED', `${path.basename(archive.file)} is FMI ${archive.description.fmiVersion}, not 2.0`);
    const capabilities = requireCoSimulation(archive);
    const instanceSet = createInstanceSet(archive);
    const relative = path.relative(archive.directory, binaryPath(archive));
    let library: Library;
    try {
      library = loadLibrary(instanceSet.libraryPath);
    } catch (err) {
      instanceSet.dispose();
      throw new FmuError('FMU_BINARY_INVALID', `${path.basename(archive.file)}: cannot load its binary ${relative}: ${(err as Error).message}`, { cause: err });
    }
    const functions = bindFunctions(library, FMI2_SIGNATURES);
    const missing = FMI2_REQUIRED.filter((key) => !functions[key]).map((key) => FMI2_SIGNATURES[key][0]);
    const version = functions.getVersion ? String(functions.getVersion()) : '';
    if (missing.length > 0 || version !== '2.0') {
      library.unload();
      instanceSet.dispose();
      const problem = missing.length > 0 ? `does not export ${missing.join(', ')}` : `fmi2GetVersion() returns "${version}", not "2.0"`;
      throw new FmuError('FMU_BINARY_INVALID', `${path.basename(archive.file)}: the binary for ${capabilities.modelIdentifier} ${problem}`);
    }
    return new Fmi2Library(archive, instanceSet, library, functions);
  }

  get liveInstances(): number {
    return this.instances.size;
  }

  instantiate(name: string, options: InstantiateOptions = {}): Fmi2Instance {
    if (this.unloaded) throw new FmuError('FMU_INSTANCE_FREED', `${path.basename(this.archive.file)}: the library was unloaded`);
    const instance = new Fmi2Instance(this, name, options);
    this.instances.add(instance);
    return instance;
  }

  /** An instance returned Fatal: FMI 2.0 says no instance of this FMU may be used any more. */
  poisonAll(reason: string): void {
    for (const instance of this.instances) instance.poison(reason);
  }

  forget(instance: Fmi2Instance): void {
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

export class Fmi2Instance extends InstanceBase implements CoSimInstance {
  readonly fmiVersion = '2.0' as const;
  readonly eventModeUsed = false;
  protected readonly fileName: string;
  private readonly functions: Fmi2Functions;
  private readonly component: bigint;
  private readonly componentAddress: number;
  private readonly callbacks: Fmi2Callbacks;
  private readonly environmentId: number;
  /** [0] double status value, [8] int/boolean status value, [16] FMU state pointer, [24] size_t */
  private readonly scratch = new NativeBlock(32);
  private readonly scratchDouble = new Float64Array(this.scratch.buffer, 0, 1);
  private readonly scratchInt = new Int32Array(this.scratch.buffer, 8, 1);
  private readonly scratchWords = new BigUint64Array(this.scratch.buffer, 16, 2);
  private readonly doStepFast: KoffiFunction;
  /** whether messages arrive printf-formatted (false only when the logger shim is not built) */
  readonly formattedLogs: boolean;

  constructor(private readonly library: Fmi2Library, name: string, options: InstantiateOptions) {
    const capabilities = requireCoSimulation(library.archive);
    super(name, library.description, capabilities, options);
    this.fileName = library.archive.file;
    this.functions = library.functions;
    this.doStepFast = this.functions.doStepFast ?? this.functions.doStep!;
    if (!name) throw new FmuError('FMU_INVALID_VALUE', `${path.basename(this.fileName)}: the instance name must not be empty`);
    this.environmentId = registerLogHandler((status, category, message) => this.receiveLog(status, category, message));
    this.callbacks = createFmi2Callbacks(this.environmentId);
    this.formattedLogs = this.callbacks.formatted;
    const resources = path.join(library.archive.directory, 'resources');
    const resourceUri = existsSync(resources) ? pathToFileURL(resources).href : pathToFileURL(library.archive.directory).href;
    const loggingOn = options.loggingOn ?? options.logger !== undefined;
    const component = this.functions.instantiate!(
      name, FMI2_COSIMULATION, this.description.instantiationToken, resourceUri, this.callbacks.pointer, options.visible ? 1 : 0, loggingOn ? 1 : 0,
    ) as bigint | null;
    if (!component) {
      this.release();
      const reason = this.lastFmuError ? `: ${this.lastFmuError}` : ' (the FMU gave no reason)';
      throw new FmuError('FMU_INSTANTIATION_FAILED', `${name}: fmi2Instantiate of ${path.basename(this.fileName)} returned NULL${reason}`);
    }
    this.component = component;
    this.componentAddress = toAddress(component);
  }

  protected override markFailed(fatal: boolean): void {
    super.markFailed(fatal);
    if (fatal) this.library.poisonAll(`another instance of this FMU (${this.name}) returned Fatal: ${this.failure}`);
  }

  enterInitializationMode(experiment: Experiment): void {
    this.requireState('enterInitializationMode', 'instantiated');
    const { startTime, stopTime, tolerance } = experiment;
    this.check(
      this.functions.setupExperiment!(this.component, tolerance !== undefined ? 1 : 0, tolerance ?? 0, startTime, stopTime !== undefined ? 1 : 0, stopTime ?? 0),
      'fmi2SetupExperiment',
    );
    this.check(this.functions.enterInitializationMode!(this.component), 'fmi2EnterInitializationMode');
    this.state = 'initialization';
    this.lastSuccessfulTime = startTime;
  }

  exitInitializationMode(): void {
    this.requireState('exitInitializationMode', 'initialization');
    this.check(this.functions.exitInitializationMode!(this.component), 'fmi2ExitInitializationMode');
    this.state = 'step';
  }

  doStep(currentCommunicationPoint: number, communicationStepSize: number, noSetFMUStatePriorToCurrentPoint = true): StepOutcome {
    if (!this.usable || this.state !== 'step') this.requireState('doStep', 'step');
    const status = this.doStepFast(this.componentAddress, currentCommunicationPoint, communicationStepSize, noSetFMUStatePriorToCurrentPoint ? 1 : 0) as number;
    if (status <= 1) {
      this.lastSuccessfulTime = currentCommunicationPoint + communicationStepSize;
      return StepOutcome.Completed;
    }
    if (status === 2) {
      const getRealStatus = this.functions.getRealStatus;
      const known = getRealStatus && (getRealStatus(this.component, LAST_SUCCESSFUL_TIME, this.scratch.pointer) as number) <= 1;
      this.lastSuccessfulTime = known ? this.scratchDouble[0]! : currentCommunicationPoint;
      const getBooleanStatus = this.functions.getBooleanStatus;
      if (getBooleanStatus && (getBooleanStatus(this.component, TERMINATED, this.scratch.pointer + 8n) as number) <= 1) {
        this.terminateRequested = this.scratchInt[0] !== 0;
      }
      return StepOutcome.Discarded;
    }
    this.check(status, 'fmi2DoStep', `at t=${currentCommunicationPoint} (step ${communicationStepSize})`);
    return StepOutcome.Completed;
  }

  handleEvents(): void {
    // FMI 2.0 Co-Simulation has no event mode.
  }

  // ---- values -------------------------------------------------------------------------------------

  getFloat64(valueReferences: Uint32Array, values: Float64Array): void {
    this.guard();
    this.check(this.functions.getReal!(this.component, valueReferences, valueReferences.length, values), 'fmi2GetReal');
  }

  setFloat64(valueReferences: Uint32Array, values: Float64Array): void {
    this.guard();
    this.check(this.functions.setReal!(this.component, valueReferences, valueReferences.length, values), 'fmi2SetReal');
  }

  getInt32(valueReferences: Uint32Array, values: Int32Array): void {
    this.guard();
    this.check(this.functions.getInteger!(this.component, valueReferences, valueReferences.length, values), 'fmi2GetInteger');
  }

  setInt32(valueReferences: Uint32Array, values: Int32Array): void {
    this.guard();
    this.check(this.functions.setInteger!(this.component, valueReferences, valueReferences.length, values), 'fmi2SetInteger');
  }

  getBoolean(valueReferences: Uint32Array): boolean[] {
    this.guard();
    const values = new Int32Array(valueReferences.length);
    this.check(this.functions.getBoolean!(this.component, valueReferences, valueReferences.length, values), 'fmi2GetBoolean');
    return Array.from(values, (v) => v !== 0);
  }

  setBoolean(valueReferences: Uint32Array, values: readonly boolean[]): void {
    this.guard();
    const ints = Int32Array.from(values, (v) => (v ? 1 : 0));
    this.check(this.functions.setBoolean!(this.component, valueReferences, valueReferences.length, ints), 'fmi2SetBoolean');
  }

  getString(valueReferences: Uint32Array): string[] {
    this.guard();
    const pointers = new BigUint64Array(valueReferences.length);
    this.check(this.functions.getString!(this.component, valueReferences, valueReferences.length, pointers), 'fmi2GetString');
    return Array.from(pointers, (p) => decodeCString(p) ?? '');
  }

  setString(valueReferences: Uint32Array, values: readonly string[]): void {
    this.guard();
    this.check(this.functions.setString!(this.component, valueReferences, valueReferences.length, [...values]), 'fmi2SetString');
  }

  protected getOther(type: AccessType): VariableValue {
    throw new FmuError('FMU_UNSUPPORTED', `${this.name}: FMI 2.0 has no ${type} variables`);
  }

  protected setOther(type: AccessType): void {
    throw new FmuError('FMU_UNSUPPORTED', `${this.name}: FMI 2.0 has no ${type} variables`);
  }

  createFloat64Port(names: readonly string[]): Float64Port {
    this.guard();
    const variables = names.map((name) => this.variable(name));
    for (const variable of variables) {
      if (variable.accessType !== 'Float64') throw new FmuError('FMU_INVALID_VALUE', `${this.name}.${variable.name} is ${variable.type}, not Real`);
    }
    const count = variables.length;
    const valuesOffset = Math.ceil((4 * count) / 8) * 8;
    const block = new NativeBlock(valuesOffset + 8 * count);
    const valueReferences = new Uint32Array(block.buffer, 0, count);
    valueReferences.set(variables.map((v) => v.valueReference));
    const values = new Float64Array(block.buffer, valuesOffset, count);
    const vrPointer = block.address;
    const valuePointer = block.address + valuesOffset;
    const component = this.componentAddress;
    const getReal = this.functions.getRealFast!;
    const setReal = this.functions.setRealFast!;
    const port: Float64Port = {
      variables,
      valueReferences,
      values,
      read: () => {
        if (!this.usable) this.guard();
        const status = getReal(component, vrPointer, count, valuePointer) as number;
        if (status > 1) this.check(status, 'fmi2GetReal');
      },
      write: () => {
        if (!this.usable) this.guard();
        const status = setReal(component, vrPointer, count, valuePointer) as number;
        if (status > 1) this.check(status, 'fmi2SetReal');
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
    if (!this.capabilities.canGetAndSetFMUState || !this.functions.getFMUstate || !this.functions.setFMUstate || !this.functions.freeFMUstate) {
      throw new FmuError('FMU_UNSUPPORTED', `${this.name}: cannot ${operation}: the FMU does not support getting and setting its state (canGetAndSetFMUstate=false)`);
    }
  }

  getState(reuse?: FmuState): FmuState {
    this.requireStateSupport('save its state');
    if (reuse && (reuse.owner !== this || !this.openStates.has(reuse))) throw new FmuError('FMU_INVALID_VALUE', `${this.name}: that state belongs to another instance or was freed`);
    this.scratchWords[0] = reuse ? reuse.pointer : 0n;
    this.check(this.functions.getFMUstate!(this.component, this.scratch.pointer + 16n), 'fmi2GetFMUstate');
    if (reuse) return reuse;
    const state: FmuState = { owner: this, pointer: this.scratchWords[0]! };
    this.openStates.add(state);
    return state;
  }

  setState(state: FmuState): void {
    this.requireStateSupport('restore a state');
    if (state.owner !== this || !this.openStates.has(state)) throw new FmuError('FMU_INVALID_VALUE', `${this.name}: that state belongs to another instance or was freed`);
    this.check(this.functions.setFMUstate!(this.component, state.pointer), 'fmi2SetFMUstate');
  }

  freeState(state: FmuState): void {
    if (!this.openStates.delete(state)) return;
    if (!this.usable) return;
    this.scratchWords[0] = state.pointer;
    this.check(this.functions.freeFMUstate!(this.component, this.scratch.pointer + 16n), 'fmi2FreeFMUstate');
  }

  serializeState(state: FmuState): Uint8Array {
    this.requireStateSupport('serialize a state');
    if (!this.capabilities.canSerializeFMUState || !this.functions.serializedFMUstateSize || !this.functions.serializeFMUstate) {
      throw new FmuError('FMU_UNSUPPORTED', `${this.name}: the FMU cannot serialize its state (canSerializeFMUstate=false)`);
    }
    this.check(this.functions.serializedFMUstateSize(this.component, state.pointer, this.scratch.pointer + 24n), 'fmi2SerializedFMUstateSize');
    const bytes = new Uint8Array(Number(this.scratchWords[1]));
    this.check(this.functions.serializeFMUstate(this.component, state.pointer, bytes, bytes.length), 'fmi2SerializeFMUstate');
    return bytes;
  }

  deserializeState(bytes: Uint8Array): FmuState {
    this.requireStateSupport('deserialize a state');
    if (!this.capabilities.canSerializeFMUState || !this.functions.deSerializeFMUstate) {
      throw new FmuError('FMU_UNSUPPORTED', `${this.name}: the FMU cannot deserialize a state (canSerializeFMUstate=false)`);
    }
    this.scratchWords[0] = 0n;
    this.check(this.functions.deSerializeFMUstate(this.component, bytes, bytes.length, this.scratch.pointer + 16n), 'fmi2DeSerializeFMUstate');
    const state: FmuState = { owner: this, pointer: this.scratchWords[0]! };
    this.openStates.add(state);
    return state;
  }

  // ---- end of life --------------------------------------------------------------------------------

  terminate(): void {
    this.requireState('terminate', 'step');
    this.check(this.functions.terminate!(this.component), 'fmi2Terminate');
    this.state = 'terminated';
  }

  reset(): void {
    this.guard();
    if (!this.functions.reset) throw new FmuError('FMU_UNSUPPORTED', `${this.name}: the FMU does not export fmi2Reset`);
    this.check(this.functions.reset(this.component), 'fmi2Reset');
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
    this.functions.freeInstance!(this.component);
    this.release();
    this.state = 'freed';
    this.usable = false;
  }

  private release(): void {
    this.callbacks.release();
    unregisterLogHandler(this.environmentId);
    this.scratch.free();
    this.library.forget(this);
  }
}
