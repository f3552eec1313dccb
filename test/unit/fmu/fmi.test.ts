// FMI 2.0 and 3.0 Co-Simulation instances of our own FMUs: analytic solutions, identical results
// from both builds, every FMI 3.0 type, FMU state, errors that leave only free(), freed instances,
// and formatted log messages (through the FMI 2.0 logger shim and the FMI 3.0 callback).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import koffi from 'koffi';
import { FmuError } from '../../../nodes/fmu/errors';
import { StepOutcome, type CoSimInstance, type FmuLogMessage } from '../../../nodes/fmu/cosim';
import { openFmu } from '../../../nodes/fmu/fmu-archive';
import { instantiateFmu, loadFmuLibrary, type LoadedInstance } from '../../../nodes/fmu/fmu-library';
import { createFmi2Callbacks, fmi2ShimLogTest, registerLogHandler, unregisterLogHandler } from '../../../nodes/fmu/fmi-types';
import type { Fmi3Instance } from '../../../nodes/fmu/fmi3';
import { ensureBuilt, fmuPath, privateCache, testFmuPath, thermalExact } from './helpers';

privateCache();

async function started(file: string, name: string, settings: Record<string, number | boolean> = {}, options = {}): Promise<LoadedInstance> {
  const loaded = await instantiateFmu(file, name, options);
  for (const [variable, value] of Object.entries(settings)) loaded.instance.setValue(variable, value);
  loaded.instance.enterInitializationMode({ startTime: 0 });
  loaded.instance.exitInitializationMode();
  return loaded;
}

/** Runs n steps of h from t = first*h and returns every output after each step. */
function trajectory(instance: CoSimInstance, steps: number, h: number, outputs: string[], first = 0): number[][] {
  const port = instance.createFloat64Port(outputs);
  const rows: number[][] = [];
  for (let k = first; k < first + steps; k++) {
    assert.equal(instance.doStep(k * h, (k + 1) * h - k * h), StepOutcome.Completed);
    port.read();
    rows.push(Array.from(port.values));
  }
  port.dispose();
  return rows;
}

