// The co-simulation master: several FMUs joined by output-to-input connections, stepped with a
// fixed communication step by Gauss-Seidel or Jacobi.
//
// - Communication points are exact: t_k = t0 + k*h is computed from the integer k, never
//   accumulated, and each step is doStep(t_k, t_{k+1} - t_k), so an FMU that computes its own time
//   as t + h lands exactly on t_{k+1} (the subtraction and the sum are exact in IEEE arithmetic).
// - The order comes from ModelStructure: an FMU whose outputs feed inputs that some output of
//   another FMU depends on directly is stepped (Gauss-Seidel) and read (exchange) first. A cycle of
//   such direct dependencies is an algebraic loop: an error naming the variables, or, with
//   algebraicLoops: 'iterate', the loop's FMUs redo the step from a saved state until their inputs
//   agree with their outputs.
// - Discard: retried with halved steps from a saved state when asked to, otherwise a clear error.
// - Three uses: live stepping (setInput/step/read), what-if (from the current state: FMU state
//   save/restore, else a replay from the start with the recorded inputs) and batch runs.
import { FmuError } from './errors';
import { openFmu, type FmuArchive } from './fmu-archive';
import { loadFmuLibrary } from './fmu-library';
import {
  StepOutcome,
  type CoSimInstance,
  type Float64Port,
  type FmuLibrary,
  type FmuLogMessage,
  type FmuState,
  type InstantiateOptions,
  type VariableValue,
} from './cosim';
import { findVariable, type ModelVariable } from './model-description';
import { IDENTITY, unitConversion, type Conversion } from './units';

// ---- public shapes --------------------------------------------------------------------------------

export interface FmuSpec {
  /** instance name; variables are addressed as "<name>.<variable>" */
  name: string;
  /** path of the .fmu, or an archive opened with openFmu() */
  fmu: string | FmuArchive;
  /** start values set before initialization (parameters, inputs) */
  parameters?: Record<string, VariableValue>;
  /** FMI 3.0 options: eventModeUsed, earlyReturnAllowed; loggingOn */
  instantiate?: Pick<InstantiateOptions, 'eventModeUsed' | 'earlyReturnAllowed' | 'loggingOn'>;
}

export interface Connection {
  /** "<fmu>.<output>" */
  from: string;
  /** "<fmu>.<input>" */
  to: string;
}

export interface SystemSpec {
  fmus: FmuSpec[];
  connections?: Connection[];
}

export type MasterAlgorithm = 'gauss-seidel' | 'jacobi';

export interface MasterOptions {
  /** communication step, s */
  stepSize: number;
  startTime?: number;
  /** leave undefined for open-ended live runs: the FMUs are told no stop time */
  stopTime?: number;
  /** default 'gauss-seidel' */
  algorithm?: MasterAlgorithm;
  /** 'error' (default): refuse algebraic loops; 'iterate': redo the loop's steps until consistent */
  algebraicLoops?: 'error' | 'iterate';
  /** relative tolerance of loop iteration (default 1e-10) */
  loopTolerance?: number;
  /** default 50 */
  maxLoopIterations?: number;
  /** retry discarded steps with halved step sizes from a saved FMU state (default false) */
  retryDiscardedSteps?: boolean;
  /** how often a step may be halved (default 10) */
  maxStepHalvings?: number;
  /** every FMU's log messages */
  logger?: (entry: FmuLogMessage & { fmu: string }) => void;
  /** where .fmu files given as paths are extracted */
  cacheDir?: string;
  /** keep external input changes for what-if replays (default true) */
  recordInputs?: boolean;
}

export interface InputChange {
  /** seconds after the current time (0 = at once) */
  at: number;
  /** "<fmu>.<input>" */
  variable: string;
  value: VariableValue;
}

export interface Limit {
  /** "<fmu>.<variable>" */
  variable: string;
  min?: number;
  max?: number;
}

export interface Violation {
  variable: string;
  bound: 'min' | 'max';
  limit: number;
  value: number;
  /** first communication point where the limit was passed */
  time: number;
}

export interface Trajectory {
  time: Float64Array;
  /** one column per recorded variable, same length as time */
  values: Record<string, Float64Array>;
}

export interface WhatIfRequest {
  /** simulated seconds to run ahead */
  duration: number;
  changes?: InputChange[];
  limits?: Limit[];
  /** variables to record (default: the limit variables and every connected output) */
  record?: string[];
  /** at most this many recorded points (default 2000); the final point is always included */
  maxPoints?: number;
  /** 'auto' (default): restore when every FMU can save its state, else replay */
  method?: 'auto' | 'restore' | 'replay';
}

export interface WhatIfResult {
  verdict: 'safe' | 'unsafe';
  violations: Violation[];
  trajectory: Trajectory;
  startTime: number;
  endTime: number;
  method: 'restore' | 'replay';
  steps: number;
  /** set when an FMU asked to stop before the end */
  terminated?: { fmu: string; time: number };
}

export interface MemberInfo {
  name: string;
  modelName: string;
  fmiVersion: string;
  inputs: { name: string; type: string; unit?: string; connected: boolean }[];
  outputs: { name: string; type: string; unit?: string }[];
  parameters: { name: string; type: string; unit?: string; variability: string }[];
}

// ---- internals -----------------------------------------------------------------------------------

interface Member {
  name: string;
  index: number;
  archive: FmuArchive;
  library: FmuLibrary;
  instance: CoSimInstance;
  canSaveState: boolean;
  /** canHandleVariableCommunicationStepSize=false: always pass exactly stepSize */
  fixedStepSize: boolean;
  /** Float64 inputs that are connection targets */
  inPort: Float64Port | undefined;
  /** Float64 outputs that are connection sources */
  outPort: Float64Port | undefined;
  /** connections from this member: [start, end) into the connection arrays */
  connectionStart: number;
  connectionEnd: number;
  /** connections of other types (integers, Float32, Boolean, String), handled by value */
  otherConnections: { from: ModelVariable; to: { member: Member; variable: ModelVariable }; conversion: Conversion }[];
  /** input name -> source, for refusing external writes to connected inputs */
  connectedInputs: Map<string, string>;
  /** saved before each step for Discard retries and loop iteration */
  retryState: FmuState | undefined;
  /** member indices of its algebraic loop, when iterating */
  loop: number[] | undefined;
}

interface OutputNode {
  member: number;
  variable: ModelVariable;
  /** indices of output nodes that must be read before this one */
  dependsOn: Set<number>;
}

/** A member or an algebraic loop (several members), the unit of stepping and of exchange. */
interface Unit {
  members: number[];
  loop: boolean;
}

