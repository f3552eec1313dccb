import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BEARING_ALERT_VIBRATION_RMS,
  BEARING_FAILURE_TEMPERATURE_C,
  BEARING_FAILURE_VIBRATION_RMS,
  CncModel,
  DEFAULT_AMBIENT_TEMPERATURE_C,
  DEFAULT_BEARING_TIME_TO_FAILURE_SECONDS,
  DRIVE_FAULT_TRIP_SECONDS,
  MachineStateError,
  NOMINAL_COOLANT_FLOW_L_PER_MIN,
  PROGRAMS,
  SENSOR_PATHS,
  SPINDLE_RAMP_LIMIT_RPM_PER_SECOND,
  SUB_STEP_SECONDS,
  faultRequestFromText,
  programDuration,
  type CncReadings,
} from '../../../plant/cnc-model';

/** Steps in sub-steps and returns the truth after each, for checks along the way. */
function trace(model: CncModel, seconds: number, every = SUB_STEP_SECONDS) {
  const points = [];
  for (let t = 0; t < seconds - 1e-9; t += every) {
    model.step(every);
    points.push(model.truth());
  }
  return points;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Mean of a numeric reading over a window, sampled every 0.1 s. */
function meanReading(model: CncModel, seconds: number, pick: (r: CncReadings) => number | null): number {
  const values: number[] = [];
  for (let t = 0; t < seconds; t += 0.1) {
    model.step(0.1);
    const value = pick(model.readings());
    assert.notEqual(value, null);
    values.push(value as number);
  }
  return mean(values);
}

describe('spindle dynamics', () => {
  test('the spindle reaches its setpoint with a lag and never exceeds the ramp limit', () => {
    const model = new CncModel({ seed: 1 });
    model.setSpeedSetpoint(12000);
    const points = trace(model, 12);
    let previous = 0;
    for (const point of points) {
      const rate = (point.spindleSpeed - previous) / SUB_STEP_SECONDS;
      assert.ok(rate <= SPINDLE_RAMP_LIMIT_RPM_PER_SECOND + 1e-6, `accelerated at ${rate} rpm/s`);
      assert.ok(point.spindleSpeed <= 12000);
      previous = point.spindleSpeed;
    }
    // After 1 s a pure ramp reaches 2000 rpm; the lag only shapes the approach.
    assert.ok(Math.abs(points[99].spindleSpeed - 2000) < 1e-6, `speed after 1 s: ${points[99].spindleSpeed}`);
    // First-order approach: still below the setpoint after 6 s, on it by 12 s.
    assert.ok(points[599].spindleSpeed < 12000 - 10);
    assert.equal(points.at(-1)?.spindleSpeed, 12000);

    // Down again at the same limited rate.
    model.setSpeedSetpoint(0);
    previous = model.truth().spindleSpeed;
    for (const point of trace(model, 15)) {
      const rate = (point.spindleSpeed - previous) / SUB_STEP_SECONDS;
      assert.ok(rate >= -SPINDLE_RAMP_LIMIT_RPM_PER_SECOND - 1e-6, `decelerated at ${rate} rpm/s`);
      previous = point.spindleSpeed;
    }
    assert.equal(model.truth().spindleSpeed, 0);
  });

  test('a small step is dominated by the lag (time constant about 0.5 s)', () => {
    const model = new CncModel({ seed: 1 });
    model.setSpeedSetpoint(5000);
    model.step(10);
    model.setSpeedSetpoint(5500);
    model.step(0.5);
    // 1 - e^-1 of the step after one time constant (Euler at 10 ms is within a percent).
    const fraction = (model.truth().spindleSpeed - 5000) / 500;
    assert.ok(fraction > 0.6 && fraction < 0.66, `fraction after tau: ${fraction}`);
  });

  test('motor current rises with speed, cutting load and acceleration', () => {
    const steady = new CncModel({ seed: 1 });
    steady.setSpeedSetpoint(2000);
    steady.step(10);
    const accelerating = new CncModel({ seed: 1 });
    accelerating.setSpeedSetpoint(8000);
    accelerating.step(1);
    // Both at 2000 rpm, one of them accelerating at the ramp limit.
    assert.ok(Math.abs(accelerating.truth().spindleSpeed - 2000) < 1e-6);
    assert.ok(accelerating.truth().motorCurrent > steady.truth().motorCurrent + 5);

    const idleAtSpeed = new CncModel({ seed: 1 });
    idleAtSpeed.setSpeedSetpoint(8000);
    idleAtSpeed.step(20);
    const cutting = new CncModel({ seed: 1 });
    assert.equal(cutting.startCycle('P1000'), 'started');
    cutting.step(20); // inside "pass 1", load 0.7 at 8000 rpm
    assert.equal(cutting.truth().spindleSpeed, 8000);
    assert.ok(cutting.truth().cuttingLoad > 0.6);
    assert.ok(cutting.truth().motorCurrent > idleAtSpeed.truth().motorCurrent + 10);
    assert.ok(idleAtSpeed.truth().motorCurrent > steady.truth().motorCurrent);
    // The readings show the same on average.
    const measuredCutting = meanReading(cutting, 2, (r) => r.spindle.motorCurrent);
    const measuredIdle = meanReading(idleAtSpeed, 2, (r) => r.spindle.motorCurrent);
    assert.ok(measuredCutting > measuredIdle + 10);
  });

  test('vibration rises with speed and load', () => {
    const slow = new CncModel();
    slow.setSpeedSetpoint(3000);
    slow.step(10);
    const fast = new CncModel();
    fast.setSpeedSetpoint(12000);
    fast.step(15);
    assert.ok(fast.truth().vibrationRms > slow.truth().vibrationRms + 0.05);
    assert.ok(fast.truth().vibrationRms < BEARING_ALERT_VIBRATION_RMS, 'a healthy spindle stays below the alert level');
  });
});

describe('thermal behaviour', () => {
  test('bearing and coolant warm up at speed and cool down at rest', () => {
    const model = new CncModel({ seed: 2 });
    const start = model.truth();
    assert.equal(start.bearingTemperature, DEFAULT_AMBIENT_TEMPERATURE_C);
    assert.equal(start.coolantTemperature, DEFAULT_AMBIENT_TEMPERATURE_C);
    model.setSpeedSetpoint(12000);
    model.step(20 * 60);
    const warm = model.truth();
    assert.ok(warm.bearingTemperature > start.bearingTemperature + 10, `bearing ${warm.bearingTemperature}`);
    assert.ok(warm.coolantTemperature > start.coolantTemperature + 1, `coolant ${warm.coolantTemperature}`);
    assert.ok(warm.bearingTemperature > warm.coolantTemperature, 'the bearing is hotter than its coolant');
    model.setSpeedSetpoint(0);
    model.step(30 * 60);
    const cooled = model.truth();
    assert.ok(cooled.bearingTemperature < warm.bearingTemperature - 8);
    assert.ok(cooled.coolantTemperature < warm.coolantTemperature);
    assert.ok(cooled.coolantTemperature >= DEFAULT_AMBIENT_TEMPERATURE_C);
  });

  test('axes travel toward their targets at the feed rate', () => {
    const model = new CncModel();
    assert.equal(model.startCycle('P3000'), 'started');
    const first = PROGRAMS.P3000.segments[0];
    model.step(first.durationSeconds - 0.01);
    const position = model.truth().position;
    assert.deepEqual(position, first.target);
    model.step(0.51); // drilling down at 10 mm/s for half a second
    assert.ok(Math.abs(model.truth().position.z - (first.target.z - 5)) < 0.11);
  });
});

describe('determinism', () => {
  function script(model: CncModel): CncReadings[] {
    const out: CncReadings[] = [];
    model.setSpeedSetpoint(6000);
    for (let i = 0; i < 20; i++) {
      model.step(0.5);
      out.push(model.readings());
    }
    model.startCycle('P2000');
    model.injectFault('bearingWear', '', { timeToFailureSeconds: 120 });
    for (let i = 0; i < 40; i++) {
      model.step(2);
      out.push(model.readings());
    }
    return out;
  }

  test('the same seed and calls give bit-identical readings; another seed differs', () => {
    const a = script(new CncModel({ seed: 5 }));
    const b = script(new CncModel({ seed: 5 }));
    assert.deepStrictEqual(a, b);
    const c = script(new CncModel({ seed: 6 }));
    assert.notDeepStrictEqual(a, c);
  });

  test('auto cycle is deterministic per seed', () => {
    const run = (seed: number) => {
      const model = new CncModel({ seed, autoCycle: true });
      const states: string[] = [];
      for (let i = 0; i < 360; i++) {
        model.step(10);
        states.push(`${model.machineState}/${model.activeProgram}/${model.doorOpen}`);
      }
      return { states, readings: model.readings() };
    };
    assert.deepStrictEqual(run(8), run(8));
    assert.notDeepStrictEqual(run(8).states, run(9).states);
  });

  test('results do not depend on how time is chunked', () => {
    const one = new CncModel({ seed: 3 });
    const many = new CncModel({ seed: 3 });
    const odd = new CncModel({ seed: 3 });
    for (const model of [one, many, odd]) {
      model.setSpeedSetpoint(9000);
      model.injectFault('coolantPumpFailure');
    }
    one.step(1);
    for (let i = 0; i < 100; i++) many.step(0.01);
    for (let i = 0; i < 10; i++) odd.step(0.1);
    assert.deepStrictEqual(many.readings(), one.readings());
    assert.deepStrictEqual(many.truth(), one.truth());
    assert.deepStrictEqual(odd.truth(), one.truth());

    one.step(30);
    for (let i = 0; i < 3000; i++) many.step(0.01);
    for (let i = 0; i < 7; i++) odd.step(3);
    odd.step(9);
    assert.deepStrictEqual(many.readings(), one.readings());
    assert.deepStrictEqual(odd.readings(), one.readings());
  });

  test('reading more or less often does not change the values', () => {
    const watched = new CncModel({ seed: 4 });
    const unwatched = new CncModel({ seed: 4 });
    watched.setSpeedSetpoint(7000);
    unwatched.setSpeedSetpoint(7000);
    for (let i = 0; i < 50; i++) {
      watched.step(0.1);
      watched.readings();
    }
    unwatched.step(5);
    assert.deepStrictEqual(watched.readings(), unwatched.readings());
  });

  test('a remainder shorter than a sub-step is carried over', () => {
    const model = new CncModel();
    model.step(0.015);
    assert.equal(model.time, 0.01);
    model.step(0.005);
    assert.equal(model.time, 0.02);
    assert.throws(() => model.step(-1), /dtSeconds: -1 must be a finite number >= 0/);
    assert.throws(() => model.step(Number.NaN), RangeError);
  });
});

describe('readings', () => {
  test('readings carry noise around the truth, and the commanded values exactly', () => {
    const model = new CncModel({ seed: 1 });
    model.setSpeedSetpoint(6000);
    model.step(10);
    const truth = model.truth();
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      model.step(0.1);
      const reading = model.readings();
      samples.push(reading.spindle.speed as number);
      assert.equal(reading.spindle.speedSetpoint, 6000);
      assert.equal(reading.spindle.maxSpeed, 12000);
      assert.equal(reading.machineState, 'idle');
      assert.equal(reading.activeProgram, '');
      for (const path of SENSOR_PATHS) assert.equal(reading.status[path], 'good');
    }
    assert.ok(new Set(samples).size > 150, 'speed readings vary');
    assert.ok(Math.abs(mean(samples) - truth.spindleSpeed) < 2);
    const noiseless = new CncModel({ noiseScale: 0 });
    noiseless.setSpeedSetpoint(6000);
    noiseless.step(10);
    assert.equal(noiseless.readings().spindle.speed, noiseless.truth().spindleSpeed);
  });
});

