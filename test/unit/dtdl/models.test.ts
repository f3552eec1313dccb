// The shipped models/ folder: the simulated CNC machine and the plant, DTDL v3 + QuantitativeTypes.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { dtmiToRepositoryPath, parseModels, validateInstance, type CommandInfo, type EnumSchema, type ModelSet, type PropertyInfo, type RelationshipInfo, type TelemetryInfo } from '../../../nodes/lib/dtdl';
import { ROOT } from './helpers';

const MODELS = path.join(ROOT, 'models');
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

function load(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('models/', () => {
  const result = parseModels(jsonFiles(MODELS).map(load));

  test('is a valid DTDL model set', () => {
    assert.deepEqual(result.errors, []);
    assert.equal(result.valid, true);
    assert.deepEqual([...(result.model?.interfaces.keys() ?? [])].sort(), [
      'dtmi:twinflow:cnc:CNCMachine;1',
      'dtmi:twinflow:cnc:CoolantSystem;1',
      'dtmi:twinflow:cnc:Spindle;1',
      'dtmi:twinflow:plant:ProductionHall;1',
      'dtmi:twinflow:plant:ProductionLine;1',
    ]);
  });

  test('each file sits at its models-repository path, so a resolver finds it by DTMI', () => {
    const resolved = parseModels([load(path.join(MODELS, dtmiToRepositoryPath(CNC)))], {
      resolve: (dtmi) => {
        const file = path.join(MODELS, dtmiToRepositoryPath(dtmi));
        return existsSync(file) ? load(file) : undefined;
      },
    });
    assert.equal(resolved.valid, true, JSON.stringify(resolved.errors));
    assert.ok(resolved.model?.interfaces.has('dtmi:twinflow:cnc:Spindle;1'));
  });

  const model = result.model as ModelSet;
  const content = (dtmi: string, name: string) => model.interfaces.get(dtmi)?.contents.get(name);

  test('CNCMachine: components, axes, door, state, program and commands with the simulator\'s names', () => {
    const machine = model.interfaces.get(CNC);
    assert.deepEqual([...(machine?.contents.keys() ?? [])].sort(), [
      'activeProgram', 'coolant', 'doorOpen', 'emergencyStop', 'machineState', 'positionX', 'positionY', 'positionZ', 'resetAlarm', 'spindle', 'startCycle',
    ]);
    for (const axis of ['positionX', 'positionY', 'positionZ']) {
      const t = content(CNC, axis) as TelemetryInfo;
      assert.equal(t.kind, 'Telemetry');
      assert.deepEqual([t.schema, t.semanticTypes, t.unit], [{ kind: 'Primitive', type: 'double' }, ['Length'], 'millimetre']);
    }
    const door = content(CNC, 'doorOpen') as PropertyInfo;
    assert.deepEqual([door.kind, door.schema, door.writable], ['Property', { kind: 'Primitive', type: 'boolean' }, true]);
    const state = (content(CNC, 'machineState') as PropertyInfo).schema as EnumSchema;
    assert.equal(state.valueSchema, 'string');
    assert.deepEqual(state.enumValues.map((v) => [v.name, v.enumValue]), [['idle', 'idle'], ['running', 'running'], ['alarm', 'alarm'], ['emergencyStop', 'emergencyStop']]);
    assert.deepEqual((content(CNC, 'activeProgram') as PropertyInfo).schema, { kind: 'Primitive', type: 'string' });
    const start = content(CNC, 'startCycle') as CommandInfo;
    assert.deepEqual([start.request?.name, start.request?.schema, start.response?.name, start.response?.schema], ['programId', { kind: 'Primitive', type: 'string' }, 'status', { kind: 'Primitive', type: 'string' }]);
    const stop = content(CNC, 'emergencyStop') as CommandInfo;
    assert.deepEqual([stop.request, stop.response?.name, stop.response?.schema], [undefined, 'stopConfirmed', { kind: 'Primitive', type: 'boolean' }]);
    const reset = content(CNC, 'resetAlarm') as CommandInfo;
    assert.deepEqual([reset.request, reset.response], [undefined, undefined]);
    const components = machine?.components.map((c) => [c.name, c.schema]);
    assert.deepEqual(components, [['spindle', 'dtmi:twinflow:cnc:Spindle;1'], ['coolant', 'dtmi:twinflow:cnc:CoolantSystem;1']]);
  });

  test('Spindle and CoolantSystem: every quantity has a semantic type and a QuantitativeTypes unit', () => {
    const expected: Array<[string, string, string, string, boolean | undefined]> = [
      ['dtmi:twinflow:cnc:Spindle;1', 'speed', 'AngularVelocity', 'revolutionPerMinute', undefined],
      ['dtmi:twinflow:cnc:Spindle;1', 'motorCurrent', 'Current', 'ampere', undefined],
      ['dtmi:twinflow:cnc:Spindle;1', 'vibrationRms', 'Velocity', 'centimetrePerSecond', undefined],
      ['dtmi:twinflow:cnc:Spindle;1', 'bearingTemperature', 'Temperature', 'degreeCelsius', undefined],
      ['dtmi:twinflow:cnc:Spindle;1', 'speedSetpoint', 'AngularVelocity', 'revolutionPerMinute', true],
      ['dtmi:twinflow:cnc:Spindle;1', 'maxSpeed', 'AngularVelocity', 'revolutionPerMinute', false],
      ['dtmi:twinflow:cnc:CoolantSystem;1', 'temperature', 'Temperature', 'degreeCelsius', undefined],
      ['dtmi:twinflow:cnc:CoolantSystem;1', 'flow', 'VolumeFlowRate', 'litrePerMinute', undefined],
    ];
    for (const [dtmi, name, semanticType, unit, writable] of expected) {
      const c = content(dtmi, name) as TelemetryInfo | PropertyInfo;
      assert.ok(c, `${dtmi} has ${name}`);
      assert.equal(c.kind, writable === undefined ? 'Telemetry' : 'Property', name);
      assert.deepEqual(c.schema, { kind: 'Primitive', type: 'double' }, name);
      assert.deepEqual(c.semanticTypes, [semanticType], name);
      assert.equal(c.unit, unit, name);
      if (c.kind === 'Property') assert.equal(c.writable, writable, name);
    }
  });

  test('the plant: a hall contains lines, a line contains CNC machines at a station position', () => {
    const hall = content('dtmi:twinflow:plant:ProductionHall;1', 'contains') as RelationshipInfo;
    assert.equal(hall.target, 'dtmi:twinflow:plant:ProductionLine;1');
    const line = content('dtmi:twinflow:plant:ProductionLine;1', 'contains') as RelationshipInfo;
    assert.equal(line.target, CNC);
    assert.deepEqual(line.properties.get('position')?.schema, { kind: 'Primitive', type: 'integer' });
  });

  test('simulator values validate against the model', () => {
    const check = (name: string, value: unknown): boolean => validateInstance(model, { interface: CNC, name }, value).ok;
    assert.equal(check('spindle/speed', 12000), true);
    assert.equal(check('coolant/flow', 12.5), true);
    assert.equal(check('machineState', 'emergencyStop'), true);
    assert.equal(check('machineState', 'stopped'), false);
    assert.equal(check('startCycle/request', 'O1001'), true);
    assert.equal(check('emergencyStop/response', true), true);
    assert.equal(check('resetAlarm/request', undefined), true);
    assert.equal(validateInstance(model, { interface: 'dtmi:twinflow:plant:ProductionLine;1', name: 'contains/position' }, 3).ok, true);
  });
});
