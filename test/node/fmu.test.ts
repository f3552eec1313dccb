// The fmu node inside a real Node-RED runtime with our own FMUs: live stepping (per message and on
// the timer), what-if (verdicts, the live run left untouched), batch runs, bad input refused with
// errors that Catch nodes see, and every FMU instance freed on close and across redeploys.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import koffi from 'koffi';
import helper from 'node-red-node-test-helper';
import { CoSimulation, runBatch } from '../../nodes/fmu/index';
import { collector, eventually, loadFlow, statusOf, type Message } from '../support/node-helpers';
import { ensureBuilt, fmuPath, motorSystem, privateCache, testFmuPath } from '../unit/fmu/helpers';
import fmuNode = require('../../nodes/fmu/fmu');

// Catch and Complete nodes: every message the fmu node takes ends in exactly one of them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

helper.init(require.resolve('node-red'));

const cache = privateCache();
const userDir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-fmu-node-'));
const nodes = [fmuNode, catchNode, completeNode];
const SPINDLE = fmuPath('spindle', 2);

type Config = Record<string, unknown>;

// Node ids must not equal any property value (Node-RED takes such values for config node references).
function flow(config: Config, id = 'f') {
  return [
    { id, type: 'fmu', stepSize: 0.01, ...config, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'tf-catch', type: 'catch', scope: [id], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: 'tf-complete', type: 'complete', scope: [id], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper' },
  ];
}

interface Exchange {
  /** messages the node sent for this input (matched by _msgid where the node keeps it, else all new ones) */
  out: Message[];
  error?: string;
}

/** Sends one message and waits until the node has finished with it (Complete or Catch). */
function exchange(msg: Record<string, unknown>, id = 'f'): Promise<Exchange> {
  const out: Message[] = [];
  const outNode = helper.getNode('out');
  const caughtNode = helper.getNode('caught');
  const completedNode = helper.getNode('completed');
  const msgid = `m${Math.random().toString(36).slice(2)}`;
  return new Promise<Exchange>((resolve, reject) => {
    const onOut = (m: Message): void => { out.push(m); };
    const finish = (result: Exchange | Error): void => {
      clearTimeout(timer);
      outNode.removeListener('input', onOut);
      caughtNode.removeListener('input', onCaught);
      completedNode.removeListener('input', onCompleted);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onCaught = (m: Message): void => {
      // Catch nodes show err.toString(): "Error: " and the node's message.
      if (m._msgid === msgid) finish({ out, error: String((m.error as { message?: string })?.message).replace(/^Error: /, '') });
    };
    const onCompleted = (m: Message): void => {
      if (m._msgid === msgid) finish({ out });
    };
    const timer = setTimeout(() => finish(new Error(`no Complete or Catch for ${JSON.stringify(msg).slice(0, 200)} within 30 s`)), 30_000);
    outNode.on('input', onOut);
    caughtNode.on('input', onCaught);
    completedNode.on('input', onCompleted);
    helper.getNode(id).receive({ ...msg, _msgid: msgid } as never);
  });
}

async function loaded(id = 'f', pattern = /loaded|ready|stepping|tracking/): Promise<void> {
  await eventually(() => pattern.test(statusOf(helper.getNode(id))?.text ?? ''), `${id} is loaded (status: ${statusOf(helper.getNode(id))?.text})`, 30_000);
}

function byTopic(messages: Message[]): Record<string, number> {
  return Object.fromEntries(messages.map((m) => [m.topic, m.payload as number]));
}

/** The private copies of FMU binaries this process has loaded (one per loaded library). */
function loadedCopies(): string[] {
  const dir = path.join(cache, 'instances');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => readdirSync(path.join(dir, entry)).filter((f) => f.endsWith('.so')).map((f) => path.join(dir, entry, f)));
}

/** The FMU's own count of live instances in a loaded copy (a global of that copy, read through our own handle). */
function liveCounter(file: string): { count: () => number; unload: () => void } {
  const library = koffi.load(file);
  const count = library.func('int twinflow_live_instances(void)') as () => number;
  return { count: () => count(), unload: () => library.unload() };
}

describe('fmu node', () => {
  before(async () => {
    await ensureBuilt();
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(userDir, { recursive: true, force: true });
  });

  describe('live', () => {
    it('steps per message and sends one sample per output, equal to the engine run directly', async () => {
      await loadFlow(helper, nodes, flow({ fmu: 'spindle-fmi2', mode: 'live', stepping: 'message' }));
      await loaded();
      const first = await exchange({ topic: 'speedSetpoint', payload: 3000 });
      assert.equal(first.error, undefined);
      assert.deepEqual(first.out.map((m) => m.topic), ['speed', 'motorCurrent', 'bearingTemperature', 'acceleration']);
      const speed = first.out[0]!;
      assert.equal(typeof speed.payload, 'number');
      assert.equal(speed.quality, 'good');
      assert.deepEqual(speed.fmu, { time: 0.01, variable: 'spindle-fmi2.speed', unit: 'rpm' });
      let last = first;
      for (let i = 0; i < 99; i++) last = await exchange({ payload: '' });
      await exchange({ topic: 'load', payload: 0.5 });
      for (let i = 0; i < 50; i++) last = await exchange({});

      // The same inputs through the engine directly: bit for bit the same numbers.
      const sim = await CoSimulation.create({ fmus: [{ name: 's', fmu: SPINDLE }] }, { stepSize: 0.01 });
      try {
        sim.setInput('s.speedSetpoint', 3000);
        sim.step(100);
        sim.setInput('s.load', 0.5);
        sim.step(51);
        const values = byTopic(last.out.slice(-4));
        assert.equal(values.speed, sim.read('s.speed'));
        assert.equal(values.motorCurrent, sim.read('s.motorCurrent'));
        assert.equal(values.bearingTemperature, sim.read('s.bearingTemperature'));
        assert.ok(values.speed! > 1000, 'the spindle is accelerating');
      } finally {
        sim.free();
      }
      assert.match(statusOf(helper.getNode('f'))?.text ?? '', /stepped · t=1\.51 s/);
    });

    it('runs the three-FMU motor on the timer at a 1 ms step, sending the chosen outputs', async () => {
      const system = motorSystem(2);
      await loadFlow(helper, nodes, flow({
        source: 'system',
        system: JSON.stringify(system),
        stepSize: 0.001,
        mode: 'live',
        stepping: 'timer',
        interval: 50,
        outputNames: ['electrical.speed', 'electrical.current', 'thermal.temperature'],
        outputFormat: 'object',
      }));
      const out = collector(helper.getNode('out'));
      await out.waitFor((m) => ((m.fmu as { time: number }).time ?? 0) > 1, 30_000);
      const message = out.messages.at(-1)!;
      assert.equal(message.topic, 'outputs');
      const payload = message.payload as Record<string, number>;
      assert.deepEqual(Object.keys(payload), ['electrical.speed', 'electrical.current', 'thermal.temperature']);
      assert.ok(payload['electrical.speed']! > 0, 'the motor turns');
      assert.ok(payload['thermal.temperature']! >= 298.15, 'the winding warms from ambient');
      assert.deepEqual((message.fmu as { units: unknown }).units, { 'electrical.speed': 'rad/s', 'electrical.current': 'A', 'thermal.temperature': 'K' });
      // Time advances in whole 1 ms steps.
      const t = (message.fmu as { time: number }).time;
      assert.ok(Math.abs(t * 1000 - Math.round(t * 1000)) < 1e-6);
      await eventually(() => /^stepping · t=/.test(statusOf(helper.getNode('f'))?.text ?? ''), 'the status shows the simulated time');
      // Load torque from a message, by its bare name (only the electrical FMU has it).
      const reply = await exchange({ topic: 'loadTorque', payload: 30 });
      assert.equal(reply.error, undefined);
      const connected = await exchange({ topic: 'electrical.voltage', payload: 230 });
      assert.match(connected.error ?? '', /topic: electrical\.voltage is fed by controller\.voltage; it cannot be set from messages/);
    });

    it('takes a batch of samples through the topic map and skips samples that are no input', async () => {
      await loadFlow(helper, nodes, flow({
        fmu: SPINDLE, mode: 'live', stepping: 'message', outputNames: ['speed'],
        inputMap: [{ topic: 'spindle/speedSetpoint', input: 'speedSetpoint' }],
      }));
      await loaded();
      const reply = await exchange({
        topic: 'samples',
        payload: [
          { topic: 'spindle/speedSetpoint', payload: 6000, quality: 'good' },
          { topic: 'machineState', payload: 'running', quality: 'good' },
          { topic: 'spindle/speed', payload: 12.5, quality: 'good' },
        ],
      });
      assert.equal(reply.error, undefined);
      assert.deepEqual(reply.out.map((m) => m.topic), ['speed']);
      assert.ok((reply.out[0]!.payload as number) > 0, 'the setpoint reached the spindle');
      const none = await exchange({ topic: 'samples', payload: [{ topic: 'machineState', payload: 'idle' }] });
      assert.match(none.error ?? '', /payload: none of the samples' topics \(machineState\) is an input \(inputs: speedSetpoint, load\)/);
    });

    it('sends samples in the message contract when asked for the samples format', async () => {
      await loadFlow(helper, nodes, flow({ fmu: 'spindle-fmi3', mode: 'live', stepping: 'message', outputFormat: 'samples' }));
      await loaded();
      const reply = await exchange({ payload: { speedSetpoint: 1000, load: 0.2 } });
      assert.equal(reply.error, undefined);
      assert.equal(reply.out.length, 1);
      assert.equal(reply.out[0]!.topic, 'samples');
      const samples = reply.out[0]!.payload as Message[];
      assert.deepEqual(samples.map((s) => s.topic), ['speed', 'motorCurrent', 'bearingTemperature', 'acceleration']);
      assert.equal((samples[1]!.fmu as { unit: string }).unit, 'A');
    });
  });

  describe('what-if', () => {
    const whatIfNode = {
      fmu: 'spindle-fmi2', mode: 'whatif', stepping: 'none', whatIfDuration: 60, whatIfMaxPoints: 200,
      whatIfLimits: [{ variable: 'speed', max: 12000 }, { variable: 'motorCurrent', max: 16 }, { variable: 'bearingTemperature', max: 45 }],
      inputMap: [{ topic: 'spindle/speedSetpoint', input: 'speedSetpoint' }],
    };

    it('answers a desired change with a verdict and a trajectory, leaving the payload for the guard', async () => {
      await loadFlow(helper, nodes, flow(whatIfNode));
      await loaded();
      const safe = await exchange({ topic: 'spindle/speedSetpoint', payload: 6000, desired: { version: 1, issuer: 'operator' } });
      assert.equal(safe.error, undefined);
      const reply = safe.out[0]!;
      assert.equal(reply.payload, 6000, 'the requested value travels on');
      assert.deepEqual(reply.desired, { version: 1, issuer: 'operator' });
      const whatIf = reply.whatIf as { verdict: string; violations: unknown[]; trajectory: { time: number[]; values: Record<string, number[]>; units: Record<string, string> }; summary: string; duration: number; changes: unknown[]; method: string };
      assert.equal(whatIf.verdict, 'safe');
      assert.deepEqual(whatIf.violations, []);
      assert.equal(whatIf.method, 'restore');
      assert.deepEqual(whatIf.changes, [{ at: 0, variable: 'speedSetpoint', value: 6000 }]);
      assert.match(whatIf.summary, /^safe: speedSetpoint = 6000; every limit held for 60 s$/);
      assert.ok(whatIf.trajectory.time.length <= 201 && whatIf.trajectory.time.length > 100);
      assert.equal(whatIf.trajectory.time.at(-1), 60);
      assert.ok(Math.abs(whatIf.trajectory.values.speed!.at(-1)! - 6000) < 1e-6, 'the predicted speed reaches the setpoint');
      assert.equal(whatIf.trajectory.units.motorCurrent, 'A');
      assert.match(statusOf(helper.getNode('f'))?.text ?? '', /^what-if safe/);

      const unsafe = await exchange({ topic: 'spindle/speedSetpoint', payload: 16000, desired: { version: 2, issuer: 'operator' } });
      const answer = unsafe.out[0]!.whatIf as { verdict: string; violations: { variable: string; bound: string; limit: number; value: number; after: number; unit: string }[]; summary: string };
      assert.equal(answer.verdict, 'unsafe');
      assert.deepEqual(answer.violations.map((v) => [v.variable, v.bound, v.limit]), [['speed', 'max', 12000], ['motorCurrent', 'max', 16]]);
      assert.ok(answer.violations[0]!.value > 12000 && answer.violations[0]!.after > 5 && answer.violations[0]!.unit === 'rpm');
      assert.match(answer.summary, /^unsafe: speedSetpoint = 16000; speed 120\d\d(\.\d+)? rpm above the maximum 12000 after [\d.]+ s; motorCurrent [\d.]+ A above the maximum 16 after [\d.]+ s$/);
      assert.match(statusOf(helper.getNode('f'))?.text ?? '', /^what-if unsafe/);
    });

    it('takes explicit requests with changes over time, its own limits and recorded variables', async () => {
      await loadFlow(helper, nodes, flow(whatIfNode));
      await loaded();
      const reply = await exchange({
        whatIf: {
          duration: 20,
          changes: [{ at: 0, variable: 'speedSetpoint', value: 8000 }, { at: 10, variable: 'load', value: 1 }],
          limits: [{ variable: 'motorCurrent', max: 25 }],
          record: ['motorCurrent'],
        },
      });
      const whatIf = reply.out[0]!.whatIf as { verdict: string; violations: { variable: string; after: number }[]; trajectory: { values: Record<string, number[]> } };
      assert.equal(whatIf.verdict, 'unsafe', 'nominal cutting load pushes the current above 25 A');
      assert.deepEqual(Object.keys(whatIf.trajectory.values), ['motorCurrent']);
      assert.ok(whatIf.violations[0]!.after > 10, 'only after the load comes on');
    });

    it('refuses requests it cannot run, naming the field', async () => {
      await loadFlow(helper, nodes, flow(whatIfNode));
      await loaded();
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ whatIf: { changes: [{ variable: 'speedSetpont', value: 1 }] } }, /whatIf\.changes\[0\]\.variable: "speedSetpont" is not an input of spindle-fmi2 \(inputs: speedSetpoint, load\)/],
        [{ whatIf: { changes: [{ variable: 'speedSetpoint', value: 'fast' }] } }, /whatIf\.changes\[0\]\.value: "fast" is not a number \(speedSetpoint is Float64 in rpm\)/],
        [{ whatIf: { limits: [{ variable: 'torque', max: 1 }] } }, /whatIf\.limits\[0\]\.variable: "torque" is not a variable of spindle-fmi2/],
        [{ whatIf: { duration: 1e9 } }, /whatIf\.duration: 1000000000 s is 100000000000 steps of 0\.01 s; at most 2000000 are allowed/],
        [{ whatIf: 'soon' }, /whatIf: must be an object/],
        [{ topic: 'speedSetpoint', payload: -100, desired: {} }, /payload: -100 is below the minimum 0 of speedSetpoint \(rpm\)/],
      ];
      for (const [msg, pattern] of cases) {
        const reply = await exchange(msg);
        assert.match(reply.error ?? '', pattern);
        assert.equal(reply.out.length, 0);
      }
    });

    it('leaves the live run exactly as it was: a live node with what-ifs matches one without', async () => {
      const live = { fmu: SPINDLE, mode: 'live', stepping: 'message', stepsPerMessage: 10, outputNames: ['speed', 'motorCurrent', 'bearingTemperature'] };
      await loadFlow(helper, nodes, [
        ...flow(live, 'a'),
        { id: 'b', type: 'fmu', stepSize: 0.01, ...live, wires: [['outB']] },
        { id: 'outB', type: 'helper' },
      ]);
      await loaded('a');
      await loaded('b');
      const outB = collector(helper.getNode('outB'));
      const both = async (msg: Record<string, unknown>): Promise<Message[]> => {
        const mine = await exchange(msg, 'a');
        helper.getNode('b').receive({ ...msg } as never);
        return mine.out;
      };
      await both({ topic: 'speedSetpoint', payload: 4000 });
      for (let i = 0; i < 20; i++) await both({});
      // A what-if on a only, far ahead and with other inputs.
      const asked = await exchange({ topic: 'speedSetpoint', payload: 11000, whatIf: { duration: 120, changes: [{ variable: 'load', value: 1 }] } }, 'a');
      assert.equal((asked.out.at(-1)!.whatIf as { verdict: string }).verdict, 'safe');
      assert.equal(asked.out.at(-1)!.payload, 11000);
      let mine: Message[] = [];
      await both({ topic: 'load', payload: 0.3 });
      for (let i = 0; i < 20; i++) mine = await both({});
      await eventually(() => outB.messages.length >= 42 * 3, 'b caught up');
      const theirs = outB.messages.slice(-3);
      assert.deepEqual(mine.slice(-3).map((m) => [m.topic, m.payload, (m.fmu as { time: number }).time]), theirs.map((m) => [m.topic, m.payload, (m.fmu as { time: number }).time]));
    });
  });

  describe('batch', () => {
    it('runs a whole experiment per message: inputs as CSV, results as columns', async () => {
      await loadFlow(helper, nodes, flow({ fmu: SPINDLE, mode: 'batch', batchStopTime: 10, batchRecordEvery: 10, outputNames: ['speed', 'motorCurrent'] }));
      await loaded('f', /ready for batch runs/);
      const reply = await exchange({ payload: 'time,speedSetpoint,load\n0,2000,0\n4,5000,0.5\n' });
      assert.equal(reply.error, undefined);
      const result = reply.out[0]!.payload as { time: number[]; columns: Record<string, number[]>; names: string[]; steps: number };
      assert.deepEqual(result.names, ['speed', 'motorCurrent']);
      assert.equal(result.time.length, 101);
      assert.equal(result.time.at(-1), 10);
      assert.equal(result.steps, 1000);
      const direct = await runBatch({ fmus: [{ name: 's', fmu: SPINDLE }] }, { stepSize: 0.01 }, {
        stopTime: 10, recordEvery: 10, record: ['s.speed', 's.motorCurrent'],
        inputs: { time: [0, 4], columns: { 's.speedSetpoint': [2000, 5000], 's.load': [0, 0.5] } },
      });
      assert.deepEqual(result.columns.speed, Array.from(direct.columns['s.speed']!));
      assert.deepEqual(result.columns.motorCurrent, Array.from(direct.columns['s.motorCurrent']!));
    });

    it('takes per-run parameters and stop time, and answers CSV', async () => {
      await loadFlow(helper, nodes, flow({ fmu: SPINDLE, mode: 'batch', batchFormat: 'csv', outputNames: ['speed'] }));
      await loaded('f', /ready for batch runs/);
      const reply = await exchange({ batch: { stopTime: 1, recordEvery: 50, parameters: { rampLimit: 500 }, inputs: { time: [0], columns: { speedSetpoint: [6000] } } } });
      assert.equal(reply.error, undefined);
      const csv = reply.out[0]!.payload as string;
      const lines = csv.trim().split('\n');
      assert.equal(lines[0], 'time,speed');
      assert.deepEqual(lines.map((l) => l.split(',')[0]), ['time', '0', '0.5', '1']);
      assert.ok(Math.abs(Number(lines[3]!.split(',')[1]) - 500) < 1e-9, 'the ramp limit of this run (500 rpm/s) holds');
      const wrong = await exchange({ batch: { stopTime: 1, parameters: { speed: 3 } } });
      assert.match(wrong.error ?? '', /batch\.parameters\.speed: speed is an output; only inputs and parameters have start values/);
      const badCsv = await exchange({ payload: 'time,speedSetpoint\n0,fast\n' });
      assert.match(badCsv.error ?? '', /payload: row 2, column speedSetpoint: "fast" is not a number or boolean/);
    });
  });

  describe('bad input and bad files', () => {
    it('refuses unknown inputs, values that are not numbers and outputs as inputs, and changes nothing', async () => {
      await loadFlow(helper, nodes, [
        ...flow({ fmu: 'spindle-fmi2', mode: 'live', stepping: 'message', outputNames: ['speed'] }),
        { id: 'ref', type: 'fmu', fmu: 'spindle-fmi2', stepSize: 0.01, mode: 'live', stepping: 'message', outputNames: ['speed'], wires: [['outRef']] },
        { id: 'outRef', type: 'helper' },
      ]);
      await loaded('f');
      await loaded('ref');
      await exchange({ topic: 'speedSetpoint', payload: 2000 });
      helper.getNode('ref').receive({ topic: 'speedSetpoint', payload: 2000 } as never);
      const refused: [Record<string, unknown>, string][] = [
        [{ topic: 'speedSetpont', payload: 9000 }, 'topic: "speedSetpont" is not an input of spindle-fmi2 (inputs: speedSetpoint, load)'],
        [{ topic: 'speedSetpoint', payload: 'fast' }, 'payload: "fast" is not a number (speedSetpoint is Float64 in rpm)'],
        [{ topic: 'speedSetpoint', payload: Number.NaN }, 'payload: NaN is not a number (speedSetpoint is Float64 in rpm)'],
        [{ topic: 'speedSetpoint' }, 'payload: a value for speedSetpoint is required'],
        [{ topic: 'speed', payload: 1 }, 'topic: speed is an output, not an input (inputs: speedSetpoint, load)'],
        [{ topic: 'ratedMaxSpeed', payload: 1 }, "topic: ratedMaxSpeed is a fixed parameter; set it in the node's parameters (before the start), not while running"],
        // The first value is fine, the second is not: neither is applied.
        [{ payload: { speedSetpoint: 9000, load: 'heavy' } }, 'payload.load: "heavy" is not a number (load is Float64 in 1)'],
      ];
      for (const [msg, text] of refused) {
        const reply = await exchange(msg);
        assert.equal(reply.error, text);
        assert.equal(reply.out.length, 0, 'no step, no output');
      }
      assert.match(statusOf(helper.getNode('f'))?.text ?? '', /is not a number/);
      const outRef = collector(helper.getNode('outRef'));
      const mine = await exchange({});
      helper.getNode('ref').receive({} as never);
      await eventually(() => outRef.messages.length >= 1, 'the reference stepped');
      assert.deepEqual([mine.out[0]!.payload, (mine.out[0]!.fmu as { time: number }).time], [outRef.messages[0]!.payload, 0.02], 'the refused messages changed nothing');
    });

    it('reports a missing file, unset environment variables and relative paths against the user directory', async () => {
      await loadFlow(helper, nodes, flow({ fmu: '/nonexistent/spindle.fmu', mode: 'live', stepping: 'message' }));
      await eventually(() => statusOf(helper.getNode('f'))?.fill === 'red', 'the status turns red');
      assert.equal(statusOf(helper.getNode('f'))?.text, 'fmu: /nonexistent/spindle.fmu: no such file');
      const reply = await exchange({ topic: 'speedSetpoint', payload: 1 });
      assert.equal(reply.error, 'fmu: /nonexistent/spindle.fmu: no such file');
      await helper.unload();

      await loadFlow(helper, nodes, flow({ fmu: '${TWINFLOW_TEST_UNSET_DIR}/spindle-fmi2.fmu', mode: 'live', stepping: 'message' }));
      await eventually(() => statusOf(helper.getNode('f'))?.fill === 'red', 'the status turns red');
      assert.equal(statusOf(helper.getNode('f'))?.text, 'fmu: environment variable TWINFLOW_TEST_UNSET_DIR (in "${TWINFLOW_TEST_UNSET_DIR}/spindle-fmi2.fmu") is not set');
      await helper.unload();

      process.env.TWINFLOW_TEST_FMU_DIR = path.dirname(SPINDLE);
      try {
        await loadFlow(helper, nodes, flow({ fmu: '${TWINFLOW_TEST_FMU_DIR}/spindle-fmi2.fmu', mode: 'live', stepping: 'message' }));
        await loaded();
        assert.equal((await exchange({ topic: 'speedSetpoint', payload: 1 })).error, undefined);
      } finally {
        delete process.env.TWINFLOW_TEST_FMU_DIR;
      }
      await helper.unload();

      mkdirSync(path.join(userDir, 'models'), { recursive: true });
      copyFileSync(SPINDLE, path.join(userDir, 'models', 'my-spindle.fmu'));
      await loadFlow(helper, nodes, flow({ fmu: 'models/my-spindle.fmu', mode: 'live', stepping: 'message', outputNames: ['speed'] }));
      await loaded();
      const relative = await exchange({ topic: 'my-spindle.speedSetpoint', payload: 100 });
      assert.equal(relative.error, undefined);
      assert.equal((relative.out[0]!.fmu as { variable: string }).variable, 'my-spindle.speed');
      await helper.unload();

      await loadFlow(helper, nodes, flow({ fmu: 'spindle-fmi4', mode: 'live', stepping: 'message' }));
      await eventually(() => statusOf(helper.getNode('f'))?.fill === 'red', 'the status turns red');
      assert.match(statusOf(helper.getNode('f'))?.text ?? '', /^fmu: "spindle-fmi4" is not an FMU shipped with Twinflow \(shipped: controller-fmi2, /);
    });

    it('refuses Model-Exchange-only FMUs and FMUs without a binary for this platform', async () => {
      await loadFlow(helper, nodes, flow({ fmu: testFmuPath('model-exchange-only'), mode: 'live', stepping: 'message' }));
      const me = await exchange({ topic: 'u', payload: 1 });
      assert.equal(me.error, 'fmu: model-exchange-only.fmu implements only Model Exchange; Twinflow runs Co-Simulation FMUs');
      await helper.unload();
      await loadFlow(helper, nodes, flow({ fmu: testFmuPath('no-linux-binary'), mode: 'batch' }));
      const platform = await exchange({});
      assert.match(platform.error ?? '', /^fmu: no-linux-binary\.fmu: has no binary for linux x64 \(binaries\/linux64\/twinflow_motor_thermal\.so\); it has binaries for darwin64, win64$/);
      assert.deepEqual(loadedCopies(), [], 'nothing was loaded');
    });

    it('reports an FMU that fails during a live run to Catch nodes, keeps Node-RED running and recovers on reset', async () => {
      await loadFlow(helper, nodes, flow({ fmu: testFmuPath('faulty', 2), parameters: '{ "failAt": 0.45 }', stepSize: 0.1, mode: 'live', stepping: 'timer', interval: 20, realTimeFactor: 5 }));
      const caught = collector(helper.getNode('caught'));
      const error = await caught.waitFor(() => true, 30_000);
      assert.match(String((error.error as { message: string }).message), /^Error: stopped at t=0\.4 s: faulty-fmi2: fmi2DoStep returned Error at t=0\.4 \(step [\d.]+\): failing on purpose/);
      assert.equal(statusOf(helper.getNode('f'))?.fill, 'red');
      const refused = await exchange({ topic: 'u', payload: 1 });
      assert.match(refused.error ?? '', /the co-simulation stopped at t=0\.4/);
      const reset = await exchange({ reset: true });
      assert.equal(reset.error, undefined);
      const out = collector(helper.getNode('out'));
      await out.waitFor((m) => (m.fmu as { time: number }).time > 0, 10_000);
    });
  });

  describe('resources', () => {
    it('frees every FMU instance on close: the FMUs\' own live counters go back to zero', async () => {
      await loadFlow(helper, nodes, flow({ source: 'system', system: JSON.stringify(motorSystem(3)), stepSize: 0.001, mode: 'live', stepping: 'timer', interval: 20 }));
      await loaded();
      const copies = loadedCopies();
      assert.equal(copies.length, 3, 'one private copy per FMU of the set');
      const counters = copies.map(liveCounter);
      try {
        assert.deepEqual(counters.map((c) => c.count()), [1, 1, 1]);
        await helper.unload();
        assert.deepEqual(counters.map((c) => c.count()), [0, 0, 0]);
        assert.deepEqual(loadedCopies(), [], 'the private copies are deleted');
      } finally {
        counters.forEach((c) => c.unload());
      }
    });

    it('leaks nothing over ten redeploys of live, what-if and batch nodes, also while a what-if runs', async () => {
      const counters: ReturnType<typeof liveCounter>[] = [];
      try {
        for (let round = 0; round < 10; round++) {
          await loadFlow(helper, nodes, [
            ...flow({ fmu: 'spindle-fmi2', mode: 'whatif', stepping: 'timer', interval: 20, whatIfDuration: 30 }),
            { id: 'motor', type: 'fmu', source: 'system', system: JSON.stringify(motorSystem(2)), stepSize: 0.001, mode: 'live', stepping: 'timer', interval: 20, wires: [[]] },
            { id: 'batcher', type: 'fmu', fmu: 'thermal-fmi3', stepSize: 1, mode: 'batch', batchStopTime: 100, wires: [[]] },
          ]);
          await loaded('f');
          await loaded('motor');
          const copies = loadedCopies();
          assert.equal(copies.length, 4, `round ${round}: spindle and the three motor FMUs are loaded`);
          counters.push(...copies.map(liveCounter));
          assert.ok(counters.slice(-4).every((c) => c.count() === 1));
          helper.getNode('f').receive({ topic: 'speedSetpoint', payload: 5000, whatIf: true } as never);
          helper.getNode('batcher').receive({} as never);
          await helper.unload();
          assert.deepEqual(counters.map((c) => c.count()), counters.map(() => 0), `round ${round}: every instance freed`);
          assert.deepEqual(loadedCopies(), [], `round ${round}: no private copy left`);
        }
      } finally {
        counters.forEach((c) => c.unload());
      }
    });
  });

  describe('the edit dialog', () => {
    it('lists the shipped FMUs and describes an FMU\'s variables with units', async () => {
      await loadFlow(helper, nodes, flow({ fmu: 'spindle-fmi2', mode: 'live', stepping: 'message' }));
      const shipped = await helper.request().get('/twinflow/fmu/shipped').expect(200);
      assert.ok((shipped.body.fmus as string[]).includes('spindle-fmi2'));
      assert.ok((shipped.body.fmus as string[]).includes('electrical-fmi3'));
      const described = await helper.request().get('/twinflow/fmu/describe').query({ path: 'spindle-fmi2' }).expect(200);
      const spindle = described.body.fmus[0];
      assert.equal(described.body.single, true);
      assert.equal(spindle.modelName, 'Twinflow.CNC.Spindle');
      assert.deepEqual(spindle.inputs.map((v: { name: string; unit: string }) => [v.name, v.unit]), [['speedSetpoint', 'rpm'], ['load', '1']]);
      assert.deepEqual(spindle.outputs.map((v: { name: string }) => v.name), ['speed', 'motorCurrent', 'bearingTemperature', 'acceleration']);
      assert.ok(spindle.parameters.some((p: { name: string; variability: string; start: number }) => p.name === 'ratedMaxSpeed' && p.variability === 'fixed' && p.start === 12000));
      const set = await helper.request().get('/twinflow/fmu/describe').query({ system: JSON.stringify(motorSystem(2)) }).expect(200);
      const electrical = set.body.fmus.find((f: { name: string }) => f.name === 'electrical');
      assert.deepEqual(electrical.inputs.map((v: { name: string; connected?: string }) => [v.name, v.connected]), [['electrical.voltage', 'controller.voltage'], ['electrical.loadTorque', undefined]]);
      const missing = await helper.request().get('/twinflow/fmu/describe').query({ path: '/nonexistent/x.fmu' }).expect(400);
      assert.equal(missing.body.error, 'fmu: /nonexistent/x.fmu: no such file');
      const me = await helper.request().get('/twinflow/fmu/describe').query({ path: testFmuPath('model-exchange-only') }).expect(200);
      assert.match(me.body.fmus[0].problem, /implements only Model Exchange/);
    });
  });
});