describe('faults', () => {
  function runningModel(seed = 1): CncModel {
    const model = new CncModel({ seed });
    model.setSpeedSetpoint(8000);
    model.step(60);
    return model;
  }

  test('bearing wear raises vibration and temperature, crossing the failure threshold in about the configured time', () => {
    for (const timeToFailure of [600, DEFAULT_BEARING_TIME_TO_FAILURE_SECONDS]) {
      const model = runningModel();
      const twin = runningModel(); // the same machine with a healthy bearing, for comparison
      const healthy = model.truth();
      model.injectFault('bearingWear', undefined, { timeToFailureSeconds: timeToFailure });
      assert.equal(model.truth().bearingRemainingLifeSeconds, timeToFailure);
      let crossedAt: number | null = null;
      const injectedAt = model.time;
      while (model.time - injectedAt < timeToFailure * 1.5) {
        model.step(1);
        if (crossedAt === null && model.truth().vibrationRms >= BEARING_FAILURE_VIBRATION_RMS) crossedAt = model.time - injectedAt;
      }
      assert.ok(crossedAt !== null, 'the failure threshold was reached');
      assert.ok(Math.abs(crossedAt - timeToFailure) < 0.05 * timeToFailure, `crossed after ${crossedAt} s, configured ${timeToFailure} s`);
      const failed = model.truth();
      assert.equal(failed.bearingFailed, true);
      assert.equal(failed.bearingRemainingLifeSeconds, 0);
      assert.ok(failed.bearingTemperature > BEARING_FAILURE_TEMPERATURE_C, `bearing at ${failed.bearingTemperature} degC`);
      twin.step(model.time - twin.time);
      assert.ok(failed.bearingTemperature > twin.truth().bearingTemperature + 20);
      const measured = meanReading(model, 5, (r) => r.spindle.vibrationRms);
      assert.ok(measured > BEARING_FAILURE_VIBRATION_RMS);
      // Clearing the fault is a new bearing: vibration back at once, temperature cools.
      assert.equal(model.clearFault('bearingWear'), true);
      assert.ok(Math.abs(model.truth().vibrationRms - healthy.vibrationRms) < 1e-9);
      assert.equal(model.truth().bearingWear, 0);
      model.step(1200);
      twin.step(1200);
      assert.ok(Math.abs(model.truth().bearingTemperature - twin.truth().bearingTemperature) < 0.5);
    }
  });

  test('wear progresses monotonically, and slowly at first', () => {
    const model = runningModel();
    model.injectFault('bearingWear', 'spindle', { timeToFailureSeconds: 1000 });
    let previous = model.truth().vibrationRms;
    const halfway: number[] = [];
    for (let i = 0; i < 10; i++) {
      model.step(100);
      const v = model.truth().vibrationRms;
      assert.ok(v > previous);
      previous = v;
      if (i === 4) halfway.push(v);
    }
    assert.ok(halfway[0] < BEARING_ALERT_VIBRATION_RMS / 2, 'halfway the bearing still looks healthy-ish');
  });

  test('coolant pump failure: flow decays to about 0, temperatures rise; clearing restores the flow', () => {
    const model = runningModel();
    const reference = runningModel();
    model.injectFault('coolantPumpFailure');
    model.step(600);
    reference.step(600);
    const failed = model.truth();
    assert.ok(failed.coolantFlow < 0.05);
    assert.ok(meanReading(model, 2, (r) => r.coolant.flow) < 0.5);
    assert.ok(failed.coolantTemperature > reference.truth().coolantTemperature + 1);
    assert.ok(failed.bearingTemperature > reference.truth().bearingTemperature + 8);
    assert.equal(model.clearFault('coolantPumpFailure', 'coolant'), true);
    model.step(30);
    assert.ok(Math.abs(model.truth().coolantFlow - NOMINAL_COOLANT_FLOW_L_PER_MIN) < 0.1);
  });

  test('spindle drive fault: speed stops following, current is abnormal, the machine trips into alarm', () => {
    const model = runningModel();
    assert.equal(model.startCycle('P1000'), 'started');
    model.step(20);
    const before = model.truth();
    model.injectFault('spindleDriveFault');
    model.step(1);
    const faulted = model.truth();
    assert.equal(faulted.machineState, 'running');
    assert.ok(faulted.spindleSpeed < before.spindleSpeed - 500, 'the spindle coasts instead of holding 8000 rpm');
    // Normal current at 8000 rpm under load is smooth; the faulted drive's hunts by many amperes.
    const currents: number[] = [];
    for (let i = 0; i < 100; i++) {
      model.step(0.01);
      currents.push(model.truth().motorCurrent);
    }
    assert.ok(Math.max(...currents) - Math.min(...currents) > 8);
    model.step(DRIVE_FAULT_TRIP_SECONDS);
    const tripped = model.truth();
    assert.equal(tripped.machineState, 'alarm');
    assert.equal(tripped.alarmReason, 'spindle drive fault');
    assert.equal(tripped.activeProgram, '');
    assert.ok(tripped.motorCurrent < 1);
    // The fault holds the alarm until it is cleared.
    assert.equal(model.resetAlarm(), false);
    assert.equal(model.machineState, 'alarm');
    assert.equal(model.clearFault('spindleDriveFault'), true);
    assert.equal(model.machineState, 'alarm', 'the alarm is latched');
    assert.equal(model.resetAlarm(), true);
    assert.equal(model.machineState, 'idle');
    model.setSpeedSetpoint(4000);
    model.step(10);
    assert.equal(model.truth().spindleSpeed, 4000);
  });

  test('a stuck sensor repeats its last value exactly with good status, until cleared', () => {
    const model = runningModel();
    const last = model.readings().spindle.vibrationRms;
    model.injectFault('stuckSensor', 'spindle.vibrationRms');
    model.setSpeedSetpoint(12000);
    for (let i = 0; i < 20; i++) {
      model.step(0.5);
      const reading = model.readings();
      assert.equal(reading.spindle.vibrationRms, last);
      assert.equal(reading.status['spindle.vibrationRms'], 'good');
    }
    assert.notEqual(model.truth().vibrationRms, last);
    assert.equal(model.clearFault('stuckSensor', 'spindle.vibrationRms'), true);
    model.step(0.1);
    assert.notEqual(model.readings().spindle.vibrationRms, last);
  });

  test('a sensor in dropout reports no value and says so, until cleared', () => {
    const model = runningModel();
    model.injectFault('sensorDropout', 'coolant/temperature'); // slash paths are accepted too
    model.step(1);
    const reading = model.readings();
    assert.equal(reading.coolant.temperature, null);
    assert.equal(reading.status['coolant.temperature'], 'noCommunication');
    assert.equal(typeof reading.coolant.flow, 'number');
    assert.deepEqual(model.activeFaults().map((f) => f.label), ['sensorDropout:coolant.temperature']);
    assert.equal(model.clearFault('sensorDropout', 'coolant.temperature'), true);
    assert.equal(typeof model.readings().coolant.temperature, 'number');
    assert.equal(model.readings().status['coolant.temperature'], 'good');
    assert.deepEqual(model.activeFaults(), []);
  });

  test('several faults at once are listed; clearing an inactive fault returns false', () => {
    const model = new CncModel();
    model.step(2);
    model.injectFault('bearingWear');
    model.injectFault('stuckSensor', 'positionX');
    model.injectFault('sensorDropout', 'CNC.spindle.speed');
    assert.deepEqual(
      model.activeFaults().map((f) => [f.kind, f.target, f.since, f.label]),
      [
        ['bearingWear', '', 2, 'bearingWear'],
        ['stuckSensor', 'positionX', 2, 'stuckSensor:positionX'],
        ['sensorDropout', 'spindle.speed', 2, 'sensorDropout:spindle.speed'],
      ],
    );
    assert.equal(model.clearFault('coolantPumpFailure'), false);
  });

  test('unknown faults and targets are clear errors', () => {
    const model = new CncModel();
    assert.throws(() => model.injectFault('gremlins'), /fault: "gremlins" is not a known fault; use one of bearingWear, /);
    assert.throws(() => model.injectFault('stuckSensor'), /target: stuckSensor needs a sensor, one of spindle.speed/);
    assert.throws(() => model.injectFault('sensorDropout', 'spindle.colour'), /target: "spindle.colour" is not a sensor/);
    assert.throws(() => model.injectFault('coolantPumpFailure', 'spindle'), /target: coolantPumpFailure acts on the coolant/);
    assert.throws(() => model.clearFault('gremlins'), RangeError);
    assert.throws(
      () => model.injectFault('bearingWear', '', { timeToFailureSeconds: -5 }),
      /timeToFailureSeconds: -5 must be a finite number above 0/,
    );
    assert.deepEqual(model.activeFaults(), []);
  });

  test('fault requests given as text: a number after bearingWear is the time to failure', () => {
    assert.deepEqual(faultRequestFromText('bearingWear', '600'), { kind: 'bearingWear', target: '', options: { timeToFailureSeconds: 600 } });
    assert.deepEqual(faultRequestFromText('stuckSensor', ' coolant.flow '), { kind: 'stuckSensor', target: 'coolant.flow', options: {} });
  });
});

