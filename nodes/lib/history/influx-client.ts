// The connection to InfluxDB 1.x (or InfluxDB 3's v1 API) through the npm `influx` package: its
// HTTP pool sends our line protocol and runs queries with bind parameters; its InfluxDB class
// creates databases, retention policies and continuous queries. Retries are ours (the queue), so
// the package's own retries and host back-off are turned off.
import { InfluxDB } from 'influx';
import type { IBackoffStrategy } from 'influx/lib/src/backoff/backoff';
import { Pool, RequestError, ServiceNotAvailableError } from 'influx/lib/src/pool';
import type { RequestOptions } from 'node:https';
import type { Precision } from './line-protocol';
import type { WriteFailure } from './writer';

export interface InfluxSettings {
  host: string;
  port: number;
  protocol: 'http' | 'https';
  /** Path prefix when InfluxDB sits behind a reverse proxy; default none. */
  path?: string;
  database: string;
  /** Retention policy to write into; empty for the database's default. */
  retentionPolicy?: string;
  username?: string;
  password?: string;
  /** TLS options for https (ca, cert, key, rejectUnauthorized, servername ...). */
  tls?: RequestOptions;
  /** Per request, ms. */
  timeoutMs: number;
}

/** Never disable the host: the writer's queue decides when to try again. */
const NO_BACKOFF: IBackoffStrategy = {
  getDelay: () => 0,
  next: () => NO_BACKOFF,
  reset: () => NO_BACKOFF,
};

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET']);

export interface QueryResult {
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  error?: string;
  statement_id?: number;
}

export class InfluxClient {
  readonly influx: InfluxDB;
  readonly #pool: Pool;
  readonly #auth: string | undefined;

  constructor(readonly settings: InfluxSettings) {
    const options = { ...(settings.tls ?? {}), timeout: settings.timeoutMs };
    const pool = { backoff: NO_BACKOFF, maxRetries: 0, requestTimeout: settings.timeoutMs };
    this.influx = new InfluxDB({
      hosts: [{ host: settings.host, port: settings.port, protocol: settings.protocol, path: settings.path ?? '', options }],
      database: settings.database,
      ...(settings.username ? { username: settings.username, password: settings.password ?? '' } : {}),
      pool,
    });
    this.#pool = new Pool(pool);
    this.#pool.addHost(`${settings.protocol}://${settings.host}:${settings.port}${settings.path ?? ''}`, options);
    this.#auth = settings.username ? `${settings.username}:${settings.password ?? ''}` : undefined;
  }

  get label(): string {
    return `${this.settings.protocol}://${this.settings.host}:${this.settings.port}/${this.settings.database}`;
  }

  /** Writes line protocol, as text or as UTF-8 bytes (one request). */
  write(text: string | Buffer, precision: Precision, retentionPolicy = this.settings.retentionPolicy): Promise<void> {
    return this.#pool.discard({
      method: 'POST',
      path: '/write',
      query: { db: this.settings.database, precision, ...(retentionPolicy ? { rp: retentionPolicy } : {}) },
      // The pool takes a Buffer as it takes a string (content-length from Buffer.from, req.write).
      body: text as string,
      ...(this.#auth !== undefined ? { auth: this.#auth } : {}),
    });
  }

  /**
   * Runs InfluxQL with bind parameters (`$name` in the text, values in `params`, never spliced in).
   * Times come back as ms since the epoch.
   */
  async query(text: string, params: Record<string, string | number>, retentionPolicy?: string): Promise<QueryResult[]> {
    const raw = (await this.influx.queryRaw(text, {
      database: this.settings.database,
      precision: 'ms',
      placeholders: params,
      method: 'POST',
      ...(retentionPolicy ? { retentionPolicy } : {}),
    })) as { results?: QueryResult[]; error?: string };
    if (raw.error) throw new Error(`InfluxDB: ${raw.error}`);
    const results = raw.results ?? [];
    const failed = results.find((r) => r.error);
    if (failed) throw new Error(`InfluxDB: ${failed.error}`);
    return results;
  }

  /** Whether InfluxDB answers /ping, and its version. */
  async ping(timeoutMs = 2000): Promise<{ online: boolean; version?: string }> {
    const hosts = await this.influx.ping(timeoutMs);
    const host = hosts[0];
    return host?.online ? { online: true, ...(host.version ? { version: host.version } : {}) } : { online: false };
  }

  /** What a failed write means for the queue. */
  classify(err: unknown): WriteFailure {
    const e = err as Error & { code?: string; res?: { statusCode?: number } };
    if (e instanceof RequestError || typeof e?.res?.statusCode === 'number') {
      const status = e.res?.statusCode as number;
      const message = e.message || `InfluxDB answered ${status}`;
      if (status === 413) return { kind: 'too-large', status, message };
      // Partial writes, type conflicts, unparsable points: sending them again gives the same answer.
      if (status === 400) return { kind: 'rejected', status, message };
      // 401/403 (credentials), 404 (database not there yet), 429: keep the points and try again.
      return { kind: 'transient', status, message: status === 404 ? `${message} (create the database, or turn on "create database")` : message };
    }
    if (e instanceof ServiceNotAvailableError) return { kind: 'transient', message: `InfluxDB unavailable: ${e.message}` };
    if (e?.code && TRANSIENT_CODES.has(e.code)) return { kind: 'transient', message: `${e.code} ${this.label}` };
    return { kind: 'transient', message: e?.message ?? String(err) };
  }
}

