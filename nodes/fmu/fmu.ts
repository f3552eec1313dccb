// Node-RED adapter for the `fmu` node: loads an FMU (or a co-simulation set) with the engine in
// this folder, and translates messages into live stepping, what-if runs and batch experiments
// (fmu-node-core.ts), with an honest status and every FMU instance freed on close.
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { binaryPath, CoSimulation, openFmu, runBatch, type FmuArchive, type FmuLogMessage, type SystemSpec } from './index';
import {
  batchPayload,
  classifyMessage,
  describeForDialog,
  Names,
  outputMessages,
  parseSettings,
  shippedFmus,
  whatIfReply,
  type IncomingMessage,
  type NodeSettings,
  type PathContext,
  type RawConfig,
  type Resolved,
} from './fmu-node-core';

type FmuDef = NodeDef & RawConfig;
type Fill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';

/** Our own FMUs, shipped in the package beside dist/. */
const SHIPPED_DIR = path.resolve(__dirname, '..', '..', '..', 'native', 'build');

function prefixed(field: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = new Error(`${field}: ${message}`, { cause: err });
  return wrapped;
}

function short(seconds: number): string {
  return String(Math.round(seconds * 1000) / 1000);
}

export = function register(RED: NodeAPI): void {
  const userDir = (): string => RED.settings.userDir ?? path.join(os.homedir(), '.node-red');

  function FmuNode(this: Node, config: FmuDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const ctx: PathContext = {
      userDir: userDir(),
      shippedDir: SHIPPED_DIR,
      env: (name) => {
        const value = RED.util.getSetting(node as never, name) as unknown;
        return value === undefined || value === null ? undefined : String(value);
      },
    };

    let settings: NodeSettings | undefined;
    let loadError: Error | undefined;
    try {
      settings = parseSettings(config, ctx);
    } catch (err) {
      loadError = err as Error;
    }

    let archives: FmuArchive[] = [];
    let names: Names | undefined;
    let outputs: Resolved[] = [];
    let simulation: CoSimulation | undefined;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    /** wall clock and simulated time the timer measures real time from */
    let anchor = { wall: 0, sim: 0 };
    /** what the status shows about real time: measured over about a second */
    let measured = { wall: 0, sim: 0 };
    let lastVerdict = '';
    let queue: Promise<void> = Promise.resolve();
    let warnings = 0;

    const status = (fill: Fill, shape: 'dot' | 'ring', text: string): void => {
      node.status({ fill, shape, text: text.length > 120 ? `${text.slice(0, 117)}...` : text });
    };
    const fail = (err: Error): void => status('red', 'ring', err.message);
    const timeText = (): string => (simulation ? `t=${short(simulation.time)} s` : '');

    const logger = (entry: FmuLogMessage & { fmu: string }): void => {
      const text = `${entry.fmu}: [${entry.status}] ${entry.category}: ${entry.message}`;
      // Errors also come back in the thrown error; warnings are rare without debug logging.
      if (entry.status === 'warning' && warnings++ < 20) node.warn(text);
      else node.debug(text);
    };

    function systemWithArchives(s: NodeSettings, parameters: Record<string, Record<string, unknown>> = {}): SystemSpec {
      return {
        ...s.system,
        fmus: s.system.fmus.map((f, i) => ({
          ...f,
          fmu: archives[i]!,
          parameters: { ...f.parameters, ...(parameters[f.name] as object) },
          // Debug logging costs an FFI callback per message; errors are logged regardless.
          instantiate: { loggingOn: false, ...f.instantiate },
        })),
      };
    }

    function createSimulation(s: NodeSettings): CoSimulation {
      // Inputs are only kept for what-if replays, needed when some FMU cannot save its state.
      const canRestore = archives.every((a) => a.description.coSimulation?.canGetAndSetFMUState);
      return CoSimulation.createFromArchives(systemWithArchives(s), archives, {
        stepSize: s.stepSize,
        startTime: s.startTime,
        algorithm: s.algorithm,
        logger,
        recordInputs: !canRestore,
      });
    }

    async function load(s: NodeSettings): Promise<void> {
      status('yellow', 'ring', 'loading FMU...');
      archives = await Promise.all(s.system.fmus.map((f, i) => openFmu(f.fmu as string).catch((err: unknown) => { throw prefixed(s.fmuFields[i]!, err); })));
      archives.forEach((archive, i) => {
        try {
          binaryPath(archive); // Co-Simulation and a binary for this platform, checked before anything loads
        } catch (err) {
          throw prefixed(s.fmuFields[i]!, err);
        }
      });
      names = new Names(s.system.fmus.map((f, i) => ({ name: f.name, description: archives[i]!.description })), s.single, s.system.connections ?? []);
      outputs = s.outputNames.length > 0 ? s.outputNames.map((o, i) => names!.resolve(o, `outputNames[${i}]`, 'any')) : names.outputs();
      s.inputMap.forEach((m, i) => names!.resolve(m.input, `inputMap[${i}].input`, 'input'));
      s.whatIf.limits.forEach((l, i) => names!.resolveNumeric(l.variable, `whatIfLimits[${i}].variable`));
      if (closed || s.mode === 'batch') {
        if (!closed) status('grey', 'dot', `ready for batch runs · ${describeSet(s)}`);
        return;
      }
      simulation = createSimulation(s);
      if (closed) {
        simulation.free();
        simulation = undefined;
        return;
      }
      if (s.stepping === 'timer') startTimer(s);
      else status('green', 'dot', `${s.mode === 'live' ? 'loaded' : 'what-if ready'} · ${timeText()}`);
    }

    const describeSet = (s: NodeSettings): string => s.system.fmus.map((f) => f.name).join(', ');

    // ---- live stepping ------------------------------------------------------------------------------

    function sendOutputs(s: NodeSettings): void {
      if (!simulation || outputs.length === 0) return;
      const read = simulation.readMany(outputs.map((o) => o.path));
      const values = outputs.map((o) => ({ name: o.name, path: o.path, ...(o.variable.unit !== undefined && { unit: o.variable.unit }), value: read[o.path]! }));
      node.send([outputMessages(values, s.outputFormat, simulation.time, Date.now())] as never);
    }

    function startTimer(s: NodeSettings): void {
      anchor = { wall: performance.now(), sim: simulation!.time };
      measured = { ...anchor };
      const expected = (s.intervalMs / 1000) * s.realTimeFactor / s.stepSize;
      // At most twice a tick's steps per tick: a slow machine runs behind real time and says so; work never piles up.
      const cap = Math.max(1, Math.ceil(2 * expected));
      const label = s.mode === 'live' ? 'stepping' : 'tracking';
      const tick = (): void => {
        timer = undefined;
        if (closed || !simulation) return;
        try {
          const now = performance.now();
          const target = anchor.sim + ((now - anchor.wall) / 1000) * s.realTimeFactor;
          let due = Math.floor((target - simulation.time) / s.stepSize + 1e-9);
          if (due > cap) {
            due = cap;
            anchor = { wall: now, sim: simulation.time + cap * s.stepSize };
          }
          if (due > 0) simulation.step(due);
          if (simulation.terminated) {
            status('blue', 'ring', `${simulation.terminated.fmu} asked to stop at t=${short(simulation.terminated.time)} s`);
            return;
          }
          if (s.mode === 'live') sendOutputs(s);
          if (now - measured.wall >= 1000) {
            const achieved = (simulation.time - measured.sim) / (((now - measured.wall) / 1000) * s.realTimeFactor);
            measured = { wall: now, sim: simulation.time };
            const lag = achieved < 0.95 ? ` · behind real time (x${(achieved * s.realTimeFactor).toFixed(2)})` : '';
            status(lastVerdict.startsWith('unsafe') ? 'yellow' : 'green', 'dot', `${label} · ${timeText()}${lag}${lastVerdict ? ` · last what-if ${lastVerdict}` : ''}`);
          }
        } catch (err) {
          const error = new Error(`stopped at ${timeText()}: ${(err as Error).message}`, { cause: err });
          fail(error);
          node.error(error, { topic: 'error', payload: error.message, fmu: { time: simulation?.time } });
          return;
        }
        timer = setTimeout(tick, s.intervalMs);
      };
      status('green', 'dot', `${label} · ${timeText()}`);
      timer = setTimeout(tick, s.intervalMs);
    }

    function stopTimer(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    }

    // ---- messages -----------------------------------------------------------------------------------

    async function handle(msg: NodeMessageInFlow & IncomingMessage, request: ReturnType<typeof classifyMessage>, send: (m: unknown) => void, s: NodeSettings, names: Names): Promise<void> {
      switch (request.kind) {
        case 'reset': {
          stopTimer();
          simulation?.free();
          simulation = undefined;
          if (s.mode === 'batch') return;
          simulation = createSimulation(s);
          if (s.stepping === 'timer') startTimer(s);
          else status('green', 'dot', `reset · ${timeText()}`);
          return;
        }
        case 'batch': {
          status('blue', 'dot', `batch run to t=${short(request.run.stopTime)} s...`);
          const result = await runBatch(systemWithArchives(s, request.run.parameters), { stepSize: s.stepSize, startTime: s.startTime, algorithm: s.algorithm, logger }, request.run.request);
          status('grey', 'dot', `batch: ${result.time.length} rows to t=${short(result.time[result.time.length - 1] ?? s.startTime)} s`);
          send({ ...msg, payload: batchPayload(result, request.run.format, names), fmu: { steps: result.steps, stopTime: request.run.stopTime, ...(result.terminated && { terminated: result.terminated }) } });
          return;
        }
        case 'whatIf': {
          const live = requireSimulation();
          const result = await live.whatIf(request.request);
          const reply = whatIfReply(result, request.echo, names);
          lastVerdict = reply.verdict;
          status(reply.verdict === 'safe' ? 'green' : 'yellow', 'dot', `what-if ${reply.summary}`);
          send({ ...msg, whatIf: reply });
          return;
        }
        case 'inputs': {
          const live = requireSimulation();
          // Every value was checked already: either all of the message is applied or none.
          for (const v of request.values) live.setInput(v.path, v.value);
          if (s.stepping === 'message') {
            live.step(s.stepsPerMessage);
            if (s.mode === 'live') sendOutputs(s);
            status('green', 'dot', `${s.mode === 'live' ? 'stepped' : 'tracking'} · ${timeText()}`);
          }
          return;
        }
        case 'tick': {
          const live = requireSimulation();
          if (s.stepping === 'message') {
            live.step(s.stepsPerMessage);
            status('green', 'dot', `${s.mode === 'live' ? 'stepped' : 'tracking'} · ${timeText()}`);
          }
          sendOutputs(s);
          return;
        }
      }
    }

    function requireSimulation(): CoSimulation {
      if (!simulation) throw new Error('the simulation is not running; see the node status');
      return simulation;
    }

    const ready: Promise<void> = settings
      ? load(settings).catch((err: unknown) => {
        loadError = err as Error;
        simulation?.free();
        simulation = undefined;
        fail(loadError);
        node.error(loadError.message);
      })
      : Promise.resolve().then(() => {
        fail(loadError!);
        node.error(loadError!.message);
      });

    node.on('input', (msg: NodeMessageInFlow & IncomingMessage, send, done) => {
      // One message at a time, after the FMU has loaded; every path ends in done().
      queue = queue.then(async () => {
        await ready;
        // Errors name the field and the rule; Catch nodes get them with the message.
        if (loadError || !settings || !names) {
          done(new Error(loadError?.message ?? 'the FMU is not loaded; see the node status'));
          return;
        }
        let request: ReturnType<typeof classifyMessage>;
        try {
          request = classifyMessage(msg, settings, names, { time: settings.startTime });
        } catch (err) {
          // A refused message changes nothing: the simulation goes on.
          status('yellow', 'ring', `refused: ${(err as Error).message}`);
          done(err as Error);
          return;
        }
        try {
          await handle(msg, request, send as (m: unknown) => void, settings, names);
          done();
        } catch (err) {
          status('red', 'ring', (err as Error).message);
          done(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      stopTimer();
      void (async () => {
        await ready.catch(() => undefined);
        await queue.catch(() => undefined);
        stopTimer();
        simulation?.free();
        simulation = undefined;
        done();
      })();
    });
  }

  RED.nodes.registerType('fmu', FmuNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // ---- the edit dialog's view of FMUs -------------------------------------------------------------

  const read = RED.auth.needsPermission('fmu.read');
  const adminContext = (): PathContext => ({ userDir: userDir(), shippedDir: SHIPPED_DIR, env: (name) => process.env[name] });

  RED.httpAdmin.get('/twinflow/fmu/shipped', read, (_req: Request, res: Response) => {
    res.json({ directory: SHIPPED_DIR, fmus: shippedFmus(SHIPPED_DIR) });
  });

  /** ?path=<FMU path or shipped name> or ?system=<the co-simulation set as JSON>. */
  RED.httpAdmin.get('/twinflow/fmu/describe', read, async (req: Request, res: Response) => {
    try {
      const ctx = adminContext();
      let settings: NodeSettings;
      if (typeof req.query.system === 'string') {
        settings = parseSettings({ source: 'system', system: req.query.system, stepSize: 1 }, ctx);
      } else if (typeof req.query.path === 'string') {
        settings = parseSettings({ source: 'file', fmu: req.query.path, stepSize: 1 }, ctx);
      } else {
        res.status(400).json({ error: 'path: an FMU path or shipped name (or system: a co-simulation set) is required' });
        return;
      }
      const members = await Promise.all(settings.system.fmus.map(async (f, i) => {
        try {
          return { name: f.name, archive: await openFmu(f.fmu as string) };
        } catch (err) {
          throw prefixed(settings.fmuFields[i]!, err);
        }
      }));
      res.json(describeForDialog(members, settings.single, settings.system.connections ?? []));
    } catch (err) {
      res.status(400).json({ error: (err as Error).message });
    }
  });

};