describe('machine states and interlocks', () => {
  test('a program runs its segments and returns to idle with the spindle stopped', () => {
    const model = new CncModel();
    assert.equal(model.startCycle('P3000'), 'started');
    assert.equal(model.machineState, 'running');
    assert.equal(model.activeProgram, 'P3000');
    assert.equal(model.speedSetpoint, 3000);
    model.step(programDuration(PROGRAMS.P3000) - 1);
    assert.equal(model.machineState, 'running');
    model.step(1.01);
    assert.equal(model.machineState, 'idle');
    assert.equal(model.activeProgram, '');
    assert.equal(model.speedSetpoint, 0);
    assert.equal(model.readings().activeProgram, '');
  });

  test('an external setpoint wins until the next segment boundary', () => {
    const model = new CncModel();
    model.startCycle('P1000');
    model.step(1);
    model.setSpeedSetpoint(6000);
    assert.equal(model.speedSetpoint, 6000);
    model.step(2.5);
    assert.equal(model.speedSetpoint, 6000);
    model.step(1); // "plunge" starts at 4 s and sets 8000 again
    assert.equal(model.speedSetpoint, 8000);
  });

  test('startCycle interlocks', () => {
    const model = new CncModel();
    assert.equal(model.startCycle('P9999'), 'rejected: unknown program P9999');
    assert.equal(model.startCycle('toString'), 'rejected: unknown program toString');
    model.setDoorOpen(true);
    assert.equal(model.startCycle('P1000'), 'rejected: door open');
    model.setDoorOpen(false);
    assert.equal(model.startCycle('P1000'), 'started');
    assert.equal(model.startCycle('P2000'), 'rejected: already running');
    model.emergencyStop();
    assert.equal(model.startCycle('P1000'), 'rejected: emergency stop active');
    model.resetAlarm();
    model.injectFault('spindleDriveFault');
    model.step(DRIVE_FAULT_TRIP_SECONDS + 0.1);
    assert.equal(model.machineState, 'alarm');
    assert.equal(model.startCycle('P1000'), 'rejected: alarm active');
  });

  test('opening the door during a cycle stops it and raises an alarm; reset returns to idle', () => {
    const model = new CncModel();
    model.startCycle('P2000');
    model.step(15);
    model.setDoorOpen(true);
    const truth = model.truth();
    assert.equal(truth.machineState, 'alarm');
    assert.equal(truth.alarmReason, 'door opened during cycle');
    assert.equal(truth.activeProgram, '');
    assert.equal(truth.speedSetpoint, 0);
    const position = truth.position;
    model.step(10);
    assert.equal(model.truth().spindleSpeed, 0);
    assert.deepEqual(model.truth().position, position, 'the axes stopped where they were');
    assert.equal(model.resetAlarm(), true);
    assert.equal(model.machineState, 'idle');
    assert.equal(model.doorOpen, true);
    // Opening the door while idle is normal and raises nothing.
    model.setDoorOpen(false);
    model.setDoorOpen(true);
    assert.equal(model.machineState, 'idle');
    assert.throws(() => model.setDoorOpen('yes' as unknown as boolean), /doorOpen: yes is not a boolean/);
  });

  test('emergency stop brakes the spindle hard, refuses new speeds and is left by reset', () => {
    const model = new CncModel();
    model.startCycle('P2000');
    model.step(15);
    assert.equal(model.truth().spindleSpeed, 11000);
    assert.equal(model.emergencyStop(), true);
    assert.equal(model.machineState, 'emergencyStop');
    assert.equal(model.activeProgram, '');
    assert.equal(model.speedSetpoint, 0);
    model.step(3);
    // The normal ramp alone would need 5.5 s to stop from 11000 rpm.
    assert.equal(model.truth().spindleSpeed, 0);
    assert.throws(() => model.setSpeedSetpoint(1000), MachineStateError);
    assert.throws(() => model.setSpeedSetpoint(1000), /speedSetpoint: 1000 is refused while the machine is in emergencyStop/);
    model.setSpeedSetpoint(0); // stopping is always allowed
    assert.equal(model.resetAlarm(), true);
    assert.equal(model.machineState, 'idle');
    model.setSpeedSetpoint(1000);
  });

  test('emergency stop with a faulted drive is not confirmed, and reset leaves it in alarm', () => {
    const model = new CncModel();
    model.setSpeedSetpoint(5000);
    model.step(5);
    model.injectFault('spindleDriveFault');
    assert.equal(model.emergencyStop(), false);
    assert.equal(model.machineState, 'emergencyStop');
    assert.equal(model.resetAlarm(), false);
    assert.equal(model.machineState, 'alarm');
  });

  test('speed setpoints outside 0..ratedMaxSpeed are range errors naming the field and the rule', () => {
    const model = new CncModel({ ratedMaxSpeed: 24000 });
    assert.throws(() => model.setSpeedSetpoint(30000), { name: 'RangeError', message: 'speedSetpoint: 30000 is above the maximum 24000' });
    assert.throws(() => model.setSpeedSetpoint(-1), { name: 'RangeError', message: 'speedSetpoint: -1 is below the minimum 0' });
    assert.throws(() => model.setSpeedSetpoint(Number.NaN), { name: 'RangeError', message: 'speedSetpoint: NaN is not a finite number' });
    assert.throws(() => model.setSpeedSetpoint(Number.POSITIVE_INFINITY), /not a finite number/);
    model.setSpeedSetpoint(24000);
    assert.equal(model.readings().spindle.maxSpeed, 24000);
    assert.throws(() => new CncModel({ ratedMaxSpeed: 0 }), /ratedMaxSpeed: 0 must be a finite number above 0/);
  });
});