export interface SetupOptions {
  createDatabase: boolean;
  /** Duration of the retention policy written into (e.g. 7d); empty keeps the database default. */
  rawRetention?: string;
  /** Downsampling interval (e.g. 1m); empty for none. */
  downsampleInterval?: string;
  /** Retention policy of the downsampled data and its duration (e.g. 52w). */
  downsamplePolicy?: string;
  downsampleRetention?: string;
}

/** InfluxQL durations: 30s, 1m, 7d, 52w, 1h30m; INF for forever (retention only). */
export const DURATION = /^(\d+(ns|u|µ|ms|s|m|h|d|w))+$/;

export function checkSetup(setup: SetupOptions, retentionPolicy: string | undefined): string | undefined {
  if (setup.rawRetention && setup.rawRetention !== 'INF' && !DURATION.test(setup.rawRetention)) return `raw retention: "${setup.rawRetention}" is not an InfluxQL duration like 7d or 12h`;
  if (setup.rawRetention && !retentionPolicy) return 'retention policy: name the policy the raw data goes to (e.g. raw) when raw retention is set';
  if (setup.downsampleInterval) {
    if (!DURATION.test(setup.downsampleInterval)) return `downsample interval: "${setup.downsampleInterval}" is not an InfluxQL duration like 1m`;
    if (!setup.downsamplePolicy) return 'downsample policy: name the retention policy of the downsampled data';
    if (setup.downsampleRetention && setup.downsampleRetention !== 'INF' && !DURATION.test(setup.downsampleRetention)) return `downsample retention: "${setup.downsampleRetention}" is not an InfluxQL duration like 52w`;
  }
  return undefined;
}

function quoted(name: string): string {
  return `"${name.replace(/[\\"]/g, '\\$&')}"`;
}

/** The continuous query's name for a downsampling set-up. */
export function continuousQueryName(setup: SetupOptions): string {
  return `twinflow_${setup.downsamplePolicy}_${setup.downsampleInterval}`;
}

/**
 * Creates what the settings ask for, idempotently: the database, the raw retention policy (as the
 * default), the downsampled retention policy and a continuous query writing mean values per
 * interval of every numeric field into it (field names `mean_<field>`, as InfluxDB names them).
 */
export async function ensureSetup(client: InfluxClient, setup: SetupOptions): Promise<string[]> {
  const done: string[] = [];
  const db = client.settings.database;
  if (setup.createDatabase) {
    await client.influx.createDatabase(db);
    done.push(`database ${db}`);
  }
  const policies = await client.influx.showRetentionPolicies(db);
  const existing = new Map(policies.map((p) => [p.name, p]));
  const ensurePolicy = async (name: string, duration: string, isDefault: boolean) => {
    const options = { database: db, duration, replication: 1, isDefault };
    if (existing.has(name)) await client.influx.alterRetentionPolicy(name, options);
    else await client.influx.createRetentionPolicy(name, options);
    done.push(`retention policy ${name} (${duration}${isDefault ? ', default' : ''})`);
  };
  const raw = client.settings.retentionPolicy;
  if (setup.rawRetention && raw) await ensurePolicy(raw, setup.rawRetention, true);
  if (setup.downsampleInterval && setup.downsamplePolicy) {
    await ensurePolicy(setup.downsamplePolicy, setup.downsampleRetention || 'INF', false);
    const name = continuousQueryName(setup);
    const queries = await client.influx.showContinousQueries(db);
    if (!queries.some((q) => q.name === name)) {
      const source = raw ? `${quoted(db)}.${quoted(raw)}` : quoted(db) + '..';
      const from = raw ? `${source}./.*/` : `${source}/.*/`;
      await client.influx.createContinuousQuery(name, `SELECT mean(*) INTO ${quoted(db)}.${quoted(setup.downsamplePolicy)}.:MEASUREMENT FROM ${from} GROUP BY time(${setup.downsampleInterval}), *`, db);
    }
    done.push(`continuous query ${name} (mean per ${setup.downsampleInterval} into ${setup.downsamplePolicy})`);
  }
  return done;
}
