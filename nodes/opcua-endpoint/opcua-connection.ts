// One OPC UA client, one session and one subscription per publishing interval for an endpoint,
// shared by every node that uses it. node-opcua repairs a broken connection itself (reactivate the
// session, else transfer the subscriptions, else recreate them); on top of that this class adds a
// backoff for the first connection, a watchdog for subscriptions that go silent, de-duplication of
// values the server sends again after a repair, batching per publish cycle, and honest health.
import { EventEmitter } from 'node:events';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  AttributeIds,
  BrowseDirection,
  ClientMonitoredItemGroup,
  ClientSession,
  ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  DataType,
  DataValue,
  DeadbandType,
  MessageSecurityMode,
  MonitoringParametersOptions,
  NodeClass,
  OPCUACertificateManager,
  OPCUAClient,
  ReadValueIdOptions,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserIdentityInfo,
  UserTokenType,
  Variant,
  VariantArrayType,
  makeBrowsePath,
  type NodeId,
  type NodeIdLike,
  type StatusCode,
  type ArgumentDefinition,
} from 'node-opcua';
import { toVariant, type TargetType } from '../opcua-out/coerce';
import { type ItemSpec, qualityOf } from './opcua-items';
import type { Quality } from '../lib/messages';
import { jsonEqual } from '../lib/twin/patch';

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';
export type SecurityPolicyName = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';

export type IdentitySettings =
  | { type: 'anonymous' }
  | { type: 'username'; userName: string; password: string }
  | { type: 'certificate'; certificatePem: string; privateKeyPem: string };

export interface OpcuaEndpointSettings {
  endpointUrl: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  identity: IdentitySettings;
  /** Folder with own/, trusted/ and rejected/ certificates. */
  pkiDir: string;
  /** Trust a server certificate nobody has trusted yet. Off by default: unknown certificates are rejected. */
  acceptUnknownServerCertificate: boolean;
  applicationName?: string;
  /** First and longest wait between connection attempts, in ms. */
  reconnectInitialDelay?: number;
  reconnectMaxDelay?: number;
  /** A subscription with neither data nor keep-alive for this many keep-alive periods is stale. */
  watchdogKeepAlivePeriods?: number;
}

export type HealthState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stale' | 'closed';

export interface Health {
  state: HealthState;
  endpointUrl: string;
  sessions: number;
  subscriptions: number;
  monitoredItems: number;
  /** Repairs so far: lost connections plus stale subscriptions rebuilt. */
  reconnects: number;
  staleRepairs: number;
  valuesReceived: number;
  lastDataAt?: number;
  lastError?: string;
}

/** Makes what onChanges gets for one value of item `index` (absent times are undefined). */
export type ChangeMaker<T> = (index: number, value: unknown, sourceTime: number | undefined, serverTime: number | undefined, statusCode: number, quality: Quality) => T;

export interface MonitorOptions<T> {
  items: ItemSpec[];
  publishingInterval: number;
  /**
   * Makes each change in the form the caller passes on (opcua-in: a sample in the message
   * contract), so a value costs one object on its way to the flow, not two: this runs for every
   * value the server sends.
   */
  makeChange: ChangeMaker<T>;
  /** Called once per publish cycle with every change of that cycle, in arrival order. */
  onChanges: (changes: T[]) => void;
  /** An item the server refused (unknown NodeId, bad browse path, ...). The other items keep working. */
  onItemError: (item: ItemSpec, index: number, message: string) => void;
}

export interface MonitorHandle {
  /** How many items exist on the server right now. */
  readonly activeItems: number;
  close(): Promise<void>;
}

interface Logger {
  warn(message: string): void;
}

interface Registration extends MonitorOptions<unknown> {
  groups: ClientMonitoredItemGroup[];
  active: number;
  closed: boolean;
  /**
   * Per item, the source time (NaN: none yet), status code and value last delivered, to skip what a
   * repair sends again. Flat arrays rather than the last change made: that would keep every value's
   * object alive into the next cycle, to be copied by the garbage collector on the way.
   */
  lastSourceTime: Float64Array;
  lastStatusCode: Float64Array;
  lastValue: unknown[];
  /**
   * This publish cycle's values as they arrived (item index, DataValue), made into changes only in
   * the flush: node-opcua sends the next publish request, which acknowledges this response, from a
   * setImmediate queued before the values are handed out, so work done per value here would hold
   * that acknowledgement up and keep the server's retransmission queue full for longer.
   */
  arrivedIndexes: number[];
  arrivedValues: DataValue[];
  flushScheduled: boolean;
}

