// The simulated CNC machine served over real OPC UA (node-opcua). One timer advances the model and
// publishes every machine value with setValueFromSource, stamped with the simulated clock, so
// monitored items are notified on change. Bench tags take a cheaper path (see publishBench) and
// are read afresh when sampled (see answerBenchSampling).
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AccessRestrictionsFlag,
  DataType,
  DataValue,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  PermissionFlag,
  PublishRequest,
  PublishResponse,
  SecurityPolicy,
  StatusCodes,
  Variant,
  VariantArrayType,
  WellKnownRoles,
  makeEUInformation,
  standardUnits,
  type CallMethodResultOptions,
  type EUInformation,
  type ISessionContext,
  type Namespace,
  type StatusCode,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import {
  CncModel,
  MachineStateError,
  faultRequestFromText,
  type ActiveFault,
  type CncReadings,
  type FaultOptions,
  type SensorPath,
} from './cnc-model';

export const NAMESPACE_URI = 'urn:twinflow:cnc-simulator';
export const DEFAULT_PLANT_PORT = 4840;
export const DEFAULT_TICK_MS = 100;
/** Keeps one 100 ms tick's model work (1000 simulated s = 100,000 sub-steps) to tens of milliseconds. */
export const MAX_TIME_SCALE = 10000;

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';
export type SecurityPolicyName = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';

export interface CncServerUser {
  username: string;
  password: string;
}

export interface FaultRequest {
  kind: string;
  target?: string;
  options?: FaultOptions;
}

export interface CncServerOptions {
  /** TCP port; 0 or absent picks a free port */
  port?: number;
  /** interface to listen on (default 127.0.0.1) */
  host?: string;
  seed?: number;
  /** simulated seconds per real second (default 1; at most MAX_TIME_SCALE) */
  timeScale?: number;
  /** real milliseconds between model steps and publications (default 100) */
  tickMs?: number;
  autoCycle?: boolean;
  ratedMaxSpeed?: number;
  /** extra Double variables under Objects/Bench, all changing every tick (default 0) */
  benchTags?: number;
  /** the server's certificate and its trusted/rejected client certificates */
  pkiDir?: string;
  securityModes?: SecurityModeName[];
  securityPolicies?: SecurityPolicyName[];
  allowAnonymous?: boolean;
  users?: CncServerUser[];
  /** trust client certificates the server has not seen (default true; false puts them in rejected/) */
  autoAcceptCertificates?: boolean;
  /** faults active from the start */
  faults?: FaultRequest[];
  /** the server's OperationLimits.MaxMonitoredItemsPerCall (default node-opcua's); larger requests get BadTooManyOperations */
  maxMonitoredItemsPerCall?: number;
}

export interface CncServer {
  readonly endpointUrl: string;
  readonly port: number;
  readonly model: CncModel;
  readonly pkiDir: string;
  readonly timeScale: number;
  injectFault(kind: string, target?: string, options?: FaultOptions): ActiveFault;
  clearFault(kind: string, target?: string): boolean;
  setTimeScale(scale: number): void;
  /** the simulated clock: wall-clock start plus simulated elapsed time */
  simulatedTime(): Date;
  sessionCount(): number;
  /** monitored items across every session and subscription: tests check each item exists once */
  monitoredItemCount(): number;
  /** publish requests the server holds, per session: tests check a client keeps enough outstanding */
  pendingPublishRequests(): number[];
  /**
   * Starts timing, for every publish response that carries notifications, how long the client
   * takes to acknowledge it (in its next publish request). Until then the server keeps the
   * notifications for retransmission: a benchmark diagnostic of what a client costs the server.
   */
  timeAcknowledgements(): AcknowledgementTimer;
  /** releases every timer, socket and session; safe to call more than once */
  stop(): Promise<void>;
}

export interface AcknowledgementTimer {
  /** milliseconds from each response to its acknowledgement, in the order acknowledged */
  delaysMs(): number[];
  stop(): void;
}

const SECURITY_MODES: Record<SecurityModeName, MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};

const SECURITY_POLICIES: Record<SecurityPolicyName, SecurityPolicy> = {
  None: SecurityPolicy.None,
  Basic256Sha256: SecurityPolicy.Basic256Sha256,
  Aes128_Sha256_RsaOaep: SecurityPolicy.Aes128_Sha256_RsaOaep,
  Aes256_Sha256_RsaPss: SecurityPolicy.Aes256_Sha256_RsaPss,
};

