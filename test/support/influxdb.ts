// A real InfluxDB 1.x (Debian package `influxdb`, /usr/bin/influxd) for tests and benchmarks: started
// with a temporary config and data directory on free loopback ports, ready when /ping answers,
// stopped by PID (SIGTERM, then SIGKILL), and restartable on the same ports and data (outage tests).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

export interface InfluxStartOptions {
  /** Keep data here (created when missing) instead of a fresh temporary directory. */
  dataDir?: string;
  /** Turn on authentication and create this admin user (the first user needs no credentials). */
  admin?: { username: string; password: string };
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
  /** Extra lines appended to the [http] section (e.g. max-body-size). */
  httpExtra?: string[];
}

/** The influxd binary: INFLUXD, else PATH, else the Debian package's place. */
export function influxdPath(): string {
  if (process.env.INFLUXD) return process.env.INFLUXD;
  const found = spawnSync('sh', ['-c', 'command -v influxd'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  return '/usr/bin/influxd';
}

export function influxdAvailable(): boolean {
  return existsSync(influxdPath());
}

export class InfluxDbServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = '';
  readonly url: string;

  private constructor(
    readonly httpPort: number,
    readonly rpcPort: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly options: InfluxStartOptions,
  ) {
    this.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${httpPort}`;
  }

  static async start(options: InfluxStartOptions = {}): Promise<InfluxDbServer> {
    const ownsDir = options.dataDir === undefined;
    const dir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'twinflow-influx-'));
    mkdirSync(dir, { recursive: true });
    const httpPort = await freePort();
    let rpcPort = await freePort();
    while (rpcPort === httpPort) rpcPort = await freePort();
    const server = new InfluxDbServer(httpPort, rpcPort, dir, ownsDir, options);
    try {
      await server.restart();
      if (options.admin) await server.#createAdmin(options.admin);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  get host(): string {
    return '127.0.0.1';
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What influxd printed (for failure messages). */
  get log(): string {
    return this.#log;
  }

  #writeConfig(): string {
    const file = path.join(this.dir, 'influxdb.conf');
    const tls = this.options.tls;
    const lines = [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${this.rpcPort}"`,
      '[meta]',
      `  dir = "${path.join(this.dir, 'meta')}"`,
      '  logging-enabled = false',
      '[data]',
      `  dir = "${path.join(this.dir, 'data')}"`,
      `  wal-dir = "${path.join(this.dir, 'wal')}"`,
      '  query-log-enabled = false',
      '  trace-logging-enabled = false',
      '[coordinator]',
      '  write-timeout = "10s"',
      '[monitor]',
      '  store-enabled = false',
      '[subscriber]',
      '  enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${this.httpPort}"`,
      `  auth-enabled = ${this.options.admin ? 'true' : 'false'}`,
      '  log-enabled = false',
      '  pprof-enabled = false',
      `  https-enabled = ${tls ? 'true' : 'false'}`,
      ...(tls ? [`  https-certificate = "${tls.certFile}"`, `  https-private-key = "${tls.keyFile}"`] : []),
      ...(this.options.httpExtra ?? []).map((l) => `  ${l}`),
      '[logging]',
      '  level = "warn"',
      '  suppress-logo = true',
      '[continuous_queries]',
      '  enabled = true',
      '  log-enabled = false',
      '  run-interval = "1s"',
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  /** Starts influxd (again) on the same ports and data directory; resolves once /ping answers. */
  async restart(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error(`influxd is already running (pid ${this.pid})`);
    const config = this.#writeConfig();
    const child = spawn(influxdPath(), ['run', '-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const append = (d: Buffer) => {
      this.#log += d.toString();
      if (this.#log.length > 200_000) this.#log = this.#log.slice(-100_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', (err) => { this.#log += `\nspawn error: ${err.message}`; });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`influxd exited before it was ready:\n${this.#log.slice(-4000)}`);
      if (await this.ping()) return;
      if (Date.now() > deadline) throw new Error(`influxd did not answer /ping within ${timeoutMs} ms:\n${this.#log.slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** True when /ping answers 204. */
  async ping(): Promise<boolean> {
    try {
      const res = await this.#request('GET', '/ping', undefined, 1000);
      return res.status === 204;
    } catch {
      return false;
    }
  }

  /** Plain HTTP(S) to influxd; a test server's self-signed certificate is accepted. */
  #request(method: string, route: string, body?: string, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const url = new URL(route, this.url);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, {
        method,
        timeout: timeoutMs,
        rejectUnauthorized: false,
        agent: false,
        headers: { ...this.#auth(), ...headers, ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${route}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Stops influxd by its PID: SIGTERM, then SIGKILL after graceMs. Keeps the data directory. */
  async halt(graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Kills influxd as a crash would. */
  async kill(): Promise<void> {
    if (!this.#child || !this.running) return;
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  /** Stops influxd and removes the data directory if this server created it. */
  async stop(): Promise<void> {
    await this.halt();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  #auth(): Record<string, string> {
    const admin = this.options.admin;
    return admin ? { Authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}` } : {};
  }

  /**
   * Runs InfluxQL over plain HTTP (independent of the code under test) and returns the series of
   * the first statement. `params` are bind parameters ($name in the query).
   */
  async query(q: string, options: { db?: string; params?: Record<string, unknown>; epoch?: 'ms' | 'u' | 'ns' } = {}): Promise<QuerySeries[]> {
    const body = new URLSearchParams({ q, ...(options.db ? { db: options.db } : {}), epoch: options.epoch ?? 'ms' });
    if (options.params) body.set('params', JSON.stringify(options.params));
    const res = await this.#request('POST', '/query', body.toString(), 30_000, { 'Content-Type': 'application/x-www-form-urlencoded' });
    const json = JSON.parse(res.text) as { results?: { series?: QuerySeries[]; error?: string }[]; error?: string };
    if (res.status >= 300 || json.error) throw new Error(`InfluxQL ${q}: ${res.status} ${json.error ?? ''}`);
    const first = json.results?.[0];
    if (first?.error) throw new Error(`InfluxQL ${q}: ${first.error}`);
    return first?.series ?? [];
  }

  /** Rows of the first series as objects keyed by column. */
  async rows(q: string, options: { db?: string; params?: Record<string, unknown> } = {}): Promise<Record<string, unknown>[]> {
    const series = await this.query(q, options);
    return series.flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))));
  }

  /** Writes line protocol directly (for test set-up). */
  async write(db: string, lines: string, precision = 'ms'): Promise<void> {
    const res = await this.#request('POST', `/write?db=${encodeURIComponent(db)}&precision=${precision}`, lines);
    if (res.status !== 204) throw new Error(`write: ${res.status} ${res.text}`);
  }

  async #createAdmin(admin: { username: string; password: string }): Promise<void> {
    const body = new URLSearchParams({ q: `CREATE USER "${admin.username}" WITH PASSWORD '${admin.password.replace(/'/g, "\\'")}' WITH ALL PRIVILEGES` });
    const res = await this.#request('POST', '/query', body.toString(), 30_000, { 'Content-Type': 'application/x-www-form-urlencoded' });
    if (res.status >= 300) throw new Error(`creating the admin user: ${res.status} ${res.text}`);
  }
}

export interface QuerySeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Starts a fresh InfluxDB 1.x; stop it with `stop()` (in `after`, also on failure). */
export function startInfluxDb(options: InfluxStartOptions = {}): Promise<InfluxDbServer> {
  return InfluxDbServer.start(options);
}