interface SubscriptionSlot {
  subscription: ClientSubscription;
  publishingInterval: number;
  lastActivity: number;
  keepAlivePeriodMs: number;
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

const MAX_KEEP_ALIVE_COUNT = 10;
// Items per CreateMonitoredItems call when the server states no limit: one call is fastest, but a
// very large request can exceed a server's message size.
const CREATE_CHUNK = 20000;
// A group whose request never got an answer (its subscription deleted under it, which node-opcua
// reports to nobody) must not hold up every later activation on this connection.
const CREATE_TIMEOUT_MS = 120_000;
// Server.ServerCapabilities.OperationLimits.MaxMonitoredItemsPerCall (0 or absent: no limit).
const MAX_MONITORED_ITEMS_PER_CALL = 'ns=0;i=11714';
/**
 * Publish requests kept at the server: node-opcua keeps 5, but a server sends at most so many
 * notifications per response (node-opcua's server: 1,000), so 10,000 changes in one cycle take
 * 10 responses, and with 5 requests the server waits for the client to send more, i.e. for its
 * event loop to be free. One request per 500 monitored items (half that limit, so servers with a
 * lower one are covered too) lets the server send a whole cycle at once. Capped well under servers'
 * queue limits (node-opcua: 100); a server that refuses more makes node-opcua lower its own count.
 * The count only grows: node-opcua sends one request for each response, so it stays where it is.
 */
const PUBLISH_REQUESTS_MIN = 5;
const PUBLISH_REQUESTS_MAX = 40;
const ITEMS_PER_PUBLISH_REQUEST = 500;

/** One certificate manager per PKI folder in this process: they lock and watch their folder. */
const certificateManagers = new Map<string, Promise<OPCUACertificateManager>>();

export function certificateManagerFor(pkiDir: string): Promise<OPCUACertificateManager> {
  let manager = certificateManagers.get(pkiDir);
  // A PKI folder removed while we run (a reset by hand) gets a fresh manager that recreates it.
  if (manager && !existsSync(pkiDir)) manager = undefined;
  if (!manager) {
    manager = (async () => {
      const m = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false });
      await m.initialize();
      return m;
    })();
    certificateManagers.set(pkiDir, manager);
  }
  return manager;
}

export class OpcuaConnection extends EventEmitter {
  readonly settings: OpcuaEndpointSettings;
  #logger: Logger;
  #client: OPCUAClient | undefined;
  #session: ClientSession | undefined;
  /** Items per CreateMonitoredItems call for the current session, read once from the server's limits. */
  #createChunk: Promise<number> | undefined;
  #slots = new Map<number, SubscriptionSlot>();
  #registrations = new Set<Registration>();
  #state: HealthState = 'idle';
  #lastError: string | undefined;
  #reconnects = 0;
  #staleRepairs = 0;
  #valuesReceived = 0;
  #lastDataAt: number | undefined;
  #closing = false;
  #started = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #watchdogTimer: NodeJS.Timeout | undefined;
  #activation: Promise<void> = Promise.resolve();
  #repairing = false;
  #staleProbeFailures = 0;

  constructor(settings: OpcuaEndpointSettings, logger: Logger = { warn: () => undefined }) {
    super();
    this.settings = settings;
    this.#logger = logger;
  }