/** Where the server keeps its PKI unless told: the user's config directory, never the repository. */
export function defaultPkiDir(): string {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(os.homedir() || os.tmpdir(), '.config');
  return path.join(configHome, 'twinflow', 'cnc-simulator-pki');
}

function checkTimeScale(scale: number): void {
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > MAX_TIME_SCALE) {
    throw new RangeError(`timeScale: ${String(scale)} must be a number above 0 and at most ${MAX_TIME_SCALE}`);
  }
}

function validateOptions(options: CncServerOptions): void {
  const { port, tickMs, benchTags } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new RangeError(`port: ${port} must be an integer from 0 to 65535`);
  }
  if (tickMs !== undefined && (!Number.isFinite(tickMs) || tickMs < 10 || tickMs > 60000)) {
    throw new RangeError(`tickMs: ${tickMs} must be a number from 10 to 60000`);
  }
  if (benchTags !== undefined && (!Number.isInteger(benchTags) || benchTags < 0 || benchTags > 100000)) {
    throw new RangeError(`benchTags: ${benchTags} must be an integer from 0 to 100000`);
  }
  if (options.timeScale !== undefined) checkTimeScale(options.timeScale);
  for (const mode of options.securityModes ?? []) {
    if (!Object.hasOwn(SECURITY_MODES, mode)) {
      throw new RangeError(`securityModes: "${mode}" is not one of ${Object.keys(SECURITY_MODES).join(', ')}`);
    }
  }
  for (const policy of options.securityPolicies ?? []) {
    if (!Object.hasOwn(SECURITY_POLICIES, policy)) {
      throw new RangeError(`securityPolicies: "${policy}" is not one of ${Object.keys(SECURITY_POLICIES).join(', ')}`);
    }
  }
  for (const user of options.users ?? []) {
    if (typeof user.username !== 'string' || user.username === '' || typeof user.password !== 'string') {
      throw new TypeError('users: each user needs a non-empty username and a password string');
    }
  }
}

/** Asks the kernel for a free port on the host, releasing it for the server to bind. */
function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the probed port'))));
    });
  });
}

/** Compares secrets in constant time (hashing first so lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Every session evaluates as at least Anonymous: browsing and reading is all a bench tag allows. */
const BENCH_ROLE_PERMISSIONS = [
  { roleId: WellKnownRoles.Anonymous, permissions: PermissionFlag.Browse | PermissionFlag.Read | PermissionFlag.ReadRolePermissions },
];

const LITRE_PER_MINUTE = makeEUInformation('L2', 'L/min', 'litre per minute');
const CENTIMETRE_PER_SECOND = makeEUInformation('2M', 'cm/s', 'centimetre per second');

/** A published variable: how to compute its value from the model's readings. */
interface Publication {
  variable: UAVariable;
  dataType: DataType;
  read(readings: CncReadings): number | boolean | string | null;
  /** set for measured values, which can drop out */
  sensor?: SensorPath;
  /** true after a dropout was published, so it is not republished every tick */
  silent?: boolean;
}

/**
 * A bench tag's DataValue, filled field by field: the option-checking constructors of Variant and
 * DataValue cost ten times more, which matters at 100,000 values a second.
 */
function benchDataValue(value: number, sourceTimestamp: Date, serverTimestamp: Date): DataValue {
  const variant = new Variant();
  variant.dataType = DataType.Double;
  variant.value = value;
  const dataValue = new DataValue();
  dataValue.value = variant;
  dataValue.sourceTimestamp = sourceTimestamp;
  dataValue.serverTimestamp = serverTimestamp;
  return dataValue;
}

class CncOpcUaServer implements CncServer {
  readonly model: CncModel;
  readonly pkiDir: string;
  endpointUrl = '';
  port = 0;

