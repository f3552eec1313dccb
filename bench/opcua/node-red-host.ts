// Node-RED embedded in the benchmark's client process with RED.init, as a real runtime: nodes are
// loaded by Node-RED's own registry from a nodes directory, flows are deployed through the runtime
// API, messages travel through Node-RED's own routing (asynchronous delivery, as by default). No
// editor, no HTTP server. Only the nodes a row needs are loaded, so the Twinflow process never
// sees node-red-contrib-opcua and the other way round.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One node file for the nodes directory: its module (absolute path) and its editor HTML. */
export interface NodeFile {
  /** file name in the nodes directory, without extension; Node-RED names the node set after it */
  name: string;
  module: string;
  /** the editor HTML file to copy, or the HTML text to write */
  htmlFile?: string;
  htmlText?: string;
}

export interface LogEntry {
  level: string;
  text: string;
}

interface RuntimeApi {
  init(settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): unknown };
  events: { once(event: string, listener: () => void): void };
  runtime: { flows: { setFlows(opts: { flows: { flows: unknown[] }; deploymentType: string }): Promise<unknown> } };
}

/** Node-RED's own notices on the first deploy into an empty user directory. */
const NOTICES = /^(Encrypted credentials not found|Projects disabled)/;

const LEVEL_NAMES: Record<number, string> = { 10: 'fatal', 20: 'error', 30: 'warn', 40: 'info', 50: 'debug', 60: 'trace' };

export class NodeRedHost {
  readonly warnings: LogEntry[] = [];
  private red: RuntimeApi | undefined;
  /** Start-up notices (projects disabled, no credentials file yet) are not the nodes' warnings. */
  private capturing = false;

  private constructor(private readonly userDir: string) {}

  /** Starts Node-RED with userDir (an empty temporary folder) and only the given node files. */
  static async start(userDir: string, nodeFiles: NodeFile[]): Promise<NodeRedHost> {
    const host = new NodeRedHost(userDir);
    const nodesDir = path.join(userDir, 'bench-nodes');
    mkdirSync(nodesDir, { recursive: true });
    for (const file of nodeFiles) {
      writeFileSync(path.join(nodesDir, `${file.name}.js`), `module.exports = require(${JSON.stringify(file.module)});\n`);
      const html = path.join(nodesDir, `${file.name}.html`);
      if (file.htmlFile) copyFileSync(file.htmlFile, html);
      else writeFileSync(html, file.htmlText ?? '');
    }
    // Core nodes are not needed; pointing coreNodesDir at our own folder also keeps Node-RED from
    // loading every Node-RED module it finds in the project's node_modules (the dashboard, ...).
    const coreNodesDir = path.join(userDir, 'core-nodes');
    mkdirSync(path.join(coreNodesDir, 'examples'), { recursive: true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const red = require('node-red') as RuntimeApi;
    red.init({
      userDir,
      nodesDir: [nodesDir],
      coreNodesDir,
      flowFile: 'flows.json',
      credentialSecret: 'twinflow-bench-only',
      editorTheme: { projects: { enabled: false } },
      httpAdminRoot: false,
      httpNodeRoot: false,
      disableEditor: true,
      telemetry: { enabled: false },
      diagnostics: { enabled: false },
      runtimeState: { enabled: false },
      logging: {
        bench: {
          level: process.env.TWINFLOW_BENCH_OPCUA_LOG ?? 'warn',
          metrics: false,
          audit: false,
          handler: () => (entry: { level: number; msg: unknown; type?: string; id?: string }) => {
            const text = String(entry.msg);
            if (host.capturing && host.warnings.length < 50 && !NOTICES.test(text)) {
              host.warnings.push({ level: LEVEL_NAMES[entry.level] ?? String(entry.level), text: `${entry.type ? `[${entry.type}] ` : ''}${text}` });
            }
          },
        },
      },
    });
    await red.start();
    host.red = red;
    host.capturing = true;
    return host;
  }

  /** A full deploy through the runtime API; resolves once the flows have started. */
  async deploy(flows: unknown[]): Promise<void> {
    // setFlows resolves when the flows are saved; they start after that.
    const started = new Promise<void>((resolve) => this.runtime.events.once('flows:started', resolve));
    await this.runtime.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
    await started;
  }

  getNode<T>(id: string): T | undefined {
    return (this.runtime.nodes.getNode(id) as T | null) ?? undefined;
  }

  /** Stops the flows (every node's close handler) and the runtime. */
  async stop(): Promise<void> {
    const red = this.red;
    this.red = undefined;
    if (red) await red.stop();
  }

  private get runtime(): RuntimeApi {
    if (!this.red) throw new Error(`Node-RED in ${this.userDir} is not running`);
    return this.red;
  }
}
