// The co-simulation master on our FMUs: ordering from ModelStructure, Gauss-Seidel vs Jacobi,
// algebraic loops, exact communication points, unit conversion, Discard, early return, what-if
// (restore and replay), batch runs, and the CNC spindle FMU against the plant simulator.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CncModel } from '../../../plant/cnc-model';
import { formatCsv, parseInputCsv } from '../../../nodes/fmu/csv';
import { FmuError } from '../../../nodes/fmu/errors';
import { instantiateFmu } from '../../../nodes/fmu/fmu-library';
import { CoSimulation, runBatch, type MasterOptions, type SystemSpec } from '../../../nodes/fmu/master';
import { ensureBuilt, fmuPath, motorSystem, privateCache, testFmuPath, thermalExact } from './helpers';

privateCache();

const MOTOR_OUTPUTS = ['electrical.speed', 'electrical.current', 'thermal.temperature', 'controller.voltage'];

async function withSimulation<T>(system: SystemSpec, options: MasterOptions, run: (sim: CoSimulation) => T | Promise<T>): Promise<T> {
  const sim = await CoSimulation.create(system, options);
  try {
    return await run(sim);
  } finally {
    sim.free();
  }
}

/** Values of `names` after every step, as rows. */
function runAndRecord(sim: CoSimulation, steps: number, names: string[]): number[][] {
  const recorder = sim.createRecorder(names);
  const sample = new Float64Array(names.length);
  const rows: number[][] = [];
  for (let k = 0; k < steps; k++) {
    sim.step();
    recorder.read(sample);
    rows.push(Array.from(sample));
  }
  recorder.dispose();
  return rows;
}

function gainLoop(algebraicLoops: 'error' | 'iterate'): [SystemSpec, MasterOptions] {
  return [
    {
      fmus: [
        { name: 'gainA', fmu: testFmuPath('gain', 2), parameters: { k: 0.5, offset: 1 } },
        { name: 'gainB', fmu: testFmuPath('gain', 3), parameters: { k: 0.25, offset: 2 } },
      ],
      connections: [
        { from: 'gainA.y', to: 'gainB.u' },
        { from: 'gainB.y', to: 'gainA.u' },
      ],
    },
    { stepSize: 0.1, algebraicLoops },
  ];
}