  health(): Health {
    let monitoredItems = 0;
    for (const r of this.#registrations) monitoredItems += r.active;
    return {
      state: this.#state,
      endpointUrl: this.settings.endpointUrl,
      sessions: this.#session ? 1 : 0,
      subscriptions: this.#slots.size,
      monitoredItems,
      reconnects: this.#reconnects,
      staleRepairs: this.#staleRepairs,
      valuesReceived: this.#valuesReceived,
      ...(this.#lastDataAt !== undefined ? { lastDataAt: this.#lastDataAt } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    };
  }

  get connected(): boolean {
    return this.#state === 'connected' || this.#state === 'stale';
  }

  /** Starts connecting in the background; safe to call more than once. */
  start(): void {
    if (this.#started || this.#closing) return;
    this.#started = true;
    void this.#connect(0);
  }

  #setState(state: HealthState, error?: string): void {
    if (error !== undefined) this.#lastError = error;
    if (this.#state === state && error === undefined) return;
    this.#state = state;
    this.emit('health', this.health());
  }

  async #connect(attempt: number): Promise<void> {
    if (this.#closing) return;
    this.#setState(attempt === 0 ? 'connecting' : 'reconnecting');
    try {
      const certificateManager = await certificateManagerFor(this.settings.pkiDir);
      if (this.#closing) return;
      const client = OPCUAClient.create({
        applicationName: this.settings.applicationName ?? 'Twinflow',
        clientName: 'Twinflow',
        endpointMustExist: false,
        securityMode: SECURITY_MODES[this.settings.securityMode],
        securityPolicy: SECURITY_POLICIES[this.settings.securityPolicy],
        clientCertificateManager: certificateManager,
        keepSessionAlive: true,
        requestedSessionTimeout: 60_000,
        // node-opcua repairs lost connections with this backoff; the first connection is retried by #scheduleRetry.
        connectionStrategy: {
          initialDelay: this.settings.reconnectInitialDelay ?? 250,
          maxDelay: this.settings.reconnectMaxDelay ?? 10_000,
          maxRetry: 1_000_000,
          randomisationFactor: 0.1,
        },
      });
      this.#client = client;
      this.#wireClientEvents(client);
      // Unknown server certificates: accept only when the user opted in (node-opcua puts them in rejected/ otherwise).
      certificateManager.automaticallyAcceptUnknownCertificate = this.settings.acceptUnknownServerCertificate;
      await connectOnce(client, this.settings.endpointUrl);
      if (this.#closing) { await this.#disposeClient(); return; }
      const session = await client.createSession(userIdentity(this.settings.identity));
      if (this.#closing) { await session.close().catch(() => undefined); await this.#disposeClient(); return; }
      this.#session = session;
      this.#createChunk = undefined;
      session.on('session_closed', () => {
        if (!this.#closing) this.#logger.warn(`OPC UA session to ${this.settings.endpointUrl} was closed by the server`);
      });
      this.#lastError = undefined;
      this.#setState('connected');
      this.#startWatchdog();
      await this.#activateAll();
    } catch (err) {
      const message = describeError(err, this.settings.endpointUrl);
      await this.#disposeClient();
      if (this.#closing) return;
      this.#setState('reconnecting', message);
      this.#scheduleRetry(attempt + 1);
    }
  }

  #scheduleRetry(attempt: number): void {
    const initial = this.settings.reconnectInitialDelay ?? 250;
    const max = this.settings.reconnectMaxDelay ?? 10_000;
    const delay = Math.min(max, initial * 2 ** Math.min(attempt, 16));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect(attempt);
    }, delay);
  }

  #wireClientEvents(client: OPCUAClient): void {
    client.on('start_reconnection', () => {
      this.#reconnects++;
      this.#setState('reconnecting', `connection to ${this.settings.endpointUrl} lost`);
    });
    client.on('after_reconnection', (err?: Error | null) => {
      if (err) {
        this.#setState('reconnecting', describeError(err, this.settings.endpointUrl));
        return;
      }
      this.#lastError = undefined;
      // The server may have restarted with another address space: learn types and arguments again.
      this.#targetTypes.clear();
      this.#argumentDefinitions.clear();
      for (const slot of this.#slots.values()) slot.lastActivity = Date.now();
      // Requests outstanding on the broken channel are gone; node-opcua sends its usual 5 again.
      this.#deepenPublishPipeline();
      this.#setState('connected');
    });
    client.on('connection_failed', (err: Error) => {
      this.#lastError = describeError(err, this.settings.endpointUrl);
    });
  }

  async #disposeClient(): Promise<void> {
    const client = this.#client;
    const session = this.#session;
    this.#client = undefined;
    this.#session = undefined;
    this.#slots.clear();
    for (const r of this.#registrations) { r.groups = []; r.active = 0; }
    if (session) await withTimeout(session.close(true), 3000).catch(() => undefined);
    if (client) await withTimeout(client.disconnect(), 3000).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#watchdogTimer) clearInterval(this.#watchdogTimer);
    await this.#activation.catch(() => undefined);
    await this.#disposeClient();
    this.#registrations.clear();
    this.#setState('closed');
    this.removeAllListeners();
  }

  // ---- monitored items -------------------------------------------------------------------------

  monitor<T>(options: MonitorOptions<T>): MonitorHandle {
    const registration: Registration = {
      ...(options as MonitorOptions<unknown>),
      groups: [],
      active: 0,
      closed: false,
      lastSourceTime: new Float64Array(options.items.length).fill(Number.NaN),
      lastStatusCode: new Float64Array(options.items.length),
      lastValue: new Array<unknown>(options.items.length).fill(undefined),
      arrivedIndexes: [],
      arrivedValues: [],
      flushScheduled: false,
    };
    this.#registrations.add(registration);
    this.start();
    if (this.#session) this.#queueActivation(() => this.#activate(registration));
    return {
      get activeItems() { return registration.active; },
      close: async () => {
        registration.closed = true;
        this.#registrations.delete(registration);
        await this.#activation.catch(() => undefined);
        await this.#removeGroups(registration);
        this.emit('health', this.health());
      },
    };
  }

  /** Activations run one after another so two deploys never race to create the same subscription. */
  #queueActivation(job: () => Promise<void>): Promise<void> {
    const next = this.#activation.then(job, job);
    this.#activation = next.catch((err: unknown) => {
      this.#logger.warn(`OPC UA ${this.settings.endpointUrl}: ${describeError(err, this.settings.endpointUrl)}`);
    });
    return this.#activation;
  }

  #activateAll(): Promise<void> {
    return this.#queueActivation(async () => {
      for (const r of [...this.#registrations]) await this.#activate(r);
    });
  }

  async #slotFor(publishingInterval: number): Promise<SubscriptionSlot> {
    const existing = this.#slots.get(publishingInterval);
    if (existing) return existing;
    const session = this.#requireSession();
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: publishingInterval,
      requestedLifetimeCount: MAX_KEEP_ALIVE_COUNT * 6,
      requestedMaxKeepAliveCount: MAX_KEEP_ALIVE_COUNT,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 10,
    });
    const slot: SubscriptionSlot = {
      subscription,
      publishingInterval,
      lastActivity: Date.now(),
      keepAlivePeriodMs: subscription.publishingInterval * subscription.maxKeepAliveCount,
    };
    const touch = () => { slot.lastActivity = Date.now(); };
    subscription.on('keepalive', touch);
    subscription.on('raw_notification', touch);
    subscription.on('internal_error', (err: Error) => this.#logger.warn(`OPC UA subscription error: ${err.message}`));
    this.#slots.set(publishingInterval, slot);
    return slot;
  }

  /** Resolves once connected (right after a deploy, or during a repair); fails clearly after timeoutMs. */
  async whenConnected(timeoutMs: number): Promise<void> {
    this.start();
    if (this.connected) return;
    await new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.removeListener('health', onHealth);
        if (err) reject(err);
        else resolve();
      };
      const onHealth = () => {
        if (this.connected) finish();
        else if (this.#state === 'closed') finish(new Error(`the connection to ${this.settings.endpointUrl} is closed`));
      };
      const timer = setTimeout(() => {
        finish(new Error(`not connected to ${this.settings.endpointUrl} after ${timeoutMs / 1000} s${this.#lastError ? ` (${this.#lastError})` : ''}`));
      }, timeoutMs);
      this.on('health', onHealth);
    });
  }

  async #sessionWithin(timeoutMs: number): Promise<ClientSession> {
    await this.whenConnected(timeoutMs);
    return this.#requireSession();
  }

  #requireSession(): ClientSession {
    if (!this.#session || !this.connected) {
      throw new Error(`not connected to ${this.settings.endpointUrl}${this.#lastError ? ` (${this.#lastError})` : ''}`);
    }
    return this.#session;
  }

  /** How many items one CreateMonitoredItems call may carry: the server's stated limit, else CREATE_CHUNK. */
  #createChunkFor(session: ClientSession): Promise<number> {
    this.#createChunk ??= session
      .read({ nodeId: MAX_MONITORED_ITEMS_PER_CALL, attributeId: AttributeIds.Value })
      .then((dataValue) => {
        const limit = Number(dataValue.statusCode.isGood() ? dataValue.value?.value : 0);
        return Number.isInteger(limit) && limit > 0 ? Math.min(limit, CREATE_CHUNK) : CREATE_CHUNK;
      })
      .catch(() => CREATE_CHUNK);
    return this.#createChunk;
  }

  async #activate(registration: Registration): Promise<void> {
    if (registration.closed || !this.#session) return;
    const session = this.#requireSession();
    // Independent requests, sent together: the subscription, browse paths, the server's per-call limit.
    const [slot, nodeIds, createChunk] = await Promise.all([
      this.#slotFor(registration.publishingInterval),
      resolveNodeIds(session, registration.items),
      this.#createChunkFor(session),
    ]);
    // Before the items exist, so that their first values (a cycle of them all) already find the requests.
    this.#deepenPublishPipeline();
    // Items with the same parameters go to the server together, in as few calls as the server allows.
    const batches = new Map<string, number[]>();
    nodeIds.forEach((resolved, index) => {
      if (typeof resolved !== 'string') {
        registration.onItemError(registration.items[index]!, index, resolved.error);
        return;
      }
      const item = registration.items[index]!;
      const key = `${item.samplingInterval}|${item.deadbandType}|${item.deadbandValue}|${item.queueSize}`;
      let list = batches.get(key);
      if (!list) batches.set(key, (list = []));
      list.push(index);
    });
    for (const indexes of batches.values()) {
      for (let start = 0; start < indexes.length; start += createChunk) {
        if (registration.closed) return;
        await this.#createGroup(registration, slot, indexes.slice(start, start + createChunk), nodeIds as string[]);
      }
    }
    this.emit('health', this.health());
  }

  /** Creates one group of items (same parameters) in one CreateMonitoredItems call and reports each item's outcome. */
  async #createGroup(registration: Registration, slot: SubscriptionSlot, chunk: number[], nodeIds: string[]): Promise<void> {
    const toMonitor: ReadValueIdOptions[] = chunk.map((i) => ({ nodeId: nodeIds[i]!, attributeId: AttributeIds.Value }));
    const group = ClientMonitoredItemGroup.create(slot.subscription, toMonitor, monitoringParameters(registration.items[chunk[0]!]!), TimestampsToReturn.Both);
    // Listening before the request goes out: the first values can arrive in the same read as the
    // answer, before an awaited monitorItems() would hand the group over.
    group.on('changed', (_item: unknown, dataValue: DataValue, position: number) => {
      this.#deliver(registration, chunk[position]!, dataValue);
    });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        group.once('initialized', () => resolve());
        group.once('err', (message: string) => reject(new Error(`creating ${chunk.length} monitored items failed: ${message}`)));
      }),
      CREATE_TIMEOUT_MS,
      `the server did not answer the creation of ${chunk.length} monitored items`,
    );
    registration.groups.push(group);
    group.monitoredItems.forEach((monitoredItem, position) => {
      const status = monitoredItem.statusCode;
      const index = chunk[position]!;
      if (status && status.isNotGood()) {
        registration.onItemError(registration.items[index]!, index, `the server refused it: ${status.name} (${status.description})`);
      } else {
        registration.active++;
      }
    });
  }

  /** Tops up the session's outstanding publish requests to suit the monitored items (see PUBLISH_REQUESTS_MIN). */
  #deepenPublishPipeline(): void {
    let items = 0;
    for (const r of this.#registrations) items += r.items.length;
    const wanted = Math.min(PUBLISH_REQUESTS_MAX, Math.max(PUBLISH_REQUESTS_MIN, PUBLISH_REQUESTS_MIN + Math.ceil(items / ITEMS_PER_PUBLISH_REQUEST)));
    const engine = (this.#session as { getPublishEngine?: () => { nbPendingPublishRequests: number; send_publish_request(): void } } | undefined)?.getPublishEngine?.();
    if (!engine || typeof engine.send_publish_request !== 'function') return;
    for (let pending = engine.nbPendingPublishRequests; pending < wanted; pending++) engine.send_publish_request();
  }

  /** Notes a value that arrived; the first of a cycle schedules the flush that makes the cycle's changes. */
  #deliver(registration: Registration, index: number, dataValue: DataValue): void {
    if (registration.closed) return;
    registration.arrivedIndexes.push(index);
    registration.arrivedValues.push(dataValue);
    if (registration.flushScheduled) return;
    registration.flushScheduled = true;
    // Once per batch rather than per value: the watchdog needs no finer time.
    this.#lastDataAt = Date.now();
    setImmediate(() => this.#flush(registration));
  }

  /** Makes the changes of the values that arrived since the last flush and hands them over in one batch. */
  #flush(registration: Registration): void {
    registration.flushScheduled = false;
    const indexes = registration.arrivedIndexes;
    const dataValues = registration.arrivedValues;
    registration.arrivedIndexes = [];
    registration.arrivedValues = [];
    if (registration.closed) return;
    const changes: unknown[] = [];
    for (let i = 0; i < indexes.length; i++) {
      const index = indexes[i]!;
      const dataValue = dataValues[i]!;
      const sourceTime = dataValue.sourceTimestamp?.getTime();
      const statusCode = dataValue.statusCode.value;
      const value = plainValue(dataValue.value);
      // After a repair the server sends each item's current value again: skip it when it is the one we delivered.
      if (sourceTime !== undefined && registration.lastSourceTime[index] === sourceTime && registration.lastStatusCode[index] === statusCode) {
        const last = registration.lastValue[index];
        if (Object.is(last, value) || jsonEqual(last, value)) continue;
      }
      const serverTime = dataValue.serverTimestamp ? dataValue.serverTimestamp.getTime() : undefined;
      changes.push(registration.makeChange(index, value, sourceTime, serverTime, statusCode, qualityOf(statusCode)));
      registration.lastSourceTime[index] = sourceTime ?? Number.NaN;
      registration.lastStatusCode[index] = statusCode;
      registration.lastValue[index] = value;
    }
    this.#valuesReceived += changes.length;
    if (changes.length > 0) registration.onChanges(changes);
  }

  async #removeGroups(registration: Registration): Promise<void> {
    const groups = registration.groups;
    registration.groups = [];
    registration.active = 0;
    if (!this.connected) return;
    await Promise.all(groups.map((g) => withTimeout(g.terminate(), 3000).catch(() => undefined)));
  }

  // ---- watchdog --------------------------------------------------------------------------------

  #startWatchdog(): void {
    if (this.#watchdogTimer) return;
    this.#watchdogTimer = setInterval(() => this.#checkSubscriptions(), 1000);
    this.#watchdogTimer.unref();
  }

  #checkSubscriptions(): void {
    if (this.#state !== 'connected' && this.#state !== 'stale') return;
    if (this.#repairing) return;
    const periods = this.settings.watchdogKeepAlivePeriods ?? 3;
    const now = Date.now();
    for (const slot of this.#slots.values()) {
      if (now - slot.lastActivity > slot.keepAlivePeriodMs * periods + 1000) {
        void this.#repairStale(slot);
        return;
      }
    }
    if (this.#state === 'stale') this.#setState('connected');
  }

  /**
   * A subscription that sends neither data nor keep-alives. If the server still answers a read, the
   * subscription alone is broken: rebuild it. If it does not, the connection is dead: leave the repair
   * to the reconnection (rebuilding now would race it and leave items twice on the server), and start
   * a fresh connection when the dead one is never noticed (a network that drops packets silently).
   */
  async #repairStale(slot: SubscriptionSlot): Promise<void> {
    if (this.#repairing) return;
    this.#repairing = true;
    try {
      this.#setState('stale', `no data and no keep-alive for ${Math.round((Date.now() - slot.lastActivity) / 1000)} s on the ${slot.publishingInterval} ms subscription`);
      if (await this.#serverAnswers(3000)) {
        this.#staleProbeFailures = 0;
        this.#staleRepairs++;
        await this.#queueActivation(async () => {
          this.#slots.delete(slot.publishingInterval);
          const affected = [...this.#registrations].filter((r) => r.publishingInterval === slot.publishingInterval);
          for (const r of affected) { r.groups = []; r.active = 0; }
          await withTimeout(slot.subscription.terminate(), 3000).catch(() => undefined);
          for (const r of affected) await this.#activate(r);
        });
        const fresh = this.#slots.get(slot.publishingInterval);
        if (fresh) fresh.lastActivity = Date.now();
        if ((this.#state as HealthState) === 'stale') this.#setState('connected');
        return;
      }
      this.#staleProbeFailures++;
      if (this.#staleProbeFailures >= 3 && !this.#closing) {
        this.#staleProbeFailures = 0;
        this.#staleRepairs++;
        this.#reconnects++;
        await this.#disposeClient();
        if (!this.#closing) void this.#connect(1);
      }
    } finally {
      this.#repairing = false;
    }
  }

  /** Whether the server answers a read of its clock within timeoutMs. */
  async #serverAnswers(timeoutMs: number): Promise<boolean> {
    const session = this.#session;
    if (!session) return false;
    try {
      const [value] = await withTimeout(session.read([{ nodeId: 'i=2258', attributeId: AttributeIds.Value }]), timeoutMs);
      return value !== undefined && value.statusCode.isGood();
    } catch {
      return false;
    }
  }

  // ---- on-demand services ----------------------------------------------------------------------

  async read(nodeIds: string[]): Promise<{ nodeId: string; value: unknown; statusCode: number; quality: Quality; sourceTime?: number; serverTime?: number }[]> {
    const session = this.#requireSession();
    const results = await session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
    return results.map((dv, i) => ({
      nodeId: nodeIds[i]!,
      value: plainValue(dv.value),
      statusCode: dv.statusCode.value,
      quality: qualityOf(dv.statusCode.value),
      ...(dv.sourceTimestamp ? { sourceTime: dv.sourceTimestamp.getTime() } : {}),
      ...(dv.serverTimestamp ? { serverTime: dv.serverTimestamp.getTime() } : {}),
    }));
  }

  /** The children of a node (default: the Objects folder), with what a dialog needs to map them. */
  async browse(nodeId = 'i=85'): Promise<BrowsedNode[]> {
    const session = this.#requireSession();
    const result = await session.browse({
      nodeId,
      browseDirection: BrowseDirection.Forward,
      includeSubtypes: true,
      referenceTypeId: 'HierarchicalReferences',
      resultMask: 63,
    });
    if (result.statusCode.isNotGood()) throw new Error(`browse ${nodeId}: ${result.statusCode.name}`);
    const references = result.references ?? [];
    const variables = references.filter((r) => r.nodeClass === NodeClass.Variable).map((r) => r.nodeId.toString());
    const dataTypes = variables.length > 0
      ? await session.read(variables.map((id) => ({ nodeId: id, attributeId: AttributeIds.DataType })))
      : [];
    const dataTypeOf = new Map(variables.map((id, i) => [id, dataTypes[i]?.value.value?.toString() as string | undefined]));
    return references.map((r) => {
      const id = r.nodeId.toString();
      const dataType = dataTypeOf.get(id);
      return {
        nodeId: id,
        browseName: r.browseName.toString(),
        displayName: r.displayName.text ?? r.browseName.name ?? '',
        nodeClass: NodeClass[r.nodeClass] ?? String(r.nodeClass),
        ...(dataType ? { dataType: dataTypeName(dataType) } : {}),
      };
    });
  }

  // ---- writes and method calls -----------------------------------------------------------------

  #targetTypes = new Map<string, TargetType>();
  #argumentDefinitions = new Map<string, ArgumentDefinition>();

  /** DataType (reduced to its built-in type) and ValueRank of each variable, read once and cached. */
  async #typesOf(session: ClientSession, nodeIds: string[]): Promise<Map<string, TargetType>> {
    const missing = [...new Set(nodeIds.filter((id) => !this.#targetTypes.has(id)))];
    if (missing.length > 0) {
      const reads = await session.read(missing.flatMap((nodeId) => [
        { nodeId, attributeId: AttributeIds.DataType },
        { nodeId, attributeId: AttributeIds.ValueRank },
      ]));
      for (let i = 0; i < missing.length; i++) {
        const dataTypeValue = reads[2 * i]!;
        const valueRank = reads[2 * i + 1]!;
        if (dataTypeValue.statusCode.isNotGood()) {
          throw new Error(`${missing[i]}: cannot read its DataType (${dataTypeValue.statusCode.name}); is it a variable on this server?`);
        }
        const dataType = await builtInType(session, dataTypeValue.value.value as NodeIdLike);
        this.#targetTypes.set(missing[i]!, { dataType, valueRank: valueRank.statusCode.isGood() ? Number(valueRank.value.value) : -1 });
      }
    }
    return new Map(nodeIds.map((id) => [id, this.#targetTypes.get(id)!]));
  }

  /**
   * Writes values, each coerced to the variable's DataType first: if any value does not fit, nothing
   * is written and the error names it. Returns each write's StatusCode.
   */
  async write(requests: { nodeId: string; value: unknown; field: string }[], timeoutMs = 10_000): Promise<OperationResult[]> {
    const session = await this.#sessionWithin(timeoutMs);
    const types = await withTimeout(this.#typesOf(session, requests.map((r) => r.nodeId)), timeoutMs, `no answer from ${this.settings.endpointUrl}`);
    const variants = requests.map((r) => toVariant(r.value, types.get(r.nodeId)!, r.field));
    const statuses = await withTimeout(
      session.write(requests.map((r, i) => ({ nodeId: r.nodeId, attributeId: AttributeIds.Value, value: { value: variants[i]! } }))),
      timeoutMs,
      `no answer from ${this.settings.endpointUrl} to the write`,
    );
    return statuses.map((status) => resultOf(status));
  }

  /** Calls methods; arguments are matched to the method's InputArguments by position or by name and coerced. */
  async call(requests: { objectId: string; methodId: string; input: unknown; field: string }[], timeoutMs = 10_000): Promise<OperationResult[]> {
    const session = await this.#sessionWithin(timeoutMs);
    const prepared: { objectId: string; methodId: string; inputArguments: Variant[]; definition: ArgumentDefinition }[] = [];
    for (const request of requests) {
      let definition = this.#argumentDefinitions.get(request.methodId);
      if (!definition) {
        definition = await withTimeout(session.getArgumentDefinition(request.methodId), timeoutMs, `no answer from ${this.settings.endpointUrl}`);
        this.#argumentDefinitions.set(request.methodId, definition);
      }
      const args = methodArguments(request.input, definition, request.field);
      const inputArguments = await Promise.all(args.map(async (value, i) => {
        const argument = definition!.inputArguments[i]!;
        const dataType = await builtInType(session, argument.dataType);
        return toVariant(value, { dataType, valueRank: argument.valueRank }, `${request.field}.${argument.name ?? i}`);
      }));
      prepared.push({ objectId: request.objectId, methodId: request.methodId, inputArguments, definition });
    }
    const results = await withTimeout(
      session.call(prepared.map(({ objectId, methodId, inputArguments }) => ({ objectId, methodId, inputArguments }))),
      timeoutMs,
      `no answer from ${this.settings.endpointUrl} to the method call`,
    );
    return results.map((result, i) => {
      const outputs: Record<string, unknown> = {};
      (result.outputArguments ?? []).forEach((variant, k) => {
        outputs[prepared[i]!.definition.outputArguments[k]?.name ?? String(k)] = plainValue(variant);
      });
      const firstBadArgument = (result.inputArgumentResults ?? []).findIndex((s) => s.isNotGood());
      return {
        ...resultOf(result.statusCode),
        outputs,
        ...(firstBadArgument >= 0 ? { badArgument: prepared[i]!.definition.inputArguments[firstBadArgument]?.name ?? String(firstBadArgument) } : {}),
      };
    });
  }

  /** Runs a job against the live session; throws a clear error when not connected. */
  withSession<T>(job: (session: ClientSession) => Promise<T>): Promise<T> {
    return job(this.#requireSession());
  }
}

export interface BrowsedNode {
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: string;
  dataType?: string;
}

function connectOnce(client: OPCUAClient, endpointUrl: string): Promise<void> {
  // The first attempt must fail fast so the caller's own backoff (which close() can cancel) takes over.
  return new Promise<void>((resolve, reject) => {
    const onFail = (err: Error) => reject(err);
    client.once('backoff', () => {
      client.removeListener('connection_failed', onFail);
      reject(new Error(`cannot reach ${endpointUrl}`));
    });
    client.once('connection_failed', onFail);
    client.connect(endpointUrl).then(resolve, reject);
  });
}

function userIdentity(identity: IdentitySettings): UserIdentityInfo {
  switch (identity.type) {
    case 'anonymous':
      return { type: UserTokenType.Anonymous };
    case 'username':
      return { type: UserTokenType.UserName, userName: identity.userName, password: identity.password };
    case 'certificate':
      // node-opcua wants the certificate as DER; Node's X509Certificate gives it from the PEM and checks it parses.
      return {
        type: UserTokenType.Certificate,
        certificateData: new X509Certificate(identity.certificatePem).raw,
        privateKey: identity.privateKeyPem as never,
      };
  }
}

export interface OperationResult {
  statusCode: number;
  status: string;
  good: boolean;
  description?: string;
  outputs?: Record<string, unknown>;
  badArgument?: string;
}

function resultOf(status: StatusCode): OperationResult {
  return {
    statusCode: status.value,
    status: status.name,
    good: status.isGood(),
    ...(status.isGood() ? {} : { description: status.description }),
  };
}

/** Built-in DataType of a DataType NodeId (a custom or enumeration type reduced to its base). */
async function builtInType(session: ClientSession, dataTypeId: NodeIdLike): Promise<DataType> {
  const id = typeof dataTypeId === 'string' ? dataTypeId : dataTypeId.toString();
  const match = /^(?:ns=0;)?i=(\d+)$/.exec(id);
  if (match && Number(match[1]) <= 25) return Number(match[1]) as DataType;
  return session.getBuiltInDataType(dataTypeId as NodeId);
}

/** Arguments in definition order: from an array (by position), an object (by name) or one bare value. */
export function methodArguments(input: unknown, definition: ArgumentDefinition, field: string): unknown[] {
  const expected = definition.inputArguments;
  const names = expected.map((a, i) => a.name ?? `argument${i}`);
  if (input === undefined || input === null || input === '') {
    if (expected.length > 0) throw new Error(`${field}: the method needs ${expected.length} argument(s): ${names.join(', ')}`);
    return [];
  }
  if (Array.isArray(input)) {
    if (input.length !== expected.length) throw new Error(`${field}: the method takes ${expected.length} argument(s) (${names.join(', ')}), got ${input.length}`);
    return input;
  }
  if (typeof input === 'object' && !Buffer.isBuffer(input) && !(input instanceof Date)) {
    const given = input as Record<string, unknown>;
    const unknown = Object.keys(given).filter((k) => !names.includes(k));
    if (unknown.length > 0) throw new Error(`${field}: unknown argument ${unknown.map((u) => `"${u}"`).join(', ')}; the method takes ${names.join(', ') || 'none'}`);
    const missing = names.filter((n) => !(n in given));
    if (missing.length > 0) throw new Error(`${field}: missing argument ${missing.map((m) => `"${m}"`).join(', ')}`);
    return names.map((n) => given[n]);
  }
  if (expected.length !== 1) throw new Error(`${field}: the method takes ${expected.length} argument(s) (${names.join(', ')}); give them as an array or an object`);
  return [input];
}

function monitoringParameters(item: ItemSpec): MonitoringParametersOptions {
  const filter = item.deadbandType === 'none'
    ? null
    : new DataChangeFilter({
      trigger: DataChangeTrigger.StatusValue,
      deadbandType: item.deadbandType === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
      deadbandValue: item.deadbandValue,
    });
  return { samplingInterval: item.samplingInterval, filter, queueSize: item.queueSize, discardOldest: true };
}

/** NodeIds for the items: given ones as they are, browse paths translated in one call. */
async function resolveNodeIds(session: ClientSession, items: ItemSpec[]): Promise<(string | { error: string })[]> {
  const out: (string | { error: string })[] = items.map((item) => item.nodeId ?? { error: '' });
  const pathIndexes = items.flatMap((item, i) => (item.browsePath ? [i] : []));
  if (pathIndexes.length === 0) return out;
  const results = await session.translateBrowsePath(pathIndexes.map((i) => makeBrowsePath('ObjectsFolder', items[i]!.browsePath!)));
  pathIndexes.forEach((itemIndex, k) => {
    const result = results[k]!;
    const target = result.targets?.[0];
    out[itemIndex] = result.statusCode.isGood() && target
      ? target.targetId.toString()
      : { error: `browse path ${items[itemIndex]!.browsePath} does not resolve: ${result.statusCode.name}` };
  });
  return out;
}

/** A JSON-friendly JavaScript value for a Variant: numbers, strings, booleans, ISO dates, plain arrays. */
export function plainValue(variant: Variant | null | undefined): unknown {
  if (!variant) return null;
  const value = variant.value as unknown;
  // The common case first, without a call: this runs for every value the server sends.
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  const is64 = variant.dataType === DataType.Int64 || variant.dataType === DataType.UInt64;
  if (variant.arrayType === VariantArrayType.Array || variant.arrayType === VariantArrayType.Matrix) {
    if (ArrayBuffer.isView(value) && !Buffer.isBuffer(value)) return Array.from(value as unknown as ArrayLike<number>);
    if (Array.isArray(value)) return value.map((element) => plainScalar(element, is64));
  }
  return plainScalar(value, is64);
}

function plainScalar(v: unknown, is64: boolean): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  // node-opcua carries 64-bit integers as [high, low] words.
  if (is64 && Array.isArray(v) && v.length === 2 && typeof v[0] === 'number') return v[0] * 2 ** 32 + (v[1] as number);
  if (typeof v === 'object') {
    const o = v as { text?: unknown; name?: unknown; toJSON?: () => unknown; toString(): string };
    if (Buffer.isBuffer(v)) return v;
    if ('text' in o && 'locale' in o) return o.text ?? null;
    if (typeof o.toJSON === 'function') return o.toJSON();
  }
  return v;
}

function dataTypeName(nodeId: string): string {
  const match = /^(?:ns=0;)?i=(\d+)$/.exec(nodeId);
  if (match) {
    const name = DataType[Number(match[1])];
    if (name) return name;
  }
  return nodeId;
}

export function describeError(err: unknown, endpointUrl: string): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/BadCertificateUntrusted|certificate.*(untrusted|rejected)|BadSecurityChecksFailed/i.test(message)) {
    return `the server certificate of ${endpointUrl} is not trusted: trust it in the endpoint's dialog, or allow unknown certificates (${message.split('\n')[0]})`;
  }
  if (/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/i.test(message)) {
    return `the server refused the user identity (${message.split('\n')[0]})`;
  }
  return message.split('\n')[0] ?? message;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what = 'timed out'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

export { StatusCodes };

// ---- sharing ---------------------------------------------------------------------------------

interface SharedConnection {
  connection: OpcuaConnection;
  users: number;
}

const sharedConnections = new Map<string, SharedConnection>();

function sharingKey(settings: OpcuaEndpointSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

/**
 * The connection for these settings, created on first use and shared by every user in the process:
 * two endpoint config nodes for the same server and identity still make one session.
 */
export function acquireConnection(settings: OpcuaEndpointSettings, logger?: Logger): { connection: OpcuaConnection; release: () => Promise<void> } {
  const key = sharingKey(settings);
  let shared = sharedConnections.get(key);
  if (!shared) {
    shared = { connection: new OpcuaConnection(settings, logger), users: 0 };
    sharedConnections.set(key, shared);
  }
  shared.users++;
  const entry = shared;
  let released = false;
  return {
    connection: entry.connection,
    release: async () => {
      if (released) return;
      released = true;
      entry.users--;
      if (entry.users === 0) {
        sharedConnections.delete(key);
        await entry.connection.close();
      }
    },
  };
}

/** How many shared connections are open in this process (for tests and diagnostics). */
export function openConnectionCount(): number {
  return sharedConnections.size;
}