  private server: OPCUAServer | null = null;
  private certificateManagers: OPCUACertificateManager[] = [];
  private lastTickError = '';
  private timer: NodeJS.Timeout | null = null;
  private scale: number;
  private readonly tickMs: number;
  private readonly benchTagCount: number;
  private readonly publications: Publication[] = [];
  private benchVariables: UAVariable[] = [];
  /** whether bench tags can be stored directly (see publishBench) */
  private benchDirect = false;
  /** the stamps of the last millisecond in which bench tags were sampled (see sampleBench) */
  private sampleStamps = { wallMs: Number.NaN, source: new Date(0), server: new Date(0) };
  private simulation: { activeFaults: UAVariable; timeScale: UAVariable; simulatedTime: UAVariable } | null = null;
  /** wall-clock time at simulated time 0: when the server began serving */
  private startWallMs = Date.now();
  private lastTickWallMs = Date.now();
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: CncServerOptions) {
    this.model = new CncModel({ seed: options.seed, autoCycle: options.autoCycle, ratedMaxSpeed: options.ratedMaxSpeed });
    this.pkiDir = options.pkiDir ?? defaultPkiDir();
    this.scale = options.timeScale ?? 1;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.benchTagCount = options.benchTags ?? 0;
    for (const fault of options.faults ?? []) this.model.injectFault(fault.kind, fault.target, fault.options);
  }

  get timeScale(): number {
    return this.scale;
  }

  async start(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const fixedPort = this.options.port !== undefined && this.options.port !== 0;
    // A free port found by probing can be taken by someone else before we bind it: try again.
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort ? (this.options.port as number) : await findFreePort(host);
      try {
        await this.startOn(host, port);
        return;
      } catch (err) {
        await this.shutdownServer();
        const inUse = (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE' || /EADDRINUSE/.test(String(err));
        if (fixedPort || !inUse || attempt >= 3) {
          throw inUse ? new Error(`port: ${port} on ${host} is already in use`) : err;
        }
      }
    }
  }

  private async startOn(host: string, port: number): Promise<void> {
    const serverCertificateManager = new OPCUACertificateManager({
      rootFolder: path.join(this.pkiDir, 'server'),
      automaticallyAcceptUnknownCertificate: this.options.autoAcceptCertificates ?? true,
    });
    const userCertificateManager = new OPCUACertificateManager({
      rootFolder: path.join(this.pkiDir, 'user'),
      automaticallyAcceptUnknownCertificate: false,
    });
    this.certificateManagers = [serverCertificateManager, userCertificateManager];
    const modes = (this.options.securityModes ?? ['None', 'Sign', 'SignAndEncrypt']).map((m) => SECURITY_MODES[m]);
    const policyNames = this.options.securityPolicies ?? ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'];
    const policies = policyNames.map((p) => SECURITY_POLICIES[p]);
    // node-opcua pairs every secure mode with every secure policy; each side needs its None twin.
    if (modes.includes(MessageSecurityMode.None) && !policies.includes(SecurityPolicy.None)) policies.push(SecurityPolicy.None);
    if (policies.some((p) => p !== SecurityPolicy.None) && !modes.some((m) => m !== MessageSecurityMode.None)) {
      modes.push(MessageSecurityMode.SignAndEncrypt);
    }
    const users = this.options.users ?? [];
    const wildcard = host === '0.0.0.0' || host === '::';
    const server = new OPCUAServer({
      port,
      host,
      // Clients connect to the advertised endpoint URL, so it must name the bound interface.
      hostname: wildcard ? undefined : host,
      serverCertificateManager,
      userCertificateManager,
      securityModes: modes,
      securityPolicies: policies,
      allowAnonymous: this.options.allowAnonymous ?? true,
      ...(this.options.maxMonitoredItemsPerCall ? { serverCapabilities: { operationLimits: { maxMonitoredItemsPerCall: this.options.maxMonitoredItemsPerCall } } } : {}),
      userManager: {
        isValidUser: (username: string, password: string) =>
          users.some((user) => sameSecret(user.username, username) && sameSecret(user.password, password)),
      },
      serverInfo: {
        // node-opcua names namespace 1 after the application URI, so this is our namespace URI.
        applicationUri: NAMESPACE_URI,
        productUri: 'urn:twinflow:cnc-simulator:product',
        applicationName: { text: 'Twinflow CNC simulator', locale: 'en' },
      },
      buildInfo: { productName: 'Twinflow CNC simulator', manufacturerName: 'Twinflow', softwareVersion: '0.1.0' },
    });
    this.server = server;
    await server.initialize();
    this.buildAddressSpace(server);
    await server.start();
    this.port = port;
    const endpoint = server.endpoints[0]?.endpointDescriptions()[0];
    this.endpointUrl = endpoint?.endpointUrl ?? `opc.tcp://${host}:${port}`;
    this.startWallMs = Date.now() - Math.round(this.model.time * 1000);
    this.lastTickWallMs = Date.now();
    this.publish();
    this.publishBench(this.simulatedTime());
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  // ---- Address space --------------------------------------------------------------------------

  private buildAddressSpace(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('the OPC UA server has no address space after initialize()');
    const namespace = addressSpace.getOwnNamespace();
    if (namespace.namespaceUri !== NAMESPACE_URI || namespace.index !== 1) {
      throw new Error(`namespace 1 is ${namespace.namespaceUri}, expected ${NAMESPACE_URI}`);
    }
    const objects = addressSpace.rootFolder.objects;
    const cnc = namespace.addObject({ organizedBy: objects, browseName: 'CNC', nodeId: 's=CNC', description: 'simulated 3-axis CNC machine' });
    const spindle = namespace.addObject({ componentOf: cnc, browseName: 'spindle', nodeId: 's=CNC.spindle' });
    const coolant = namespace.addObject({ componentOf: cnc, browseName: 'coolant', nodeId: 's=CNC.coolant' });
    const maxSpeed = this.model.ratedMaxSpeed;
    // Writable variables read through a getter, which node-opcua samples rather than watches;
    // their values change at most once per tick anyway.
    const writableSamplingInterval = this.tickMs;

    const analog = (
      parent: UAObject,
      name: string,
      nodeId: string,
      units: EUInformation,
      range: { low: number; high: number },
      read: (r: CncReadings) => number | null,
      sensor?: SensorPath,
    ) => {
      const variable = namespace.addAnalogDataItem({
        componentOf: parent,
        browseName: name,
        nodeId: `s=${nodeId}`,
        dataType: 'Double',
        engineeringUnits: units,
        engineeringUnitsRange: range,
        minimumSamplingInterval: 0,
        accessLevel: 'CurrentRead',
        userAccessLevel: 'CurrentRead',
      });
      this.publications.push({ variable, dataType: DataType.Double, read, sensor });
      return variable;
    };

    analog(spindle, 'speed', 'CNC.spindle.speed', standardUnits.revolutions_per_minute, { low: 0, high: maxSpeed }, (r) => r.spindle.speed, 'spindle.speed');
    const speedSetpoint = namespace.addAnalogDataItem({
      componentOf: spindle,
      browseName: 'speedSetpoint',
      nodeId: 's=CNC.spindle.speedSetpoint',
      dataType: 'Double',
      engineeringUnits: standardUnits.revolutions_per_minute,
      engineeringUnitsRange: { low: 0, high: maxSpeed },
      minimumSamplingInterval: writableSamplingInterval,
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      value: {
        get: () => new Variant({ dataType: DataType.Double, value: this.model.speedSetpoint }),
        set: (variant: Variant) => this.write(() => this.model.setSpeedSetpoint(variant.value as number)),
      },
    });
    this.publications.push({ variable: speedSetpoint, dataType: DataType.Double, read: (r) => r.spindle.speedSetpoint });
    analog(spindle, 'motorCurrent', 'CNC.spindle.motorCurrent', standardUnits.ampere, { low: 0, high: 60 }, (r) => r.spindle.motorCurrent, 'spindle.motorCurrent');
    analog(spindle, 'vibrationRms', 'CNC.spindle.vibrationRms', CENTIMETRE_PER_SECOND, { low: 0, high: 2 }, (r) => r.spindle.vibrationRms, 'spindle.vibrationRms');
    analog(spindle, 'bearingTemperature', 'CNC.spindle.bearingTemperature', standardUnits.degree_celsius, { low: 0, high: 150 }, (r) => r.spindle.bearingTemperature, 'spindle.bearingTemperature');
    analog(spindle, 'maxSpeed', 'CNC.spindle.maxSpeed', standardUnits.revolutions_per_minute, { low: 0, high: maxSpeed }, (r) => r.spindle.maxSpeed);
    analog(coolant, 'temperature', 'CNC.coolant.temperature', standardUnits.degree_celsius, { low: 0, high: 100 }, (r) => r.coolant.temperature, 'coolant.temperature');
    analog(coolant, 'flow', 'CNC.coolant.flow', LITRE_PER_MINUTE, { low: 0, high: 40 }, (r) => r.coolant.flow, 'coolant.flow');
    analog(cnc, 'positionX', 'CNC.positionX', standardUnits.millimetre, { low: 0, high: 500 }, (r) => r.positionX, 'positionX');
    analog(cnc, 'positionY', 'CNC.positionY', standardUnits.millimetre, { low: 0, high: 400 }, (r) => r.positionY, 'positionY');
    analog(cnc, 'positionZ', 'CNC.positionZ', standardUnits.millimetre, { low: 0, high: 300 }, (r) => r.positionZ, 'positionZ');

    const doorOpen = namespace.addVariable({
      componentOf: cnc,
      browseName: 'doorOpen',
      nodeId: 's=CNC.doorOpen',
      dataType: 'Boolean',
      minimumSamplingInterval: writableSamplingInterval,
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      value: {
        get: () => new Variant({ dataType: DataType.Boolean, value: this.model.doorOpen }),
        set: (variant: Variant) => this.write(() => this.model.setDoorOpen(variant.value as boolean)),
      },
    });
    this.publications.push({ variable: doorOpen, dataType: DataType.Boolean, read: (r) => r.doorOpen });
    this.addStringVariable(namespace, cnc, 'machineState', 'CNC.machineState', (r) => r.machineState);
    this.addStringVariable(namespace, cnc, 'activeProgram', 'CNC.activeProgram', (r) => r.activeProgram);

    this.addMethod(namespace, cnc, 'startCycle', 'CNC.startCycle', [['programId', 'the program to run, e.g. P1000']], [['status', DataType.String]], (args) => {
      const status = this.model.startCycle(String(args[0] ?? ''));
      return [new Variant({ dataType: DataType.String, value: status })];
    });
    this.addMethod(namespace, cnc, 'emergencyStop', 'CNC.emergencyStop', [], [['stopConfirmed', DataType.Boolean]], () => {
      const confirmed = this.model.emergencyStop();
      return [new Variant({ dataType: DataType.Boolean, value: confirmed })];
    });
    this.addMethod(namespace, cnc, 'resetAlarm', 'CNC.resetAlarm', [], [], () => {
      this.model.resetAlarm();
      return [];
    });

    const simulation = namespace.addObject({ organizedBy: objects, browseName: 'Simulation', nodeId: 's=Simulation' });
    const faultArguments: Array<[string, string]> = [
      ['fault', 'bearingWear | coolantPumpFailure | spindleDriveFault | stuckSensor | sensorDropout'],
      ['target', 'sensor path for sensor faults (e.g. spindle.vibrationRms); for bearingWear optionally the time to failure in simulated seconds'],
    ];
    this.addMethod(namespace, simulation, 'injectFault', 'Simulation.injectFault', faultArguments, [], (args) => {
      const request = faultRequestFromText(String(args[0] ?? ''), String(args[1] ?? ''));
      this.model.injectFault(request.kind, request.target, request.options);
      return [];
    });
    this.addMethod(namespace, simulation, 'clearFault', 'Simulation.clearFault', faultArguments, [], (args) => {
      const request = faultRequestFromText(String(args[0] ?? ''), String(args[1] ?? ''));
      this.model.clearFault(request.kind, request.target);
      return [];
    });
    const activeFaults = namespace.addVariable({
      componentOf: simulation,
      browseName: 'activeFaults',
      nodeId: 's=Simulation.activeFaults',
      dataType: 'String',
      valueRank: 1,
      arrayDimensions: [0],
      minimumSamplingInterval: 0,
      accessLevel: 'CurrentRead',
      userAccessLevel: 'CurrentRead',
    });
    const timeScale = namespace.addVariable({
      componentOf: simulation,
      browseName: 'timeScale',
      nodeId: 's=Simulation.timeScale',
      dataType: 'Double',
      minimumSamplingInterval: writableSamplingInterval,
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      value: {
        get: () => new Variant({ dataType: DataType.Double, value: this.scale }),
        set: (variant: Variant) => this.write(() => this.setTimeScale(variant.value as number)),
      },
    });
    const simulatedTime = namespace.addVariable({
      componentOf: simulation,
      browseName: 'simulatedTime',
      nodeId: 's=Simulation.simulatedTime',
      dataType: 'DateTime',
      minimumSamplingInterval: 0,
      accessLevel: 'CurrentRead',
      userAccessLevel: 'CurrentRead',
    });
    this.simulation = { activeFaults, timeScale, simulatedTime };

    if (this.benchTagCount > 0) {
      const bench = namespace.addObject({ organizedBy: objects, browseName: 'Bench', nodeId: 's=Bench' });
      for (let i = 0; i < this.benchTagCount; i++) {
        const name = `Tag${String(i).padStart(5, '0')}`;
        const variable = namespace.addVariable({
          componentOf: bench,
          browseName: name,
          nodeId: `s=Bench.${name}`,
          dataType: 'Double',
          // 0: a client asking for samplingInterval 0 is served on change (publishBench raises
          // the change event), any other interval is sampled.
          minimumSamplingInterval: 0,
          accessLevel: 'CurrentRead',
          userAccessLevel: 'CurrentRead',
          // Stated on the node, so node-opcua's per-read permission check does not search the
          // namespace metadata for defaults on every sample (a quarter of the sampling cost).
          accessRestrictions: AccessRestrictionsFlag.None,
          rolePermissions: BENCH_ROLE_PERMISSIONS,
        });
        this.benchVariables.push(variable);
      }
      const probe = this.benchVariables[0] as unknown as { $dataValue?: unknown; readValueAsync?: unknown };
      this.benchDirect = probe.$dataValue instanceof DataValue && typeof probe.readValueAsync === 'function';
      if (this.benchDirect) this.benchVariables.forEach((variable, index) => this.answerBenchSampling(variable, index));
    }
  }

  private addStringVariable(namespace: Namespace, parent: UAObject, name: string, nodeId: string, read: (r: CncReadings) => string): void {
    const variable = namespace.addVariable({
      componentOf: parent,
      browseName: name,
      nodeId: `s=${nodeId}`,
      dataType: 'String',
      minimumSamplingInterval: 0,
      accessLevel: 'CurrentRead',
      userAccessLevel: 'CurrentRead',
    });
    this.publications.push({ variable, dataType: DataType.String, read });
  }

  private addMethod(
    namespace: Namespace,
    parent: UAObject,
    name: string,
    nodeId: string,
    inputs: Array<[string, string]>,
    outputs: Array<[string, DataType]>,
    run: (args: unknown[]) => Variant[],
  ): void {
    const method = namespace.addMethod(parent, {
      browseName: name,
      nodeId: `s=${nodeId}`,
      inputArguments: inputs.map(([argName, description]) => ({ name: argName, description: { text: description }, dataType: DataType.String })),
      outputArguments: outputs.map(([argName, dataType]) => ({ name: argName, dataType })),
    });
    // node-opcua tells promise-returning methods from callback ones by their declared arity.
    method.bindMethod(async (inputArguments: Variant[], _context: ISessionContext): Promise<CallMethodResultOptions> => {
      const args = inputArguments.map((variant) => variant.value as unknown);
      if (args.some((arg) => typeof arg !== 'string' && arg !== null)) return { statusCode: StatusCodes.BadInvalidArgument };
      try {
        const outputArguments = run(args);
        this.publish();
        return { statusCode: StatusCodes.Good, outputArguments };
      } catch (err) {
        // The model throws RangeError for unknown faults and targets: the caller's mistake.
        return { statusCode: err instanceof RangeError ? StatusCodes.BadInvalidArgument : StatusCodes.BadInternalError };
      }
    });
  }

  /** Applies a client's write to the model and maps its errors to OPC UA status codes. */
  private write(apply: () => void): StatusCode {
    try {
      apply();
      this.publishSoon();
      return StatusCodes.Good;
    } catch (err) {
      if (err instanceof RangeError) return StatusCodes.BadOutOfRange;
      if (err instanceof TypeError) return StatusCodes.BadTypeMismatch;
      if (err instanceof MachineStateError) return StatusCodes.BadInvalidState;
      return StatusCodes.BadInternalError;
    }
  }

  /** After a write node-opcua stores the written value itself; publish the model's view right after. */
  private publishSoon(): void {
    setImmediate(() => {
      if (this.server !== null && this.stopping === null) this.publish();
    });
  }

  // ---- Ticking and publishing -----------------------------------------------------------------

  private tick(): void {
    try {
      this.advanceAndPublish();
    } catch (err) {
      // A timer callback must not throw (it would take the hosting process down); say it once.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.lastTickError) console.error(`cnc-server: tick failed: ${message}`);
      this.lastTickError = message;
    }
  }

  private advanceAndPublish(): void {
    const now = Date.now();
    // Advance by the real time that passed, so the simulated clock keeps pace with the wall
    // clock at timeScale 1; a stalled event loop is not made up for beyond ten ticks.
    const realSeconds = Math.min(Math.max(now - this.lastTickWallMs, 0), 10 * this.tickMs) / 1000;
    this.lastTickWallMs = now;
    this.model.step(realSeconds * this.scale);
    this.publish();
    this.publishBench(this.simulatedTime());
  }

  simulatedTime(): Date {
    return new Date(this.startWallMs + Math.round(this.model.time * 1000));
  }

  private publish(): void {
    const readings = this.model.readings();
    const stamp = this.simulatedTime();
    for (const publication of this.publications) {
      const value = publication.read(readings);
      if (value === null) {
        // A dropped-out sensor sends nothing new: flag the last value once, then stay silent.
        if (!publication.silent) {
          publication.variable.setValueFromSource(publication.variable.readValue().value, StatusCodes.BadNoCommunication, stamp);
          publication.silent = true;
        }
        continue;
      }
      publication.silent = false;
      publication.variable.setValueFromSource(new Variant({ dataType: publication.dataType, value }), StatusCodes.Good, stamp);
    }
    if (this.simulation !== null) {
      const labels = this.model.activeFaults().map((fault) => fault.label);
      this.simulation.activeFaults.setValueFromSource(
        new Variant({ dataType: DataType.String, arrayType: VariantArrayType.Array, value: labels }),
        StatusCodes.Good,
        stamp,
      );
      this.simulation.timeScale.setValueFromSource(new Variant({ dataType: DataType.Double, value: this.scale }), StatusCodes.Good, stamp);
      this.simulation.simulatedTime.setValueFromSource(new Variant({ dataType: DataType.DateTime, value: stamp }), StatusCodes.Good, stamp);
    }
  }

  /**
   * Gives every bench tag a new value, a sawtooth offset by its index so that each tag changes
   * on every tick. setValueFromSource would cost 3 to 5 us per tag (two DataValue clones and a
   * change event), a third to a half of a core for 10,000 tags at 100 ms before any client
   * connects. So the stored DataValue is replaced directly, as node-opcua itself does for
   * variables bound to a synchronous getter, and the change event is raised only for tags that
   * have listeners (monitored with samplingInterval 0). If a node-opcua release drops the
   * $dataValue field, the public path is used instead.
   */
  private publishBench(stamp: Date): void {
    const variables = this.benchVariables;
    const serverStamp = new Date();
    const simulatedMs = stamp.getTime();
    for (let i = 0; i < variables.length; i++) {
      const value = this.benchValue(i, simulatedMs);
      if (!this.benchDirect) {
        variables[i].setValueFromSource(new Variant({ dataType: DataType.Double, value }), StatusCodes.Good, stamp);
        continue;
      }
      const dataValue = benchDataValue(value, stamp, serverStamp);
      const variable = variables[i];
      (variable as unknown as { $dataValue: DataValue }).$dataValue = dataValue;
      // What setValueFromSource would tell exception-based monitored items, when there are any.
      if (variable.listenerCount('value_changed') > 0) variable.emit('value_changed', dataValue);
    }
  }

  /** The bench signal: tag i's sawtooth, moving by one step per tick, at a simulated instant. */
  private benchValue(index: number, simulatedMs: number): number {
    return (index % 100) + ((simulatedMs / this.tickMs + index) % 600) / 6;
  }

  /**
   * Sampled monitored items (samplingInterval above 0) read through readValueAsync. A bench tag
   * answers that read as a device answers a sampling read: with the signal's value at that
   * instant, stamped with that instant. Served from the last tick instead, a sample would carry
   * a value that had waited for node-opcua's sampling timer, whose phase against the tick is set
   * by chance when the first item is created (0 to 100 ms at a 100 ms tick, fixed for the run):
   * that wait, not the client, would then dominate a client benchmark's latency. Skips
   * node-opcua's per-read permission checks, which bench tags (readable by all) do not need.
   */
  private answerBenchSampling(variable: UAVariable, index: number): void {
    const holder = variable as unknown as { $dataValue: DataValue; readValueAsync: unknown };
    holder.readValueAsync = (_context: unknown, callback?: (err: Error | null, dataValue: DataValue) => void) => {
      const dataValue = this.sampleBench(index);
      holder.$dataValue = dataValue;
      if (callback === undefined) return Promise.resolve(dataValue);
      callback(null, dataValue);
      return undefined;
    };
  }

  private sampleBench(index: number): DataValue {
    const wallMs = Date.now();
    const stamps = this.sampleStamps;
    // One pair of Dates per millisecond: a sampling round reads thousands of tags at once.
    if (wallMs !== stamps.wallMs) {
      const simulatedMs = this.simulatedTime().getTime() + Math.max(wallMs - this.lastTickWallMs, 0) * this.scale;
      this.sampleStamps = { wallMs, source: new Date(simulatedMs), server: new Date(wallMs) };
    }
    const { source, server } = this.sampleStamps;
    return benchDataValue(this.benchValue(index, source.getTime()), source, server);
  }

  // ---- Control --------------------------------------------------------------------------------

  injectFault(kind: string, target?: string, options?: FaultOptions): ActiveFault {
    const fault = this.model.injectFault(kind, target, options);
    if (this.server !== null) this.publish();
    return fault;
  }

  clearFault(kind: string, target?: string): boolean {
    const cleared = this.model.clearFault(kind, target);
    if (this.server !== null) this.publish();
    return cleared;
  }

  setTimeScale(scale: number): void {
    checkTimeScale(scale);
    this.scale = scale;
  }

  sessionCount(): number {
    return this.server?.currentSessionCount ?? 0;
  }

  monitoredItemCount(): number {
    let count = 0;
    for (const session of this.server?.engine.getSessions() ?? []) {
      for (const subscription of session.publishEngine.subscriptions) count += subscription.monitoredItemCount;
    }
    return count;
  }

  pendingPublishRequests(): number[] {
    return (this.server?.engine.getSessions() ?? []).map((session) => session.publishEngine.pendingPublishRequestCount);
  }

  timeAcknowledgements(): AcknowledgementTimer {
    const server = this.server;
    if (server === null) throw new Error('the simulator is not running');
    const sentAt = new Map<string, number>();
    const delays: number[] = [];
    const onResponse = (response: unknown) => {
      if (!(response instanceof PublishResponse)) return;
      const message = response.notificationMessage;
      if ((message.notificationData?.length ?? 0) > 0) sentAt.set(`${response.subscriptionId}:${message.sequenceNumber}`, performance.now());
    };
    const onRequest = (request: unknown) => {
      if (!(request instanceof PublishRequest)) return;
      for (const ack of request.subscriptionAcknowledgements ?? []) {
        const key = `${ack.subscriptionId}:${ack.sequenceNumber}`;
        const sent = sentAt.get(key);
        if (sent === undefined) continue;
        delays.push(performance.now() - sent);
        sentAt.delete(key);
      }
    };
    // The base server's diagnostic events: every response it sends and every request it takes.
    server.on('response', onResponse);
    server.on('request', onRequest);
    return {
      delaysMs: () => delays.slice(),
      stop: () => {
        server.off('response', onResponse);
        server.off('request', onRequest);
      },
    };
  }

  stop(): Promise<void> {
    if (this.stopping === null) {
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = null;
      this.stopping = this.shutdownServer();
    }
    return this.stopping;
  }

  private async shutdownServer(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.publications.length = 0;
    this.benchVariables = [];
    this.simulation = null;
    const managers = this.certificateManagers;
    this.certificateManagers = [];
    try {
      // No grace period: sessions are closed at once, their sockets destroyed.
      if (server !== null) await server.shutdown(0);
    } finally {
      // shutdown() disposes them only if the server got as far as starting; their file
      // watchers would otherwise keep the process alive.
      for (const manager of managers) await manager.dispose().catch(() => undefined);
    }
  }
}

/** Starts the simulated CNC machine's OPC UA server; resolves once it accepts connections. */
export async function startCncServer(options: CncServerOptions = {}): Promise<CncServer> {
  validateOptions(options);
  const server = new CncOpcUaServer(options);
  await server.start();
  return server;
}