describe('co-simulation master', () => {
  before(ensureBuilt);

  it('orders Gauss-Seidel from direct feedthrough: thermal, then controller, then electrical', async () => {
    await withSimulation(motorSystem(2), { stepSize: 0.001 }, (sim) => {
      // controller.voltage depends on controller.temperature (fed by thermal); electrical.current on
      // electrical.voltage (fed by the controller). Declared order was electrical, thermal, controller.
      assert.deepEqual(sim.order, [['thermal'], ['controller'], ['electrical']]);
    });
  });

  it('Jacobi and Gauss-Seidel agree to first order in the step on the motor start-up', async () => {
    const speedsAt = async (algorithm: 'jacobi' | 'gauss-seidel', h: number): Promise<number[]> =>
      withSimulation(motorSystem(2), { stepSize: h, algorithm }, (sim) => {
        sim.setInput('electrical.loadTorque', 30);
        const speeds: number[] = [];
        for (const t of [1, 2, 6]) {
          sim.advanceTo(t);
          speeds.push(sim.read('electrical.speed') as number);
        }
        return speeds;
      });
    const coarse = [await speedsAt('gauss-seidel', 0.002), await speedsAt('jacobi', 0.002)];
    const fine = [await speedsAt('gauss-seidel', 0.0005), await speedsAt('jacobi', 0.0005)];
    assert.notDeepEqual(coarse[0], coarse[1], 'the schemes differ during the transient');
    const coarseGap = Math.abs(coarse[0]![0]! - coarse[1]![0]!);
    const fineGap = Math.abs(fine[0]![0]! - fine[1]![0]!);
    assert.ok(fineGap < coarseGap / 2, `a quarter of the step should shrink the gap at t=1 s: ${coarseGap} -> ${fineGap}`);
    // Running at steady state, both land on the same operating point.
    assert.ok(Math.abs(coarse[0]![2]! - coarse[1]![2]!) < 1e-9 * coarse[0]![2]!);
    assert.ok(coarse[0]![2]! > 150 && coarse[0]![2]! < 157.08, `speed ${coarse[0]![2]} rad/s is below synchronous`);
  });

  it('refuses an algebraic loop, naming its variables', async () => {
    const [system, options] = gainLoop('error');
    await assert.rejects(CoSimulation.create(system, options), (err: unknown) => {
      assert.ok(err instanceof FmuError);
      assert.equal(err.code, 'MASTER_ALGEBRAIC_LOOP');
      assert.match(err.message, /^algebraic loop: gainA\.y -> gainB\.u -> gainB\.y -> gainA\.u -> gainA\.y \(each output depends directly on the input before it\)/);
      return true;
    });
  });

  it("iterates an algebraic loop to its fixed point with algebraicLoops: 'iterate'", async () => {
    const [system, options] = gainLoop('iterate');
    await withSimulation(system, options, (sim) => {
      assert.deepEqual(sim.order, [['gainA', 'gainB']]);
      // yA = 0.5 uA + 1, yB = 0.25 uB + 2, uB = yA, uA = yB  =>  yA = 2 / 0.875
      const yA = 2 / 0.875;
      const yB = 0.25 * yA + 2;
      assert.ok(Math.abs((sim.read('gainA.y') as number) - yA) < 1e-9);
      sim.step(10);
      assert.ok(Math.abs((sim.read('gainA.y') as number) - yA) < 1e-9);
      assert.ok(Math.abs((sim.read('gainB.y') as number) - yB) < 1e-9);
      assert.ok(Math.abs((sim.read('gainA.integral') as number) - yB * 1.0) < 1e-8, 'the integrals saw the converged inputs');
      assert.ok(sim.loopIterations >= 10);
    });
  });

  it('keeps communication points exact over a million steps', async () => {
    const h = 0.001;
    await withSimulation({ fmus: [{ name: 'thermal', fmu: fmuPath('thermal', 3) }] }, { stepSize: h, startTime: 0.1 }, (sim) => {
      const recorder = sim.createRecorder(['thermal.time']);
      const fmuTime = new Float64Array(1);
      let mismatches = 0;
      let accumulated = 0.1;
      for (let k = 1; k <= 1_000_000; k++) {
        sim.step();
        accumulated += h;
        recorder.read(fmuTime);
        if (fmuTime[0] !== 0.1 + k * h || sim.time !== 0.1 + k * h) mismatches++;
      }
      recorder.dispose();
      assert.equal(mismatches, 0, 'the FMU and the master land on t0 + k*h at every step');
      assert.equal(sim.time, 0.1 + 1_000_000 * h);
      assert.notEqual(accumulated, sim.time, 'summing h would have drifted');
    });
  });

  it('converts units along connections (rad/s to rpm, K to degC) and refuses incompatible ones', async () => {
    await withSimulation(motorSystem(3), { stepSize: 0.001 }, (sim) => {
      sim.step(1500);
      const speed = sim.read('electrical.speed') as number;
      const rpm = sim.read('controller.speed') as number;
      assert.equal(rpm, (1 / 0.10471975511965977) * speed);
      assert.ok(Math.abs(rpm - (speed * 60) / (2 * Math.PI)) < 1e-12 * rpm);
      assert.equal(sim.read('controller.temperature'), (sim.read('thermal.temperature') as number) - 273.15);
    });
    const system = motorSystem(2);
    system.connections = [{ from: 'electrical.current', to: 'controller.temperature' }];
    await assert.rejects(CoSimulation.create(system, { stepSize: 0.001 }), (err: unknown) =>
      err instanceof FmuError && err.code === 'MASTER_UNIT_MISMATCH' &&
      err.message === 'electrical.current -> controller.temperature: incompatible units A (A) and degC (K)');
  });

  it('connects Int32, Boolean and Float32 variables by value, across FMI versions', async () => {
    const system: SystemSpec = {
      fmus: [
        { name: 'controller', fmu: fmuPath('controller', 2) },
        { name: 'types', fmu: testFmuPath('typesdemo', 3) },
        { name: 'thermal', fmu: fmuPath('thermal', 2) },
      ],
      connections: [
        { from: 'controller.state', to: 'types.i32In' },
        { from: 'types.boolOut', to: 'controller.enable' },
        { from: 'types.f32Out', to: 'thermal.current' },
      ],
    };
    await withSimulation(system, { stepSize: 0.01 }, (sim) => {
      assert.equal(sim.read('controller.enable'), true, 'boolOut = !boolIn = true enables the controller');
      sim.step(3);
      assert.equal(sim.read('controller.state'), 1);
      assert.equal(sim.read('types.i32Out'), 2);
      assert.equal(sim.read('thermal.current'), 1);
      sim.setInput('types.boolIn', true);
      sim.step();
      assert.equal(sim.read('controller.enable'), false);
      sim.step();
      assert.equal(sim.read('controller.state'), 0);
    });
  });

  it('refuses bad systems with the field and the rule', async () => {
    const cases: [SystemSpec, RegExp][] = [
      [{ fmus: [] }, /fmus: the system has no FMU/],
      [{ ...motorSystem(2), connections: [{ from: 'electrical.voltage', to: 'thermal.current' }] }, /connections\[0\]: electrical\.voltage is input, not an output/],
      [{ ...motorSystem(2), connections: [{ from: 'motor.speed', to: 'thermal.current' }] }, /connections\[0\]\.from: no FMU named "motor"/],
      [{ ...motorSystem(2), connections: [{ from: 'electrical.speed', to: 'controller.speed' }, { from: 'electrical.current', to: 'controller.speed' }] }, /controller\.speed is already fed by electrical\.speed/],
      [{ ...motorSystem(2), connections: [{ from: 'electrical.speeed', to: 'controller.speed' }] }, /no variable "speeed"/],
      [{ ...motorSystem(2), connections: [{ from: 'electrical.speed', to: 'controller.enable' }] }, /joins a Float64 output to a Boolean input/],
    ];
    for (const [system, pattern] of cases) {
      await assert.rejects(CoSimulation.create(system, { stepSize: 0.01 }), (err: unknown) => err instanceof FmuError && pattern.test(err.message));
    }
  });

  it('reports a discarded step clearly, or retries it with halved steps from a saved state', async () => {
    const system: SystemSpec = { fmus: [{ name: 'picky', fmu: testFmuPath('picky', 3) }] };
    await withSimulation(system, { stepSize: 0.04 }, (sim) => {
      assert.throws(() => sim.step(), (err: unknown) =>
        err instanceof FmuError && err.code === 'FMU_DISCARD' &&
        /^picky discarded the step from t=0 \(step 0\.04\) after reaching t=0\. Set retryDiscardedSteps/.test(err.message));
      assert.throws(() => sim.step(), /the co-simulation stopped at t=0/);
    });
    await withSimulation(system, { stepSize: 0.04, retryDiscardedSteps: true }, (sim) => {
      sim.step(25);
      assert.equal(sim.time, 1);
      assert.ok(Math.abs((sim.read('picky.x') as number) - Math.exp(-1)) < 1e-12);
      // Each 0.04 s step: discarded, then both 0.02 s halves discarded, then four 0.01 s pieces.
      assert.equal(sim.discardedSteps, 75);
      // The FMU counted its discards too, but restoring its state rolled the count back.
      assert.equal(sim.read('picky.discards'), 0);
    });
  });

  it('handles FMI 3.0 early return and event mode with results identical to FMI 2.0', async () => {
    // With h = 3 ms the ramp end (t = 4 s) falls inside a step; bypass is out of reach.
    const run = (system: SystemSpec): Promise<[number[][], number]> =>
      withSimulation(system, { stepSize: 0.003 }, (sim) => {
        sim.setInput('controller.bypassSpeed', 1600);
        sim.setInput('electrical.loadTorque', 20);
        return [runAndRecord(sim, 1500, MOTOR_OUTPUTS), sim.earlyReturns];
      });
    const [fmi2, none] = await run(motorSystem(2));
    const [fmi3, early] = await run(motorSystem(3, { controllerEarlyReturn: true }));
    assert.equal(none, 0);
    assert.equal(early, 1);
    assert.deepEqual(fmi3, fmi2);
    assert.equal(fmi2[1334]![3], 400, 'full voltage after the ramp');
    assert.ok(fmi2[1332]![3]! < 400);
  });

  it('runs the whole motor system bit-identically on FMI 2.0 and FMI 3.0 builds', async () => {
    const run = (version: 2 | 3): Promise<number[][]> =>
      withSimulation(motorSystem(version), { stepSize: 0.001 }, (sim) => {
        sim.setInput('electrical.loadTorque', 45);
        return runAndRecord(sim, 5000, MOTOR_OUTPUTS);
      });
    assert.deepEqual(await run(3), await run(2));
  });

  it('what-if: runs ahead from the current state, reports limits, and leaves the live run untouched', async () => {
    const live = await CoSimulation.create(motorSystem(2), { stepSize: 0.001 });
    const reference = await CoSimulation.create(motorSystem(2), { stepSize: 0.001 });
    try {
      for (const sim of [live, reference]) {
        sim.setInput('electrical.loadTorque', 30);
        sim.step(3000);
      }
      const request = {
        duration: 4,
        changes: [{ at: 0.5, variable: 'electrical.loadTorque', value: 150 }],
        limits: [{ variable: 'electrical.speed', min: 145 }, { variable: 'electrical.current', max: 60 }],
        record: ['electrical.speed', 'electrical.current'],
      };
      const restored = await live.whatIf(request);
      const replayed = await live.whatIf({ ...request, method: 'replay' });
      assert.equal(restored.method, 'restore');
      assert.equal(replayed.method, 'replay');
      assert.equal(restored.verdict, 'unsafe');
      assert.equal(restored.startTime, 3);
      assert.equal(restored.endTime, 7);
      const speedViolation = restored.violations.find((v) => v.variable === 'electrical.speed')!;
      assert.equal(speedViolation.bound, 'min');
      assert.ok(speedViolation.time > 3.5 && speedViolation.time < 4.5, `speed fell below 145 rad/s at ${speedViolation.time}`);
      assert.ok(speedViolation.value < 145);
      assert.deepEqual(replayed.trajectory, restored.trajectory, 'restore and replay give the same future');
      assert.deepEqual(replayed.violations, restored.violations);
      assert.equal(restored.trajectory.time[0], 3);
      assert.equal(restored.trajectory.time.at(-1), 7);
      // The live run goes on as if nothing happened.
      assert.equal(live.time, 3);
      const after = runAndRecord(live, 2000, MOTOR_OUTPUTS);
      const untouched = runAndRecord(reference, 2000, MOTOR_OUTPUTS);
      assert.deepEqual(after, untouched);
      const calm = await live.whatIf({ duration: 1, limits: [{ variable: 'electrical.speed', min: 145 }] });
      assert.equal(calm.verdict, 'safe');
      assert.deepEqual(calm.violations, []);
    } finally {
      live.free();
      reference.free();
    }
  });

  it('what-if: replays from the start when an FMU cannot save its state; an FMU failing in a what-if stops the live run', async () => {
    const system: SystemSpec = {
      fmus: [
        { name: 'thermal', fmu: fmuPath('thermal', 2), parameters: { current: 30 } },
        { name: 'chatty', fmu: testFmuPath('chatty', 3) },
      ],
    };
    await withSimulation(system, { stepSize: 0.25 }, async (sim) => {
      sim.step(8);
      assert.equal(sim.canSaveState, false);
      await assert.rejects(sim.whatIf({ duration: 1, method: 'restore' }), (err: unknown) => err instanceof FmuError && err.code === 'FMU_UNSUPPORTED' && /chatty cannot save and restore state; use method 'replay'/.test(err.message));
      const result = await sim.whatIf({ duration: 10, limits: [{ variable: 'thermal.temperature', max: 299 }] });
      assert.equal(result.method, 'replay');
      assert.equal(result.startTime, 2);
      assert.equal(result.verdict, 'unsafe');
      assert.ok(Math.abs(result.trajectory.values['thermal.temperature']!.at(-1)! - thermalExact(12, 30)) < 1e-10);
      assert.equal(sim.time, 2);
    });
    const failing: SystemSpec = {
      fmus: [
        { name: 'thermal', fmu: fmuPath('thermal', 3) },
        { name: 'faulty', fmu: testFmuPath('faulty', 3), parameters: { failAt: 0.5 } },
      ],
    };
    await withSimulation(failing, { stepSize: 0.1 }, async (sim) => {
      sim.step(2);
      await assert.rejects(sim.whatIf({ duration: 1 }), (err: unknown) => err instanceof FmuError && err.code === 'FMU_STATUS_ERROR' && /failing on purpose/.test(err.message));
      assert.throws(() => sim.step(), /the co-simulation stopped at t=0\.2/);
    });
  });

  it('batch: a whole experiment with held inputs, columns, a final short step and CSV that reads back exactly', async () => {
    const result = await runBatch(
      { fmus: [{ name: 'thermal', fmu: fmuPath('thermal', 3) }] },
      { stepSize: 1 },
      {
        stopTime: 100.5,
        inputs: { time: [0, 50], columns: { 'thermal.current': [0, 20] } },
        record: ['thermal.temperature', 'thermal.copperLosses'],
      },
    );
    assert.equal(result.time.length, 102);
    assert.equal(result.time[50], 50);
    assert.equal(result.time.at(-1), 100.5);
    const temperature = result.columns['thermal.temperature']!;
    assert.equal(temperature[50], 298.15, 'no current, no heating');
    for (const k of [60, 100, 101]) {
      const t = result.time[k]!;
      assert.ok(Math.abs(temperature[k]! - thermalExact(t - 50, 20)) < 1e-10, `t=${t}: ${temperature[k]} vs ${thermalExact(t - 50, 20)}`);
    }
    const csv = formatCsv(result, ['temperature', 'copperLosses']);
    const back = parseInputCsv(csv, 'result.csv');
    assert.deepEqual(back.names, ['temperature', 'copperLosses']);
    assert.deepEqual(back.time, Array.from(result.time));
    assert.deepEqual(back.columns.temperature, Array.from(temperature));
  });

  it('the spindle FMU matches the plant simulator step for step', async () => {
    const plant = new CncModel({ noiseScale: 0 });
    const { instance, unload } = await instantiateFmu(fmuPath('spindle', 2), 'spindle');
    try {
      instance.enterInitializationMode({ startTime: 0 });
      instance.exitInitializationMode();
      const port = instance.createFloat64Port(['speed', 'motorCurrent', 'bearingTemperature']);
      const h = 0.01;
      let worst = 0;
      for (let k = 0; k < 6000; k++) {
        if (k === 0 || k === 3000 || k === 4500) {
          const setpoint = k === 0 ? 6000 : k === 3000 ? 9000 : 1500;
          plant.setSpeedSetpoint(setpoint);
          instance.setValue('speedSetpoint', setpoint);
        }
        plant.step(h);
        instance.doStep(k * h, (k + 1) * h - k * h);
        port.read();
        const truth = plant.truth();
        const [speed, current, bearing] = port.values;
        worst = Math.max(worst, Math.abs(speed! - truth.spindleSpeed), Math.abs(current! - truth.motorCurrent), Math.abs(bearing! - truth.bearingTemperature));
      }
      assert.equal(worst, 0, `largest difference from the simulator: ${worst}`);
      assert.ok(port.values[2]! > 23, 'the bearing warmed up');
    } finally {
      unload();
    }
  });

  it('live use: inputs, reads, advanceTo, and clear errors', async () => {
    await withSimulation(motorSystem(2), { stepSize: 0.001 }, (sim) => {
      assert.throws(() => sim.setInput('controller.speed', 3), (err: unknown) =>
        err instanceof FmuError && err.code === 'MASTER_USAGE' && err.message === 'setInput: controller.speed is fed by electrical.speed; it cannot be set from outside');
      assert.throws(() => sim.setInput('electrical.inertia', 3), /electrical\.inertia is a fixed parameter, not an input or tunable parameter/);
      sim.setInputs({ 'electrical.loadTorque': 10, 'controller.enable': true });
      assert.equal(sim.advanceTo(0.0105), 10);
      assert.equal(sim.time, 0.01);
      assert.equal(sim.read('controller.state'), 1);
      const info = sim.describe().find((m) => m.name === 'controller')!;
      assert.deepEqual(info.inputs.map((i) => [i.name, i.connected]), [['enable', false], ['speed', true], ['temperature', true]]);
      sim.setInput('controller.enable', false);
      sim.step();
      assert.equal(sim.read('controller.voltage'), 0);
    });
  });

  it('stops on an FMU error and still frees everything', async () => {
    const system: SystemSpec = {
      fmus: [
        { name: 'thermal', fmu: fmuPath('thermal', 2) },
        { name: 'faulty', fmu: testFmuPath('faulty', 2), parameters: { failAt: 0.25 } },
      ],
    };
    const sim = await CoSimulation.create(system, { stepSize: 0.1 });
    sim.step(2);
    assert.throws(() => sim.step(), (err: unknown) => err instanceof FmuError && err.code === 'FMU_STATUS_ERROR' && /^faulty: fmi2DoStep returned Error/.test(err.message));
    assert.throws(() => sim.step(), (err: unknown) => err instanceof FmuError && err.code === 'FMU_STATUS_ERROR' && /the co-simulation stopped at t=0\.2/.test(err.message));
    sim.free();
    sim.free();
    assert.throws(() => sim.step(), /the co-simulation was freed/);
  });
});