describe('FMI instances', () => {
  before(ensureBuilt);

  for (const version of [2, 3] as const) {
    it(`FMI ${version}.0 thermal FMU follows the analytic RC step response`, async () => {
      const { instance, unload } = await started(fmuPath('thermal', version), 'thermal', { current: 14 });
      try {
        const h = 0.5;
        const rows = trajectory(instance, 7200, h, ['temperature', 'copperLosses']);
        let worst = 0;
        rows.forEach(([temperature], k) => (worst = Math.max(worst, Math.abs(temperature! - thermalExact((k + 1) * h, 14)))));
        assert.ok(worst < 1e-10, `largest deviation from the analytic solution ${worst} K`);
        assert.equal(rows[0]![1], 3 * 0.7 * 14 * 14);
        assert.equal(instance.getValue('time'), 3600);
      } finally {
        unload();
      }
    });
  }

  it('FMI 2.0 and FMI 3.0 builds of each model give bit-identical results', async () => {
    const cases: { name: string; settings: Record<string, number>; outputs: string[]; h: number; steps: number }[] = [
      { name: 'thermal', settings: { current: 25 }, outputs: ['temperature', 'copperLosses'], h: 1, steps: 2000 },
      { name: 'electrical', settings: { voltage: 400, loadTorque: 40 }, outputs: ['speed', 'current', 'torque', 'slip'], h: 0.001, steps: 3000 },
      { name: 'controller', settings: { speed: 900, temperature: 130 }, outputs: ['voltage'], h: 0.01, steps: 600 },
      { name: 'spindle', settings: { speedSetpoint: 8000, load: 0.6 }, outputs: ['speed', 'motorCurrent', 'bearingTemperature', 'acceleration'], h: 0.05, steps: 1200 },
    ];
    for (const c of cases) {
      const runs = [];
      for (const version of [2, 3] as const) {
        const { instance, unload } = await started(fmuPath(c.name, version), c.name, c.settings);
        try {
          runs.push(trajectory(instance, c.steps, c.h, c.outputs));
        } finally {
          unload();
        }
      }
      assert.deepEqual(runs[0], runs[1], `${c.name}: FMI 2.0 and 3.0 differ`);
      assert.ok(runs[0]!.at(-1)!.every(Number.isFinite));
    }
  });

  it('reads and writes every FMI 3.0 type, arrays and binaries included', async () => {
    const { instance, unload } = await started(testFmuPath('typesdemo', 3), 'types');
    try {
      assert.equal(instance.getValue('f64Out'), 2.5);
      assert.equal(instance.getValue('i32Out'), -6);
      assert.equal(instance.getValue('boolOut'), true);
      assert.equal(instance.getValue('stringOut'), 'echo: hello');
      assert.equal(instance.getValue('f32Out'), 1);
      assert.equal(instance.getValue('i8Out'), -127);
      assert.equal(instance.getValue('u8Out'), 255);
      assert.equal(instance.getValue('i16Out'), -299);
      assert.equal(instance.getValue('u16Out'), 65001);
      assert.equal(instance.getValue('u32Out'), 4000000001);
      assert.equal(instance.getValue('i64Out'), -9007199254740992n);
      assert.equal(instance.getValue('u64Out'), 18446744073709551615n);
      assert.deepEqual(instance.getValue('binaryOut'), new Uint8Array([255, 2, 1]));
      assert.deepEqual(instance.getValue('vectorOut'), Float64Array.of(2, 4, 6));
      instance.setValue('vectorIn', [0.5, -1, 1e300]);
      instance.setValue('binaryIn', new Uint8Array([1, 2, 3, 4]));
      instance.setValue('i64In', -(2n ** 63n));
      instance.setValue('u8In', 7);
      instance.setValue('f32In', 0.1);
      instance.setValue('stringIn', 'ünïcode');
      instance.setValue('boolIn', true);
      assert.deepEqual(instance.getValue('vectorOut'), Float64Array.of(1, -2, 2e300));
      assert.deepEqual(instance.getValue('binaryOut'), new Uint8Array([4, 3, 2, 1]));
      assert.equal(instance.getValue('i64Out'), -(2n ** 63n) + 1n);
      assert.equal(instance.getValue('u8Out'), 8);
      assert.equal(instance.getValue('f32Out'), Math.fround(Math.fround(0.1) * 2));
      assert.equal(instance.getValue('stringOut'), 'echo: ünïcode');
      assert.equal(instance.getValue('boolOut'), false);
      const typed = instance as Fmi3Instance;
      assert.deepEqual(typed.getTyped('UInt16', Uint32Array.of(17, 18), new Uint16Array(2)), Uint16Array.of(65000, 65001));
      assert.throws(() => instance.setValue('u8In', 256), (err: unknown) => err instanceof FmuError && err.code === 'FMU_INVALID_VALUE' && /256 is outside the UInt8 range 0\.\.255/.test(err.message));
      assert.throws(() => instance.setValue('vectorIn', [1, 2]), /expects 3 numeric values, got 2/);
    } finally {
      unload();
    }
  });

  it('reads and writes the FMI 2.0 types (Real, Integer, Boolean, String)', async () => {
    const { instance, unload } = await started(testFmuPath('typesdemo', 2), 'types');
    try {
      instance.setValue('f64In', -3);
      instance.setValue('i32In', 41);
      instance.setValue('boolIn', true);
      instance.setValue('stringIn', 'two');
      assert.deepEqual(
        ['f64Out', 'i32Out', 'boolOut', 'stringOut'].map((n) => instance.getValue(n)),
        [-6, 42, false, 'echo: two'],
      );
      assert.throws(() => instance.getValue('u8Out'), (err: unknown) => err instanceof FmuError && err.code === 'FMU_UNKNOWN_VARIABLE');
    } finally {
      unload();
    }
  });

  for (const version of [2, 3] as const) {
    it(`FMI ${version}.0 state: get, set, serialize and deserialize bring back the same future`, async () => {
      const { instance, unload } = await started(fmuPath('electrical', version), 'motor', { voltage: 400, loadTorque: 20 });
      try {
        trajectory(instance, 200, 0.001, ['speed']);
        const saved = instance.getState();
        const bytes = instance.serializeState(saved);
        const ahead = trajectory(instance, 300, 0.001, ['speed', 'current'], 200);
        instance.setState(saved);
        const again = trajectory(instance, 300, 0.001, ['speed', 'current'], 200);
        const restored = instance.deserializeState(bytes);
        instance.setState(restored);
        const third = trajectory(instance, 300, 0.001, ['speed', 'current'], 200);
        assert.ok(ahead[299]![0]! > ahead[0]![0]!, 'the motor accelerates meanwhile');
        assert.deepEqual(again, ahead);
        assert.deepEqual(third, ahead);
        assert.throws(() => instance.deserializeState(new Uint8Array([1, 2, 3])), (err: unknown) => err instanceof FmuError && err.code === 'FMU_STATUS_ERROR' && /not a state of twinflow_motor_electrical/.test(err.message));
      } finally {
        unload();
      }
    });
  }

  for (const version of [2, 3] as const) {
    it(`FMI ${version}.0: after doStep returns Error only free() is allowed`, async () => {
      const messages: FmuLogMessage[] = [];
      const { instance, library, unload } = await started(testFmuPath('faulty', version), 'faulty', { failAt: 0.35 }, { logger: (m: FmuLogMessage) => messages.push(m) });
      try {
        assert.equal(instance.doStep(0, 0.1), StepOutcome.Completed);
        assert.equal(instance.doStep(0.1, 0.2), StepOutcome.Completed);
        assert.throws(
          () => instance.doStep(0.3, 0.1),
          (err: unknown) => err instanceof FmuError && err.code === 'FMU_STATUS_ERROR' &&
            err.message === `faulty: fmi${version}DoStep returned Error at t=0.3 (step 0.1): failing on purpose: step to 0.4 s passes failAt 0.35 s`,
        );
        assert.equal(instance.state, 'error');
        assert.equal(messages.at(-1)?.status, 'error');
        const unusable = (fn: () => unknown): void =>
          assert.throws(fn, (err: unknown) => err instanceof FmuError && err.code === 'FMU_INSTANCE_UNUSABLE' && /only free\(\) is allowed/.test(err.message));
        unusable(() => instance.doStep(0.3, 0.1));
        unusable(() => instance.getValue('x'));
        unusable(() => instance.setValue('u', 1));
        unusable(() => instance.getState());
        unusable(() => instance.terminate());
        unusable(() => instance.createFloat64Port(['x']));
        instance.free();
        instance.free(); // idempotent
        assert.equal(library.liveInstances, 0);
        assert.throws(() => instance.getValue('x'), (err: unknown) => err instanceof FmuError && err.code === 'FMU_INSTANCE_FREED');
      } finally {
        unload();
      }
    });
  }

  it('Fatal makes every instance of the same FMU unusable', async () => {
    const archive = await openFmu(testFmuPath('faulty', 3));
    const library = loadFmuLibrary(archive);
    try {
      const doomed = library.instantiate('doomed');
      const bystander = library.instantiate('bystander');
      for (const instance of [doomed, bystander]) {
        instance.setValue('fatal', true);
        instance.enterInitializationMode({ startTime: 0 });
        instance.exitInitializationMode();
      }
      assert.throws(() => doomed.doStep(0, 2), (err: unknown) => err instanceof FmuError && err.code === 'FMU_STATUS_FATAL');
      assert.throws(() => bystander.doStep(0, 0.1), (err: unknown) => err instanceof FmuError && err.code === 'FMU_INSTANCE_UNUSABLE' && /doomed\) returned Fatal/.test(err.message));
    } finally {
      library.unload();
    }
  });

  it("frees instances: the FMU's own count of live instances returns to zero", async () => {
    for (const version of [2, 3] as const) {
      const archive = await openFmu(fmuPath('electrical', version));
      const library = loadFmuLibrary(archive);
      const live = koffi.load(library.libraryPath).func('int twinflow_live_instances(void)');
      try {
        const instances = Array.from({ length: 20 }, (_, i) => library.instantiate(`m${i}`));
        assert.equal(live(), 20);
        instances.slice(0, 10).forEach((instance) => instance.free());
        assert.equal(live(), 10);
        assert.equal(library.liveInstances, 10);
        library.unload(); // frees the other ten
        assert.equal(live(), 0);
      } finally {
        library.unload();
      }
    }
  });

  for (const version of [2, 3] as const) {
    it(`FMI ${version}.0 log messages arrive formatted (%d, %s, %f, %e, %%, long)`, async () => {
      const messages: FmuLogMessage[] = [];
      const { instance, unload } = await started(testFmuPath('chatty', version), 'chatty1', {}, { logger: (m: FmuLogMessage) => messages.push(m) });
      try {
        instance.doStep(0, 0.25);
        instance.doStep(0.25, 0.25);
        assert.equal(messages[0]!.message, `long message: ${'x'.repeat(1200)}|1200`);
        assert.deepEqual(messages.slice(1).map((m) => [m.status, m.category, m.message, m.instance]), [
          ['warning', 'logEvents', 'initialized ok at t=0.00', 'chatty1'],
          ['ok', 'logEvents', 'step 1 at t=0.250000 from chatty1: ok 1.500e+00 %', 'chatty1'],
          ['ok', 'logEvents', 'step 2 at t=0.500000 from chatty1: ok 1.500e+00 %', 'chatty1'],
        ]);
      } finally {
        unload();
      }
    });
  }

  it('the FMI 2.0 shim formats variadic arguments itself', () => {
    const received: string[] = [];
    const id = registerLogHandler((status, category, message, instanceName) => received.push(`${instanceName}|${status}|${category}|${message}`));
    const callbacks = createFmi2Callbacks(id);
    try {
      assert.equal(callbacks.formatted, true);
      fmi2ShimLogTest(callbacks, -42, 'text', 2.71828);
      assert.deepEqual(received, ['shim|0|test|-42|text|2.718|%']);
    } finally {
      callbacks.release();
      unregisterLogHandler(id);
    }
  });

  it('without the shim, FMI 2.0 messages still arrive (raw format strings)', () => {
    // A child process, because the shim is looked up once per process.
    const script = `
      const { instantiateFmu } = require(${JSON.stringify(require.resolve('../../../nodes/fmu/fmu-library'))});
      instantiateFmu(${JSON.stringify(testFmuPath('chatty', 2))}, 'raw', { logger: (m) => console.log(JSON.stringify(m)) }).then(({ instance, unload }) => {
        console.log(JSON.stringify({ formatted: instance.formattedLogs }));
        instance.enterInitializationMode({ startTime: 0 });
        instance.exitInitializationMode();
        instance.doStep(0, 0.25);
        unload();
      });`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, TWINFLOW_FMI2_LOGGER: '/nonexistent/libtwinflow_fmi2_logger.so' } });
    assert.equal(child.status, 0, child.stderr);
    const lines = child.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines[0], { formatted: false });
    assert.equal(lines.at(-1).message, 'step %d at t=%f from %s: %s %.3e %%');
    assert.equal(lines.at(-1).instance, 'raw');
  });

  it('FMI 3.0 event mode and early return: the controller stops at its ramp-end event', async () => {
    const { instance, unload } = await started(fmuPath('controller', 3), 'controller', { rampTime: 0.25, speed: 0 }, { eventModeUsed: true, earlyReturnAllowed: true });
    try {
      const fmi3 = instance as Fmi3Instance;
      assert.equal(fmi3.eventModeUsed, true);
      assert.equal(instance.doStep(0, 0.1), StepOutcome.Completed);
      assert.equal(instance.getValue('state'), 1);
      assert.equal(instance.doStep(0.1, 0.1), StepOutcome.Completed);
      // The ramp ends at 0.25, inside [0.2, 0.3]: the FMU returns there and asks for event mode.
      assert.equal(instance.doStep(0.2, 0.1), StepOutcome.ReturnedEarly);
      assert.equal(instance.lastSuccessfulTime, 0.25);
      assert.equal(instance.eventHandlingNeeded, true);
      instance.handleEvents();
      assert.equal(instance.getValue('state'), 2);
      assert.equal(instance.getValue('voltage'), 400);
      assert.equal(instance.doStep(0.25, 0.3 - 0.25), StepOutcome.Completed);
      assert.equal(instance.getValue('time'), 0.3);
    } finally {
      unload();
    }
  });

  it('refuses calls in the wrong state with a clear error', async () => {
    const { instance, unload } = await instantiateFmu(fmuPath('thermal', 2), 'early');
    try {
      assert.throws(() => instance.doStep(0, 1), (err: unknown) => err instanceof FmuError && err.code === 'FMU_WRONG_STATE' && /doStep is not allowed in state instantiated/.test(err.message));
    } finally {
      unload();
    }
  });

  it('reports what an FMU says when instantiation fails', async () => {
    const archive = await openFmu(fmuPath('thermal', 3));
    const library = loadFmuLibrary(archive);
    try {
      const impostor = loadFmuLibrary({ ...archive, description: { ...archive.description, instantiationToken: '{wrong}' } });
      try {
        assert.throws(
          () => impostor.instantiate('x'),
          (err: unknown) => err instanceof FmuError && err.code === 'FMU_INSTANTIATION_FAILED' && /instantiationToken \{wrong\} does not match/.test(err.message),
        );
      } finally {
        impostor.unload();
      }
    } finally {
      library.unload();
    }
  });
});