describe('auto cycle', () => {
  test('runs programs back to back with idle gaps and door openings, and waits out alarms', () => {
    const model = new CncModel({ seed: 21, autoCycle: true });
    const started = new Set<string>();
    let starts = 0;
    let doorOpenings = 0;
    let idleSeconds = 0;
    let previousState = model.machineState;
    let previousDoor = model.doorOpen;
    const loads: number[] = [];
    for (let i = 0; i < 2 * 36000; i++) {
      model.step(0.1);
      const state = model.machineState;
      if (state === 'running' && previousState !== 'running') {
        starts++;
        started.add(model.activeProgram);
      }
      if (model.doorOpen && !previousDoor) doorOpenings++;
      if (state === 'idle') idleSeconds += 0.1;
      if (state === 'running') loads.push(model.truth().cuttingLoad);
      previousState = state;
      previousDoor = model.doorOpen;
    }
    assert.ok(starts > 40, `${starts} cycles in 2 hours`);
    assert.deepEqual([...started].sort(), ['P1000', 'P2000', 'P3000']);
    assert.ok(doorOpenings >= starts - 1);
    assert.ok(idleSeconds > 600 && idleSeconds < 5400, `${idleSeconds} s idle`);
    assert.ok(Math.max(...loads) > 0.7);

    // An alarm stops the auto cycle until someone resets it.
    model.emergencyStop();
    model.step(600);
    assert.equal(model.machineState, 'emergencyStop');
    model.resetAlarm();
    model.step(1200);
    assert.ok(model.truth().coolantTemperature > DEFAULT_AMBIENT_TEMPERATURE_C);
    let resumed = false;
    for (let i = 0; i < 1200 && !resumed; i++) {
      model.step(1);
      resumed = model.truth().machineState === 'running';
    }
    assert.ok(resumed, 'the auto cycle resumed after the reset');
  });
});
