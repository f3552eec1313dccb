// modelDescription.xml of FMI 2.0 and 3.0: what our FMUs declare comes back parsed, and broken
// descriptions are refused with the file and the problem named.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { openFmu } from '../../../nodes/fmu/fmu-archive';
import { FmuError } from '../../../nodes/fmu/errors';
import { findVariable, parseModelDescription, type ModelDescription } from '../../../nodes/fmu/model-description';
import { ensureBuilt, fmuPath, privateCache, testFmuPath } from './helpers';

privateCache();

function refused(xml: string, pattern: RegExp): void {
  assert.throws(
    () => parseModelDescription(xml, 'test.fmu/modelDescription.xml'),
    (err: unknown) => err instanceof FmuError && err.code === 'FMU_DESCRIPTION_INVALID' && err.message.startsWith('test.fmu/modelDescription.xml: ') && pattern.test(err.message),
  );
}

const FMI2_HEADER = '<?xml version="1.0"?><fmiModelDescription fmiVersion="2.0" modelName="m" guid="{1}"><CoSimulation modelIdentifier="m"/>';

describe('modelDescription.xml', () => {
  let controller2: ModelDescription;
  let controller3: ModelDescription;
  let types3: ModelDescription;

  before(async () => {
    await ensureBuilt();
    controller2 = (await openFmu(fmuPath('controller', 2))).description;
    controller3 = (await openFmu(fmuPath('controller', 3))).description;
    types3 = (await openFmu(testFmuPath('typesdemo', 3))).description;
  });

  it('reads the version, the token and the Co-Simulation capabilities of both versions', () => {
    assert.equal(controller2.fmiVersion, '2.0');
    assert.equal(controller3.fmiVersion, '3.0');
    assert.equal(controller2.instantiationToken, controller3.instantiationToken);
    assert.match(controller2.instantiationToken, /^\{[0-9a-f-]{36}\}$/);
    for (const d of [controller2, controller3]) {
      assert.equal(d.coSimulation?.modelIdentifier, 'twinflow_motor_controller');
      assert.equal(d.coSimulation?.canGetAndSetFMUState, true);
      assert.equal(d.coSimulation?.canSerializeFMUState, true);
      assert.equal(d.coSimulation?.canHandleVariableCommunicationStepSize, true);
      assert.deepEqual(d.defaultExperiment, { startTime: 0, stopTime: 10, stepSize: 0.001 });
    }
    // Event mode and early return only exist in FMI 3.0.
    assert.equal(controller3.coSimulation?.hasEventMode, true);
    assert.equal(controller3.coSimulation?.mightReturnEarlyFromDoStep, true);
    assert.equal(controller2.coSimulation?.hasEventMode, false);
  });

  it('reads variables with causality, variability, initial, start, unit and type', () => {
    for (const d of [controller2, controller3]) {
      const enable = findVariable(d, 'enable');
      assert.deepEqual([enable.type, enable.causality, enable.variability, enable.start], ['Boolean', 'input', 'discrete', true]);
      const voltage = findVariable(d, 'voltage');
      assert.deepEqual([voltage.type, voltage.causality, voltage.initial, voltage.unit, voltage.start], ['Float64', 'output', 'calculated', 'V', undefined]);
      const state = findVariable(d, 'state');
      assert.deepEqual([state.type, state.accessType, state.variability], ['Int32', 'Int32', 'discrete']);
      const ramp = findVariable(d, 'rampTime');
      assert.deepEqual([ramp.causality, ramp.variability, ramp.initial, ramp.start, ramp.unit], ['parameter', 'fixed', 'exact', 4, 's']);
      assert.equal(findVariable(d, 'time').causality, 'independent');
    }
  });

  it('reads unit definitions with exponents, factor and offset', () => {
    for (const d of [controller2, controller3]) {
      assert.deepEqual(d.units.get('degC')?.baseUnit, { kg: 0, m: 0, s: 0, A: 0, K: 1, mol: 0, cd: 0, rad: 0, factor: 1, offset: 273.15 });
      assert.equal(d.units.get('rpm')?.baseUnit?.factor, 0.10471975511965977);
      assert.equal(d.units.get('rpm')?.baseUnit?.rad, 1);
      assert.equal(d.units.get('V')?.baseUnit?.A, -1);
    }
  });

  it('resolves output dependencies from indices (2.0) and value references (3.0) alike', () => {
    for (const d of [controller2, controller3]) {
      const voltage = d.outputs.find((o) => o.variable.name === 'voltage')!;
      assert.deepEqual(voltage.inputs !== 'all' && voltage.inputs.map((v) => v.name), ['enable', 'temperature']);
      assert.deepEqual(voltage.dependenciesKind, ['dependent', 'dependent']);
      const state = d.outputs.find((o) => o.variable.name === 'state')!;
      assert.deepEqual(state.inputs, []);
    }
  });

  it('reads FMI 3.0 typed variables, arrays with dimensions, 64-bit integers and binaries', () => {
    const vector = findVariable(types3, 'vectorIn');
    assert.deepEqual(vector.dimensions, [{ start: 3 }]);
    assert.deepEqual(vector.start, [1, 2, 3]);
    assert.equal(findVariable(types3, 'i64In').start, -9007199254740993n);
    assert.equal(findVariable(types3, 'u64In').start, 18446744073709551614n);
    assert.deepEqual(findVariable(types3, 'binaryIn').start, Uint8Array.of(1, 2, 255));
    assert.equal(findVariable(types3, 'stringIn').start, 'hello');
    assert.equal(findVariable(types3, 'f32In').type, 'Float32');
    assert.equal(findVariable(types3, 'u16In').start, 65000);
  });

  it('names close matches for an unknown variable', () => {
    assert.throws(() => findVariable(controller2, 'temp'), (err: unknown) => err instanceof FmuError && err.code === 'FMU_UNKNOWN_VARIABLE' && /"temp".*temperature/.test(err.message));
  });

  it('refuses broken descriptions, naming the file and the problem', () => {
    refused('<fmiModelDescription fmiVersion="2.0"><ModelVariables></fmiModelDescription>', /not well-formed XML at line 1, column \d+/);
    refused('<root/>', /root element is <root>/);
    refused('<fmiModelDescription fmiVersion="1.0" modelName="m" guid="x"/>', /fmiVersion "1.0" is not supported/);
    refused('<fmiModelDescription fmiVersion="2.0" modelName="m"/>', /has no guid attribute/);
    refused(`${FMI2_HEADER}<ModelVariables><ScalarVariable name="x" causality="output"><Real/></ScalarVariable></ModelVariables></fmiModelDescription>`, /ScalarVariable 1 \("x"\) has no valueReference/);
    refused(`${FMI2_HEADER}<ModelVariables><ScalarVariable name="x" valueReference="1"><Real/></ScalarVariable><ScalarVariable name="x" valueReference="2"><Real/></ScalarVariable></ModelVariables></fmiModelDescription>`, /"x" is declared twice/);
    refused(`${FMI2_HEADER}<ModelVariables><ScalarVariable name="u" valueReference="1" causality="input"><Real/></ScalarVariable></ModelVariables></fmiModelDescription>`, /"u"\): needs a start value \(causality input/);
    refused(`${FMI2_HEADER}<ModelVariables><ScalarVariable name="y" valueReference="1" causality="output"><Real start="abc"/></ScalarVariable></ModelVariables></fmiModelDescription>`, /"abc" is not a number/);
    refused(`${FMI2_HEADER}<ModelVariables><ScalarVariable name="y" valueReference="1" causality="sideways"><Real/></ScalarVariable></ModelVariables></fmiModelDescription>`, /causality="sideways" is not one of/);
    refused(`${FMI2_HEADER}<ModelVariables><ScalarVariable name="y" valueReference="1" causality="output"><Real/></ScalarVariable></ModelVariables><ModelStructure><Outputs><Unknown index="7"/></Outputs></ModelStructure></fmiModelDescription>`, /index 7 is not a variable/);
    refused('<fmiModelDescription fmiVersion="3.0" modelName="m" instantiationToken="t"><CoSimulation modelIdentifier="m"/><ModelVariables><Float64 name="a" valueReference="1"/><Float64 name="b" valueReference="1"/></ModelVariables></fmiModelDescription>', /valueReference 1 is also used by "a"/);
    refused('<fmiModelDescription fmiVersion="3.0" modelName="m" instantiationToken="t"><ModelVariables/></fmiModelDescription>', /declares no interface/);
  });

  it('treats outputs without declared dependencies as depending on every input', () => {
    const d = parseModelDescription(
      `${FMI2_HEADER}<ModelVariables><ScalarVariable name="u" valueReference="1" causality="input"><Real start="0"/></ScalarVariable>` +
        '<ScalarVariable name="y" valueReference="2" causality="output"><Real/></ScalarVariable></ModelVariables>' +
        '<ModelStructure><Outputs><Unknown index="2"/></Outputs></ModelStructure></fmiModelDescription>',
      'inline',
    );
    assert.equal(d.outputs[0]!.inputs, 'all');
  });
});