function parsePath(text: string, what: string): { fmu: string; variable: string } {
  const dot = typeof text === 'string' ? text.indexOf('.') : -1;
  if (dot <= 0 || dot === text.length - 1) {
    throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: "${String(text)}" is not "<fmu>.<variable>"`);
  }
  return { fmu: text.slice(0, dot), variable: text.slice(dot + 1) };
}

function checkFinite(value: number | undefined, name: string, positive = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive && value <= 0)) {
    throw new FmuError('MASTER_USAGE', `${name}: ${String(value)} must be a finite number${positive ? ' above 0' : ''}`);
  }
}

export class CoSimulation {
  readonly stepSize: number;
  readonly startTime: number;
  readonly stopTime: number | undefined;
  readonly algorithm: MasterAlgorithm;
  /** the members in declaration order */
  private readonly members: Member[] = [];
  private readonly byName = new Map<string, Member>();
  /** stepping units in Gauss-Seidel order (loops contracted) */
  private units: Unit[] = [];
  /** member reads of the exchange, in dependency order */
  private exchangeSchedule: Unit[] = [];
  // Float64 connections, grouped by source member.
  private sourceSlot = new Int32Array(0);
  private targetMember = new Int32Array(0);
  private targetSlot = new Int32Array(0);
  private scale = new Float64Array(0);
  private offset = new Float64Array(0);
  private identity = new Uint8Array(0);
  private dirty = new Uint8Array(0);
  private k = 0;
  private freed = false;
  private failed: FmuError | undefined;
  private terminatedBy: { fmu: string; time: number } | undefined;
  private noSetPrior = true;
  /** set by stepTo(): the run ended on stopTime */
  private finalTime: number | undefined;
  private readonly loopTolerance: number;
  private readonly maxLoopIterations: number;
  private readonly retryDiscardedSteps: boolean;
  private readonly maxStepHalvings: number;
  private readonly recordInputs: boolean;
  /** external input changes with the step index they were applied at (for what-if replays) */
  private readonly inputLog: { step: number; variable: string; value: VariableValue }[] = [];
  /** statistics */
  discardedSteps = 0;
  loopIterations = 0;
  earlyReturns = 0;

  private constructor(
    private readonly system: SystemSpec,
    private readonly options: MasterOptions,
  ) {
    checkFinite(options.stepSize, 'stepSize', true);
    checkFinite(options.startTime, 'startTime');
    checkFinite(options.stopTime, 'stopTime');
    this.stepSize = options.stepSize;
    this.startTime = options.startTime ?? 0;
    this.stopTime = options.stopTime;
    if (this.stopTime !== undefined && this.stopTime < this.startTime) {
      throw new FmuError('MASTER_USAGE', `stopTime: ${this.stopTime} is before startTime ${this.startTime}`);
    }
    this.algorithm = options.algorithm ?? 'gauss-seidel';
    if (this.algorithm !== 'gauss-seidel' && this.algorithm !== 'jacobi') {
      throw new FmuError('MASTER_USAGE', `algorithm: "${String(this.algorithm)}" is not gauss-seidel or jacobi`);
    }
    this.loopTolerance = options.loopTolerance ?? 1e-10;
    this.maxLoopIterations = options.maxLoopIterations ?? 50;
    this.retryDiscardedSteps = options.retryDiscardedSteps ?? false;
    this.maxStepHalvings = options.maxStepHalvings ?? 10;
    this.recordInputs = options.recordInputs ?? true;
  }

  /** Opens, loads, instantiates and initializes every FMU; returns a master at startTime. */
  static async create(system: SystemSpec, options: MasterOptions): Promise<CoSimulation> {
    const archives = await Promise.all(
      (system.fmus ?? []).map((spec) => (typeof spec.fmu === 'string' ? openFmu(spec.fmu, { cacheDir: options.cacheDir }) : spec.fmu)),
    );
    return CoSimulation.createFromArchives(system, archives, options);
  }

  /** Like create(), with the archives already open (synchronous). */
  static createFromArchives(system: SystemSpec, archives: FmuArchive[], options: MasterOptions): CoSimulation {
    const simulation = new CoSimulation(system, options);
    try {
      simulation.setUp(archives);
    } catch (err) {
      simulation.free();
      throw err;
    }
    return simulation;
  }

  // ---- set-up -----------------------------------------------------------------------------------

  private setUp(archives: FmuArchive[]): void {
    const specs = this.system.fmus ?? [];
    if (specs.length === 0) throw new FmuError('MASTER_INVALID_SYSTEM', 'fmus: the system has no FMU');
    specs.forEach((spec, index) => {
      if (typeof spec.name !== 'string' || !/^[A-Za-z_][\w-]*$/.test(spec.name)) {
        throw new FmuError('MASTER_INVALID_SYSTEM', `fmus[${index}].name: "${String(spec.name)}" must be a name without dots or spaces`);
      }
      if (this.byName.has(spec.name)) throw new FmuError('MASTER_INVALID_SYSTEM', `fmus[${index}].name: "${spec.name}" is used twice`);
      const archive = archives[index]!;
      const library = loadFmuLibrary(archive);
      let instance: CoSimInstance;
      try {
        const logger = this.options.logger;
        instance = library.instantiate(spec.name, {
          ...spec.instantiate,
          ...(logger && { logger: (message: FmuLogMessage) => logger({ ...message, fmu: spec.name }) }),
        });
      } catch (err) {
        library.unload();
        throw err;
      }
      const member: Member = {
        name: spec.name,
        index,
        archive,
        library,
        instance,
        canSaveState: instance.capabilities.canGetAndSetFMUState,
        fixedStepSize: !instance.capabilities.canHandleVariableCommunicationStepSize,
        inPort: undefined,
        outPort: undefined,
        connectionStart: 0,
        connectionEnd: 0,
        otherConnections: [],
        connectedInputs: new Map(),
        retryState: undefined,
        loop: undefined,
      };
      this.members.push(member);
      this.byName.set(spec.name, member);
    });
    this.compileConnections();
    this.compileOrder();
    this.initialize();
  }

  private member(name: string, what: string): Member {
    const member = this.byName.get(name);
    if (!member) {
      throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: no FMU named "${name}" (the system has ${[...this.byName.keys()].join(', ')})`);
    }
    return member;
  }

  private resolve(text: string, what: string): { member: Member; variable: ModelVariable } {
    const { fmu, variable } = parsePath(text, what);
    const member = this.member(fmu, what);
    return { member, variable: findVariable(member.instance.description, variable, `${what}: ${fmu}`) };
  }

  private compileConnections(): void {
    const connections = this.system.connections ?? [];
    interface Compiled { from: Member; fromVar: ModelVariable; to: Member; toVar: ModelVariable; scale: number; offset: number; identity: boolean }
    const floats: Compiled[] = [];
    const inputsSeen = new Map<string, string>();
    connections.forEach((connection, index) => {
      const what = `connections[${index}]`;
      if (!connection || typeof connection !== 'object') throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: must be { from, to }`);
      const source = this.resolve(connection.from, `${what}.from`);
      const target = this.resolve(connection.to, `${what}.to`);
      const label = `${connection.from} -> ${connection.to}`;
      if (source.variable.causality !== 'output') {
        throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: ${connection.from} is ${source.variable.causality}, not an output`);
      }
      if (target.variable.causality !== 'input') {
        throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: ${connection.to} is ${target.variable.causality}, not an input`);
      }
      if (source.variable.dimensions || target.variable.dimensions) {
        throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: ${label} joins array variables; connect scalars`);
      }
      const previous = inputsSeen.get(connection.to);
      if (previous) throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: ${connection.to} is already fed by ${previous}`);
      inputsSeen.set(connection.to, connection.from);
      target.member.connectedInputs.set(target.variable.name, connection.from);
      const fromType = source.variable.accessType;
      const toType = target.variable.accessType;
      const numericToFloat = (toType === 'Float64' || toType === 'Float32') && /^(Float|Int|UInt)/.test(fromType);
      if (fromType !== toType && !numericToFloat) {
        throw new FmuError('MASTER_INVALID_SYSTEM', `${what}: ${label} joins a ${source.variable.type} output to a ${target.variable.type} input`);
      }
      const conversion = /^(Float|Int|UInt)/.test(fromType)
        ? unitConversion(source.member.instance.description, source.variable, target.member.instance.description, target.variable, label)
        : IDENTITY;
      if (fromType === 'Float64' && toType === 'Float64') {
        floats.push({ from: source.member, fromVar: source.variable, to: target.member, toVar: target.variable, ...conversion });
        return;
      }
      if (!conversion.identity && !(toType === 'Float64' || toType === 'Float32')) {
        throw new FmuError('MASTER_UNIT_MISMATCH', `${what}: ${label} needs a unit conversion, which an integer input cannot take`);
      }
      source.member.otherConnections.push({ from: source.variable, to: { member: target.member, variable: target.variable }, conversion });
    });

    // Ports and connection arrays, grouped by source member.
    const inputsOf = new Map<Member, ModelVariable[]>();
    const outputsOf = new Map<Member, ModelVariable[]>();
    for (const c of floats) {
      const inputs = inputsOf.get(c.to) ?? [];
      inputs.push(c.toVar);
      inputsOf.set(c.to, inputs);
      const outputs = outputsOf.get(c.from) ?? [];
      if (!outputs.includes(c.fromVar)) outputs.push(c.fromVar);
      outputsOf.set(c.from, outputs);
    }
    for (const member of this.members) {
      const inputs = inputsOf.get(member);
      const outputs = outputsOf.get(member);
      if (inputs) member.inPort = member.instance.createFloat64Port(inputs.map((v) => v.name));
      if (outputs) member.outPort = member.instance.createFloat64Port(outputs.map((v) => v.name));
    }
    const ordered = [...floats].sort((a, b) => a.from.index - b.from.index);
    const n = ordered.length;
    this.sourceSlot = new Int32Array(n);
    this.targetMember = new Int32Array(n);
    this.targetSlot = new Int32Array(n);
    this.scale = new Float64Array(n);
    this.offset = new Float64Array(n);
    this.identity = new Uint8Array(n);
    this.dirty = new Uint8Array(this.members.length);
    ordered.forEach((c, i) => {
      this.sourceSlot[i] = c.from.outPort!.variables.indexOf(c.fromVar);
      this.targetMember[i] = c.to.index;
      this.targetSlot[i] = c.to.inPort!.variables.indexOf(c.toVar);
      this.scale[i] = c.scale;
      this.offset[i] = c.offset;
      this.identity[i] = c.identity ? 1 : 0;
    });
    for (const member of this.members) {
      member.connectionStart = ordered.findIndex((c) => c.from === member);
      if (member.connectionStart < 0) member.connectionStart = n;
      member.connectionEnd = member.connectionStart;
      while (member.connectionEnd < n && ordered[member.connectionEnd]!.from === member) member.connectionEnd++;
    }
  }

  /** Which inputs of `member` the output `variable` depends on directly. */
  private feedthrough(member: Member, variable: ModelVariable): ModelVariable[] {
    const entry = member.instance.description.outputs.find((o) => o.variable === variable);
    if (!entry || entry.inputs === 'all') return member.instance.description.variables.filter((v) => v.causality === 'input');
    return entry.inputs;
  }

  /** Orders reads and steps from the direct dependencies; finds algebraic loops. */
  private compileOrder(): void {
    // Output nodes: every output that feeds a connection.
    const nodes: OutputNode[] = [];
    const nodeOf = new Map<string, number>();
    const key = (member: Member, variable: ModelVariable): string => `${member.index}:${variable.name}`;
    const connections = (this.system.connections ?? []).map((c) => ({ from: this.resolve(c.from, 'connection'), to: this.resolve(c.to, 'connection') }));
    for (const { from } of connections) {
      const k = key(from.member, from.variable);
      if (!nodeOf.has(k)) {
        nodeOf.set(k, nodes.length);
        nodes.push({ member: from.member.index, variable: from.variable, dependsOn: new Set() });
      }
    }
    // Edge a -> b when a feeds an input that b depends on directly.
    for (const { from, to } of connections) {
      const a = nodeOf.get(key(from.member, from.variable))!;
      for (const [index, node] of nodes.entries()) {
        if (node.member !== to.member.index) continue;
        if (this.feedthrough(to.member, node.variable).includes(to.variable)) nodes[index]!.dependsOn.add(a);
      }
    }
    const loops = stronglyConnected(nodes.length, (i) => nodes[i]!.dependsOn).filter(
      (component) => component.length > 1 || nodes[component[0]!]!.dependsOn.has(component[0]!),
    );
    const loopOfMember = new Map<number, number[]>();
    for (const component of loops) {
      const cycle = describeCycle(component, nodes, this.members, connections, (member, output, input) => this.feedthrough(member, output).includes(input));
      if (this.options.algebraicLoops !== 'iterate') {
        throw new FmuError(
          'MASTER_ALGEBRAIC_LOOP',
          `algebraic loop: ${cycle} (each output depends directly on the input before it). Break it with an FMU ` +
            "without direct feedthrough (a delay or a state), or set algebraicLoops: 'iterate' if the FMUs can save and restore their state.",
        );
      }
      const memberIndices = [...new Set(component.map((i) => nodes[i]!.member))].sort((a, b) => a - b);
      const unable = memberIndices.map((i) => this.members[i]!).filter((m) => !m.canSaveState);
      if (unable.length > 0) {
        throw new FmuError(
          'MASTER_ALGEBRAIC_LOOP',
          `algebraic loop: ${cycle} cannot be iterated: ${unable.map((m) => m.name).join(', ')} cannot save and restore ${unable.length > 1 ? 'their' : 'its'} state`,
        );
      }
      // Loops sharing a member merge into one.
      const merged = new Set(memberIndices);
      for (const i of memberIndices) for (const j of loopOfMember.get(i) ?? []) merged.add(j);
      const all = [...merged].sort((a, b) => a - b);
      for (const i of all) loopOfMember.set(i, all);
    }
    for (const [index, loop] of loopOfMember) this.members[index]!.loop = loop;

    // Units: members, with each loop contracted to one unit.
    const unitOf = new Map<number, Unit>();
    const units: Unit[] = [];
    for (const member of this.members) {
      if (unitOf.has(member.index)) continue;
      const unit: Unit = member.loop ? { members: member.loop, loop: true } : { members: [member.index], loop: false };
      units.push(unit);
      for (const i of unit.members) unitOf.set(i, unit);
    }
    // Unit-level edges from node edges.
    const unitEdges = new Map<Unit, Set<Unit>>(units.map((u) => [u, new Set<Unit>()]));
    for (const node of nodes) {
      const to = unitOf.get(node.member)!;
      for (const dependency of node.dependsOn) {
        const from = unitOf.get(nodes[dependency]!.member)!;
        if (from !== to) unitEdges.get(to)!.add(from);
      }
    }
    this.units = topologicalOrder(units, (u) => unitEdges.get(u)!);

    // Exchange schedule: read a unit once all units it depends on were read; a unit whose outputs
    // do not all become ready together is read again later (see exchange()).
    const remaining = new Set(nodes.map((_, i) => i));
    const emitted = new Set<number>();
    const schedule: Unit[] = [];
    while (remaining.size > 0) {
      const ready = [...remaining].filter((i) => [...nodes[i]!.dependsOn].every((d) => emitted.has(d) || unitOf.get(nodes[d]!.member) === unitOf.get(nodes[i]!.member)));
      const candidates = units.filter((u) => ready.some((i) => unitOf.get(nodes[i]!.member) === u));
      // Prefer a unit all of whose remaining outputs are ready: one read covers it.
      const complete = candidates.find((u) => [...remaining].filter((i) => unitOf.get(nodes[i]!.member) === u).every((i) => ready.includes(i)));
      const chosen = complete ?? candidates[0];
      if (!chosen) break; // cannot happen: loops are contracted
      schedule.push(chosen);
      for (const i of ready) {
        if (unitOf.get(nodes[i]!.member) === chosen) {
          remaining.delete(i);
          emitted.add(i);
        }
      }
    }
    // Members with connections of other types but no Float64 outputs still need their turn.
    for (const unit of units) {
      if (!schedule.includes(unit) && unit.members.some((i) => this.members[i]!.otherConnections.length > 0)) schedule.push(unit);
    }
    this.exchangeSchedule = schedule;
  }

  private initialize(): void {
    const experiment = { startTime: this.startTime, ...(this.stopTime !== undefined && { stopTime: this.stopTime }) };
    for (const [index, spec] of (this.system.fmus ?? []).entries()) {
      const member = this.members[index]!;
      for (const [name, value] of Object.entries(spec.parameters ?? {})) {
        if (member.connectedInputs.has(name)) {
          throw new FmuError('MASTER_INVALID_SYSTEM', `fmus[${index}].parameters.${name}: ${spec.name}.${name} is fed by ${member.connectedInputs.get(name)}`);
        }
        member.instance.setValue(name, value);
      }
    }
    for (const member of this.members) member.instance.enterInitializationMode(experiment);
    // Consistent inputs before and after leaving initialization mode.
    this.exchange();
    for (const member of this.members) member.instance.exitInitializationMode();
    this.exchange();
  }

  // ---- the step -----------------------------------------------------------------------------------

  /** Current communication point t0 + k*h. */
  get time(): number {
    return this.finalTime ?? this.startTime + this.k * this.stepSize;
  }

  /** Communication steps taken. */
  get steps(): number {
    return this.k;
  }

  /** The Gauss-Seidel stepping order: each entry one FMU, or the FMUs of an algebraic loop. */
  get order(): string[][] {
    return this.units.map((unit) => unit.members.map((i) => this.members[i]!.name));
  }

  /** Set when an FMU asked to stop the simulation. */
  get terminated(): { fmu: string; time: number } | undefined {
    return this.terminatedBy;
  }

  private ensureUsable(): void {
    if (this.freed) throw new FmuError('MASTER_USAGE', 'the co-simulation was freed');
    if (this.failed) throw new FmuError(this.failed.code, `the co-simulation stopped at t=${this.time}: ${this.failed.message}`);
    if (this.finalTime !== undefined) throw new FmuError('MASTER_USAGE', `the run already ended at stopTime ${this.finalTime}`);
    if (this.terminatedBy) {
      throw new FmuError('FMU_TERMINATED', `${this.terminatedBy.fmu} asked to terminate the simulation at t=${this.terminatedBy.time}`);
    }
  }

  /** Advances one communication step (or n). */
  step(count = 1): void {
    this.ensureUsable();
    for (let i = 0; i < count; i++) {
      const t = this.startTime + this.k * this.stepSize;
      const next = this.startTime + (this.k + 1) * this.stepSize;
      if (this.stopTime !== undefined && next > this.stopTime + 1e-9 * this.stepSize) {
        throw new FmuError('MASTER_USAGE', `cannot step past stopTime ${this.stopTime} (at t=${t})`);
      }
      try {
        if (this.algorithm === 'jacobi') this.stepJacobi(t, next);
        else this.stepGaussSeidel(t, next);
      } catch (err) {
        this.failed = err instanceof FmuError ? err : new FmuError('MASTER_USAGE', (err as Error).message, { cause: err });
        throw err;
      }
      this.k++;
      if (this.terminatedBy) return;
    }
  }

  /**
   * The last, shorter step of a run whose stopTime is not a whole number of steps from startTime:
   * lands exactly on stopTime. No step is possible after it.
   */
  stepTo(time: number): void {
    this.ensureUsable();
    const t = this.time;
    const next = this.startTime + (this.k + 1) * this.stepSize;
    if (this.stopTime === undefined || time !== this.stopTime || !(time > t) || time > next) {
      throw new FmuError('MASTER_USAGE', `stepTo: only a final step to stopTime (${this.stopTime}) shorter than one step is allowed (at t=${t})`);
    }
    try {
      if (this.algorithm === 'jacobi') this.stepJacobi(t, time);
      else this.stepGaussSeidel(t, time);
    } catch (err) {
      this.failed = err instanceof FmuError ? err : new FmuError('MASTER_USAGE', (err as Error).message, { cause: err });
      throw err;
    }
    this.k++;
    this.finalTime = time;
  }

  /** Steps while the next communication point is at or before `time`. */
  advanceTo(time: number): number {
    checkFinite(time, 'time');
    let taken = 0;
    while (!this.terminatedBy && this.startTime + (this.k + 1) * this.stepSize <= time + 1e-9 * this.stepSize) {
      this.step();
      taken++;
    }
    return taken;
  }

  private stepGaussSeidel(t: number, next: number): void {
    const members = this.members;
    for (const unit of this.units) {
      if (unit.loop) {
        this.stepLoop(unit, t, next);
        for (const index of unit.members) this.propagate(members[index]!);
        continue;
      }
      const member = members[unit.members[0]!]!;
      if (this.dirty[member.index] !== 0) {
        member.inPort!.write();
        this.dirty[member.index] = 0;
      }
      this.stepMember(member, t, next);
      if (member.outPort !== undefined) member.outPort.read();
      this.propagate(member);
    }
  }

  private stepJacobi(t: number, next: number): void {
    const members = this.members;
    for (const unit of this.units) {
      if (unit.loop) continue;
      this.stepMember(members[unit.members[0]!]!, t, next);
    }
    for (const unit of this.units) if (unit.loop) this.stepLoop(unit, t, next);
    this.exchange();
  }

  /** Reads outputs in dependency order and writes them to the inputs they feed. */
  private exchange(): void {
    const members = this.members;
    for (const unit of this.exchangeSchedule) {
      if (unit.loop) {
        this.solveLoop(unit);
        continue;
      }
      const member = members[unit.members[0]!]!;
      if (this.dirty[member.index] !== 0) {
        member.inPort!.write();
        this.dirty[member.index] = 0;
      }
      if (member.outPort !== undefined) member.outPort.read();
      this.propagate(member);
    }
    this.flushInputs();
  }

  private flushInputs(): void {
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      if (dirty[i] !== 0) {
        this.members[i]!.inPort!.write();
        dirty[i] = 0;
      }
    }
  }

  /** Copies this member's outputs (already read) into the input values of the members they feed. */
  private propagate(member: Member): void {
    const end = member.connectionEnd;
    if (member.connectionStart < end) {
      const source = member.outPort!.values;
      const members = this.members;
      for (let c = member.connectionStart; c < end; c++) {
        const x = source[this.sourceSlot[c]!]!;
        const y = this.identity[c] !== 0 ? x : this.scale[c]! * x + this.offset[c]!;
        const target = this.targetMember[c]!;
        const values = members[target]!.inPort!.values;
        const slot = this.targetSlot[c]!;
        if (values[slot] !== y) {
          values[slot] = y;
          this.dirty[target] = 1;
        }
      }
    }
    const others = member.otherConnections;
    for (let i = 0; i < others.length; i++) {
      const other = others[i]!;
      let value = member.instance.getValue(other.from.name);
      if (!other.conversion.identity) value = other.conversion.scale * Number(value) + other.conversion.offset;
      else if (typeof value === 'bigint' && other.to.variable.accessType.startsWith('Float')) value = Number(value);
      other.to.member.instance.setValue(other.to.variable.name, value);
    }
  }

  /** One FMU over [t, next]: Discard retries, early returns and FMI 3.0 event handling. */
  private stepMember(member: Member, t: number, next: number): void {
    const instance = member.instance;
    const retry = this.retryDiscardedSteps && member.canSaveState;
    if (retry) member.retryState = instance.getState(member.retryState);
    // next - t lands the FMU exactly on next; an FMU that cannot take varying steps gets the step
    // size itself (they differ in the last bits only).
    let outcome = instance.doStep(t, member.fixedStepSize ? this.fixedStep(t, next) : next - t, this.noSetPrior);
    if (outcome === StepOutcome.Completed) {
      if (instance.eventHandlingNeeded) instance.handleEvents();
      if (instance.terminateRequested) this.terminatedBy ??= { fmu: member.name, time: next };
      return;
    }
    let now = t;
    for (let guard = 0; guard < 1_000_000; guard++) {
      if (outcome === StepOutcome.Completed) break;
      if (outcome === StepOutcome.ReturnedEarly) {
        // Stopped at an event inside the step: handle it, then finish the interval.
        this.earlyReturns++;
        now = instance.lastSuccessfulTime;
        if (instance.eventHandlingNeeded) instance.handleEvents();
        if (instance.terminateRequested) break;
        outcome = instance.doStep(now, next - now, this.noSetPrior);
        continue;
      }
      // Discarded.
      this.discardedSteps++;
      if (!retry) {
        const why = instance.terminateRequested ? 'and asked to terminate' : `after reaching t=${instance.lastSuccessfulTime}`;
        throw new FmuError(
          'FMU_DISCARD',
          `${member.name} discarded the step from t=${now} (step ${next - now}) ${why}. ` +
            (member.canSaveState
              ? 'Set retryDiscardedSteps to retry with smaller steps, or use a smaller stepSize.'
              : 'It cannot save and restore its state, so the step cannot be retried: use a smaller stepSize.'),
        );
      }
      instance.setState(member.retryState!);
      this.subdivide(member, now, next, 1);
      outcome = StepOutcome.Completed;
    }
    if (instance.eventHandlingNeeded) instance.handleEvents();
    if (instance.terminateRequested) this.terminatedBy ??= { fmu: member.name, time: instance.lastSuccessfulTime };
  }

  private fixedStep(t: number, next: number): number {
    const exact = next - t;
    return Math.abs(exact - this.stepSize) <= 1e-9 * this.stepSize ? this.stepSize : exact;
  }

  /** Retries [from, to] in two halves (recursively), inputs held; the state is at `from`. */
  private subdivide(member: Member, from: number, to: number, depth: number): void {
    const instance = member.instance;
    if (depth > this.maxStepHalvings) {
      throw new FmuError('FMU_DISCARD', `${member.name} discarded the step from t=${from} even after ${this.maxStepHalvings} halvings (step ${to - from})`);
    }
    const middle = from + (to - from) / 2;
    for (const [start, end] of [[from, middle], [middle, to]] as const) {
      const saved = instance.getState(member.retryState);
      const outcome = instance.doStep(start, end - start, this.noSetPrior);
      if (outcome === StepOutcome.Discarded) {
        this.discardedSteps++;
        instance.setState(saved);
        this.subdivide(member, start, end, depth + 1);
      } else if (outcome === StepOutcome.ReturnedEarly) {
        // An event inside a retried piece: finish the piece from there.
        if (instance.eventHandlingNeeded) instance.handleEvents();
        this.subdivide(member, instance.lastSuccessfulTime, end, depth);
      } else if (instance.eventHandlingNeeded) {
        instance.handleEvents();
      }
    }
  }

  /** Steps an algebraic loop's FMUs from saved states until their inputs agree with their outputs. */
  private stepLoop(unit: Unit, t: number, next: number): void {
    const members = unit.members.map((i) => this.members[i]!);
    for (const member of members) {
      if (this.dirty[member.index] !== 0) {
        member.inPort!.write();
        this.dirty[member.index] = 0;
      }
      member.retryState = member.instance.getState(member.retryState);
    }
    let used = members.map((m) => Float64Array.from(m.inPort?.values ?? []));
    for (let iteration = 0; iteration < this.maxLoopIterations; iteration++) {
      this.loopIterations++;
      for (const member of members) this.stepMember(member, t, next);
      this.solveLoop(unit);
      const now = members.map((m) => Float64Array.from(m.inPort?.values ?? []));
      if (maxRelativeChange(used, now) <= this.loopTolerance) return;
      // Redo the step with the new inputs.
      for (const member of members) {
        member.instance.setState(member.retryState!);
        member.inPort?.write();
      }
      used = now;
    }
    throw new FmuError('MASTER_NOT_CONVERGED', `the algebraic loop of ${members.map((m) => m.name).join(', ')} did not converge in ${this.maxLoopIterations} iterations at t=${t}`);
  }

  /** Fixed-point iteration of a loop's outputs and inputs at the current communication point. */
  private solveLoop(unit: Unit): void {
    const members = unit.members.map((i) => this.members[i]!);
    let previous = members.map((m) => Float64Array.from(m.outPort?.values ?? []));
    for (let iteration = 0; iteration < this.maxLoopIterations; iteration++) {
      for (const member of members) {
        if (this.dirty[member.index] !== 0) {
          member.inPort!.write();
          this.dirty[member.index] = 0;
        }
        member.outPort?.read();
        this.propagate(member);
      }
      const current = members.map((m) => Float64Array.from(m.outPort?.values ?? []));
      const change = maxRelativeChange(previous, current);
      previous = current;
      if (change <= this.loopTolerance && iteration > 0) return;
    }
    throw new FmuError('MASTER_NOT_CONVERGED', `the algebraic loop of ${members.map((m) => m.name).join(', ')} did not converge in ${this.maxLoopIterations} iterations at t=${this.time}`);
  }

  // ---- live access --------------------------------------------------------------------------------

  /** Sets an input (or tunable parameter) that no connection feeds; applied from the next step on. */
  setInput(variablePath: string, value: VariableValue): void {
    this.ensureUsable();
    const { member, variable } = this.resolve(variablePath, 'setInput');
    const source = member.connectedInputs.get(variable.name);
    if (source) throw new FmuError('MASTER_USAGE', `setInput: ${variablePath} is fed by ${source}; it cannot be set from outside`);
    if (variable.causality !== 'input' && !(variable.causality === 'parameter' && variable.variability === 'tunable')) {
      throw new FmuError('MASTER_USAGE', `setInput: ${variablePath} is a ${variable.variability} ${variable.causality}, not an input or tunable parameter`);
    }
    member.instance.setValue(variable.name, value);
    if (this.recordInputs) this.inputLog.push({ step: this.k, variable: variablePath, value });
  }

  setInputs(values: Record<string, VariableValue>): void {
    for (const [name, value] of Object.entries(values)) this.setInput(name, value);
  }

  /** Current value of any variable ("<fmu>.<variable>"), consistent with the inputs set so far. */
  read(variablePath: string): VariableValue {
    this.ensureUsable();
    this.flushInputs();
    const { member, variable } = this.resolve(variablePath, 'read');
    return member.instance.getValue(variable.name);
  }

  readMany(variablePaths: readonly string[]): Record<string, VariableValue> {
    return Object.fromEntries(variablePaths.map((p) => [p, this.read(p)]));
  }

  /** The instance behind a member (for advanced use; do not free it). */
  instance(name: string): CoSimInstance {
    return this.member(name, 'instance').instance;
  }

  /** Names, types and units of every FMU's inputs, outputs and parameters. */
  describe(): MemberInfo[] {
    return this.members.map((member) => {
      const d = member.instance.description;
      const pick = (v: ModelVariable) => ({ name: v.name, type: v.type, ...(v.unit !== undefined && { unit: v.unit }) });
      return {
        name: member.name,
        modelName: d.modelName,
        fmiVersion: d.fmiVersion,
        inputs: d.variables.filter((v) => v.causality === 'input').map((v) => ({ ...pick(v), connected: member.connectedInputs.has(v.name) })),
        outputs: d.variables.filter((v) => v.causality === 'output').map(pick),
        parameters: d.variables.filter((v) => v.causality === 'parameter').map((v) => ({ ...pick(v), variability: v.variability })),
      };
    });
  }

  /** Every FMU can save and restore its state (what-if by restore is possible). */
  get canSaveState(): boolean {
    return this.members.every((m) => m.canSaveState);
  }

  // ---- recording and limits (what-if and batch) ---------------------------------------------------------

  /** A reader of scalar numeric variables, preallocated; Float64 through ports, others by value. */
  createRecorder(variablePaths: readonly string[]): { read(into: Float64Array): void; dispose(): void } {
    const resolved = variablePaths.map((p) => this.resolve(p, 'record'));
    for (const { member, variable } of resolved) {
      if (variable.dimensions || !['Float64', 'Float32', 'Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Boolean'].includes(variable.accessType)) {
        throw new FmuError('MASTER_USAGE', `record: ${member.name}.${variable.name} is a ${variable.type}${variable.dimensions ? ' array' : ''}; only numeric and boolean scalars can be recorded`);
      }
    }
    const ports: { port: Float64Port; slots: number[] }[] = [];
    const others: { member: Member; variable: ModelVariable; slot: number }[] = [];
    for (const member of this.members) {
      const mine = resolved.map((r, slot) => ({ ...r, slot })).filter((r) => r.member === member);
      const floats = mine.filter((r) => r.variable.accessType === 'Float64');
      if (floats.length > 0) ports.push({ port: member.instance.createFloat64Port(floats.map((r) => r.variable.name)), slots: floats.map((r) => r.slot) });
      for (const r of mine.filter((x) => x.variable.accessType !== 'Float64')) others.push({ member, variable: r.variable, slot: r.slot });
    }
    return {
      read: (into: Float64Array) => {
        this.flushInputs();
        for (const { port, slots } of ports) {
          port.read();
          const values = port.values;
          for (let i = 0; i < slots.length; i++) into[slots[i]!] = values[i]!;
        }
        for (const { member, variable, slot } of others) {
          const value = member.instance.getValue(variable.name);
          into[slot] = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value as number | bigint);
        }
      },
      dispose: () => {
        for (const { port } of ports) port.dispose();
      },
    };
  }

  /** Every scalar Float64 output plus the limit variables: what a what-if records by default. */
  defaultRecord(limits: readonly Limit[] = []): string[] {
    const names = new Set(limits.map((l) => l.variable));
    for (const member of this.members) {
      for (const v of member.instance.description.variables) if (v.causality === 'output' && v.accessType === 'Float64' && !v.dimensions) names.add(`${member.name}.${v.name}`);
    }
    return [...names];
  }

  // ---- what-if ------------------------------------------------------------------------------------------

  /**
   * Runs `duration` seconds ahead from the current state as fast as possible, with the given
   * input changes, and says whether every limit held. The live simulation is left as it was.
   */
  async whatIf(request: WhatIfRequest): Promise<WhatIfResult> {
    this.ensureUsable();
    checkFinite(request.duration, 'duration', true);
    const method = request.method ?? 'auto';
    if (method === 'restore' && !this.canSaveState) {
      const unable = this.members.filter((m) => !m.canSaveState).map((m) => m.name);
      throw new FmuError('FMU_UNSUPPORTED', `whatIf: cannot restore: ${unable.join(', ')} cannot save and restore state; use method 'replay'`);
    }
    if (method === 'restore' || (method === 'auto' && this.canSaveState)) return this.whatIfByRestore(request);
    return this.whatIfByReplay(request);
  }

  private saveAll(): () => void {
    const states = this.members.map((m) => m.instance.getState());
    const inputs = this.members.map((m) => (m.inPort ? Float64Array.from(m.inPort.values) : undefined));
    const outputs = this.members.map((m) => (m.outPort ? Float64Array.from(m.outPort.values) : undefined));
    const dirty = Uint8Array.from(this.dirty);
    const k = this.k;
    const logLength = this.inputLog.length;
    const counters = [this.discardedSteps, this.loopIterations, this.earlyReturns];
    return () => {
      this.k = k;
      this.inputLog.length = logLength;
      [this.discardedSteps, this.loopIterations, this.earlyReturns] = counters as [number, number, number];
      const broken = this.members.find((member) => !member.instance.usable);
      if (broken) {
        // An FMU failed during the run: FMI allows only freeing it, so the live run cannot go on.
        throw new FmuError('FMU_INSTANCE_UNUSABLE', `the what-if run left ${broken.name} unusable, so the live simulation cannot be restored`);
      }
      this.members.forEach((member, i) => {
        member.instance.setState(states[i]!);
        member.instance.freeState(states[i]!);
        if (member.inPort) member.inPort.values.set(inputs[i]!);
        if (member.outPort) member.outPort.values.set(outputs[i]!);
      });
      this.dirty.set(dirty);
      this.terminatedBy = undefined;
      this.failed = undefined;
    };
  }

  private whatIfByRestore(request: WhatIfRequest): WhatIfResult {
    const restore = this.saveAll();
    // States from before the current point will be set again: tell the FMUs.
    this.noSetPrior = false;
    let result: WhatIfResult | undefined;
    let failure: unknown;
    try {
      result = { ...this.runAhead(request), method: 'restore' };
    } catch (err) {
      failure = err;
    }
    this.noSetPrior = true;
    try {
      restore();
    } catch (err) {
      this.failed ??= err instanceof FmuError ? err : new FmuError('MASTER_USAGE', String(err));
      failure ??= err;
    }
    if (failure !== undefined || !result) throw failure;
    return result;
  }

  private async whatIfByReplay(request: WhatIfRequest): Promise<WhatIfResult> {
    const archives = this.members.map((m) => m.archive);
    const shadow = CoSimulation.createFromArchives(this.system, archives, { ...this.options, logger: undefined, recordInputs: false });
    try {
      let applied = 0;
      while (shadow.k < this.k) {
        while (applied < this.inputLog.length && this.inputLog[applied]!.step <= shadow.k) {
          const entry = this.inputLog[applied++]!;
          shadow.setInput(entry.variable, entry.value);
        }
        shadow.step();
      }
      while (applied < this.inputLog.length) {
        const entry = this.inputLog[applied++]!;
        shadow.setInput(entry.variable, entry.value);
      }
      return { ...shadow.runAhead(request), method: 'replay' };
    } finally {
      shadow.free();
    }
  }

  /** The what-if run itself, from the current state (which it changes). */
  private runAhead(request: WhatIfRequest): Omit<WhatIfResult, 'method'> {
    const h = this.stepSize;
    const startStep = this.k;
    const startTime = this.time;
    const steps = Math.max(1, Math.round(request.duration / h - 1e-9));
    const limits = request.limits ?? [];
    for (const limit of limits) {
      this.resolve(limit.variable, 'limits');
      checkFinite(limit.min, `limits ${limit.variable}.min`);
      checkFinite(limit.max, `limits ${limit.variable}.max`);
    }
    const changes = [...(request.changes ?? [])]
      .map((change) => {
        checkFinite(change.at, `changes ${change.variable}.at`);
        return { ...change, step: startStep + Math.max(0, Math.ceil(change.at / h - 1e-9)) };
      })
      .sort((a, b) => a.step - b.step);
    for (const change of changes) this.resolve(change.variable, 'changes');
    const recordNames = [...new Set(request.record ?? this.defaultRecord(limits))];
    for (const limit of limits) if (!recordNames.includes(limit.variable)) recordNames.push(limit.variable);
    const recorder = this.createRecorder(recordNames);
    const limitSlots = limits.map((limit) => recordNames.indexOf(limit.variable));
    const every = Math.max(1, Math.ceil(steps / Math.max(1, request.maxPoints ?? 2000)));
    const capacity = Math.floor(steps / every) + 2;
    const time = new Float64Array(capacity);
    const columns = recordNames.map(() => new Float64Array(capacity));
    const sample = new Float64Array(recordNames.length);
    const violations: Violation[] = [];
    const violated = new Set<string>();
    let points = 0;
    const check = (t: number): void => {
      limits.forEach((limit, i) => {
        const value = sample[limitSlots[i]!]!;
        for (const bound of ['min', 'max'] as const) {
          const threshold = limit[bound];
          if (threshold === undefined) continue;
          const outside = bound === 'min' ? value < threshold : value > threshold;
          const key = `${i}:${bound}`;
          if (outside && !violated.has(key)) {
            violated.add(key);
            violations.push({ variable: limit.variable, bound, limit: threshold, value, time: t });
          }
        }
      });
    };
    const store = (t: number): void => {
      time[points] = t;
      for (let c = 0; c < columns.length; c++) columns[c]![points] = sample[c]!;
      points++;
    };
    let nextChange = 0;
    const applyChanges = (): void => {
      while (nextChange < changes.length && changes[nextChange]!.step <= this.k) {
        const change = changes[nextChange++]!;
        this.setInput(change.variable, change.value);
      }
    };
    try {
      applyChanges();
      recorder.read(sample);
      check(this.time);
      store(this.time);
      for (let i = 1; i <= steps; i++) {
        this.step();
        applyChanges();
        recorder.read(sample);
        check(this.time);
        if (i % every === 0 || i === steps || this.terminatedBy) store(this.time);
        if (this.terminatedBy) break;
      }
    } finally {
      recorder.dispose();
    }
    const values: Record<string, Float64Array> = {};
    recordNames.forEach((name, c) => (values[name] = columns[c]!.slice(0, points)));
    return {
      verdict: violations.length > 0 ? 'unsafe' : 'safe',
      violations,
      trajectory: { time: time.slice(0, points), values },
      startTime,
      endTime: this.time,
      steps: this.k - startStep,
      ...(this.terminatedBy && { terminated: this.terminatedBy }),
    };
  }

  // ---- end of life ------------------------------------------------------------------------------------

  /** Terminates (where possible) and frees every instance, unloads the libraries. Idempotent. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const member of this.members) {
      try {
        if (member.instance.usable && member.instance.state === 'step') member.instance.terminate();
      } catch {
        // freeing goes on regardless
      }
      member.library.unload();
    }
  }
}

// ---- batch ------------------------------------------------------------------------------------------

/** Input time series: values are held from their row's time until the next row (zero-order hold). */
export interface InputTable {
  time: readonly number[];
  /** "<fmu>.<input>" -> one value per row */
  columns: Record<string, readonly (number | boolean)[]>;
}

export interface BatchRequest {
  stopTime: number;
  inputs?: InputTable;
  /** variables to record (default: every scalar output) */
  record?: string[];
  /** record every n-th communication point (default 1) */
  recordEvery?: number;
}

export interface BatchResult {
  time: Float64Array;
  columns: Record<string, Float64Array>;
  /** column order */
  names: string[];
  steps: number;
  terminated?: { fmu: string; time: number };
}

function validateInputTable(table: InputTable): void {
  const rows = table.time.length;
  for (let i = 0; i < rows; i++) {
    if (!Number.isFinite(table.time[i])) throw new FmuError('MASTER_USAGE', `inputs: time in row ${i + 1} is not a number`);
    if (i > 0 && table.time[i]! < table.time[i - 1]!) throw new FmuError('MASTER_USAGE', `inputs: time goes backwards in row ${i + 1} (${table.time[i]} after ${table.time[i - 1]})`);
  }
  for (const [name, values] of Object.entries(table.columns)) {
    if (values.length !== rows) throw new FmuError('MASTER_USAGE', `inputs: column ${name} has ${values.length} values for ${rows} times`);
  }
}

/** A whole experiment from startTime to stopTime; the last step is shortened to land on stopTime. */
export async function runBatch(system: SystemSpec, options: Omit<MasterOptions, 'stopTime'>, request: BatchRequest): Promise<BatchResult> {
  checkFinite(request.stopTime, 'stopTime');
  const startTime = options.startTime ?? 0;
  const span = request.stopTime - startTime;
  if (!(span >= 0)) throw new FmuError('MASTER_USAGE', `stopTime: ${request.stopTime} is before startTime ${startTime}`);
  const table = request.inputs;
  if (table) validateInputTable(table);
  // Inputs that hold at startTime become start values, so the initial outputs see them.
  const initial: Record<string, Record<string, VariableValue>> = {};
  let row = -1;
  if (table) {
    while (row + 1 < table.time.length && table.time[row + 1]! <= startTime + 1e-12 * Math.max(1, Math.abs(startTime))) row++;
    if (row >= 0) {
      for (const [name, values] of Object.entries(table.columns)) {
        const { fmu, variable } = parsePath(name, 'inputs');
        (initial[fmu] ??= {})[variable] = values[row]!;
      }
    }
  }
  const spec: SystemSpec = {
    ...system,
    fmus: system.fmus.map((f) => ({ ...f, parameters: { ...f.parameters, ...initial[f.name] } })),
  };
  const ratio = span / options.stepSize;
  const whole = Math.abs(ratio - Math.round(ratio)) < 1e-9 * Math.max(1, ratio) ? Math.round(ratio) : Math.floor(ratio);
  const partial = startTime + whole * options.stepSize < request.stopTime - 1e-12 * Math.max(1, Math.abs(request.stopTime));
  const simulation = await CoSimulation.create(spec, { ...options, stopTime: request.stopTime, recordInputs: false });
  try {
    const names = request.record ?? simulation.defaultRecord([]);
    const recorder = simulation.createRecorder(names);
    const every = Math.max(1, Math.floor(request.recordEvery ?? 1));
    const capacity = Math.floor(whole / every) + 3;
    const time = new Float64Array(capacity);
    const columns = names.map(() => new Float64Array(capacity));
    const sample = new Float64Array(names.length);
    let points = 0;
    const store = (t: number): void => {
      recorder.read(sample);
      time[points] = t;
      for (let c = 0; c < columns.length; c++) columns[c]![points] = sample[c]!;
      points++;
    };
    const applyRows = (t: number): void => {
      if (!table) return;
      let changed = false;
      while (row + 1 < table.time.length && table.time[row + 1]! <= t + 1e-9 * options.stepSize) {
        row++;
        changed = true;
      }
      if (!changed) return;
      for (const [name, values] of Object.entries(table.columns)) simulation.setInput(name, values[row]!);
    };
    store(simulation.time);
    for (let k = 1; k <= whole; k++) {
      simulation.step();
      applyRows(simulation.time);
      if (k % every === 0 || k === whole || simulation.terminated) store(simulation.time);
      if (simulation.terminated) break;
    }
    if (partial && !simulation.terminated) {
      // The last, shorter step to land exactly on stopTime.
      simulation.stepTo(request.stopTime);
      store(request.stopTime);
    }
    recorder.dispose();
    const result: BatchResult = {
      time: time.slice(0, points),
      columns: Object.fromEntries(names.map((name, c) => [name, columns[c]!.slice(0, points)])),
      names,
      steps: simulation.steps,
    };
    if (simulation.terminated) result.terminated = simulation.terminated;
    return result;
  } finally {
    simulation.free();
  }
}

// ---- graph helpers ------------------------------------------------------------------------------------

/** Tarjan's strongly connected components over nodes 0..n-1 with edges node -> dependency. */
function stronglyConnected(n: number, edges: (node: number) => Iterable<number>): number[][] {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const visit = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    for (const w of edges(v)) {
      if (index[w] === -1) {
        visit(w);
        low[v] = Math.min(low[v]!, low[w]!);
      } else if (onStack[w]) {
        low[v] = Math.min(low[v]!, index[w]!);
      }
    }
    if (low[v] === index[v]) {
      const component: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (let v = 0; v < n; v++) if (index[v] === -1) visit(v);
  return components;
}

/** "a.y -> b.u -> b.y -> a.u -> a.y" for a strongly connected set of output nodes. */
function describeCycle(
  component: number[],
  nodes: OutputNode[],
  members: Member[],
  connections: { from: { member: Member; variable: ModelVariable }; to: { member: Member; variable: ModelVariable } }[],
  dependsDirectly: (member: Member, output: ModelVariable, input: ModelVariable) => boolean,
): string {
  const inside = new Set(component);
  const start = component.reduce((a, b) => (a < b ? a : b));
  // Walk dependencies backwards, then read the cycle forwards.
  const path: number[] = [start];
  const seen = new Set([start]);
  let current = start;
  for (;;) {
    const next = [...nodes[current]!.dependsOn].find((d) => inside.has(d));
    if (next === undefined) break;
    if (seen.has(next)) {
      path.push(next);
      break;
    }
    seen.add(next);
    path.push(next);
    current = next;
  }
  const forward = path.reverse();
  const cycleStart = forward.indexOf(forward[forward.length - 1]!);
  const cycle = forward.slice(cycleStart);
  const parts: string[] = [];
  for (let i = 0; i < cycle.length - 1; i++) {
    const a = nodes[cycle[i]!]!;
    const b = nodes[cycle[i + 1]!]!;
    const aName = `${members[a.member]!.name}.${a.variable.name}`;
    const link = connections.find(
      (c) => c.from.member.index === a.member && c.from.variable === a.variable && c.to.member.index === b.member && dependsDirectly(c.to.member, b.variable, c.to.variable),
    );
    parts.push(aName, link ? `${link.to.member.name}.${link.to.variable.name}` : '?');
  }
  const first = nodes[cycle[0]!]!;
  parts.push(`${members[first.member]!.name}.${first.variable.name}`);
  return parts.join(' -> ');
}

/** Kahn's algorithm; ties and cycles broken by declaration order. */
function topologicalOrder<T>(items: T[], dependencies: (item: T) => Set<T>): T[] {
  const done = new Set<T>();
  const order: T[] = [];
  while (order.length < items.length) {
    const ready = items.find((item) => !done.has(item) && [...dependencies(item)].every((d) => done.has(d)));
    // A cycle at this level is not an algebraic loop (those were contracted): take the first left.
    const chosen = ready ?? items.find((item) => !done.has(item))!;
    done.add(chosen);
    order.push(chosen);
  }
  return order;
}

function maxRelativeChange(before: Float64Array[], after: Float64Array[]): number {
  let worst = 0;
  for (let i = 0; i < before.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    for (let j = 0; j < a.length; j++) {
      const change = Math.abs(b[j]! - a[j]!) / (1 + Math.abs(b[j]!));
      if (!(change <= worst)) worst = change;
    }
  }
  return worst;
}

