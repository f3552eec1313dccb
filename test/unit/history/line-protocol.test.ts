// Typed line protocol, the DTDL-to-InfluxDB mapping and the message encoder.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseModels, type ModelSet } from '../../../nodes/lib/dtdl';
import { encodeFieldValue, encodeTimestamp, escapeMeasurement, escapeTagValue, HistorySchema, LineEncoder, measurementName, quoteIdentifier } from '../../../nodes/lib/history';
import { TwinGraph } from '../../../nodes/lib/twin';
import { PRESS, PRESS_DOCUMENTS } from '../../support/press-model';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CNC = 'dtmi:twinflow:cnc:CNCMachine;1';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function models(): ModelSet {
  const docs = [...jsonFiles(path.join(ROOT, 'models')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown), ...PRESS_DOCUMENTS];
  const result = parseModels(docs);
  assert.ok(result.valid && result.model, JSON.stringify(result.errors));
  return result.model;
}

describe('line protocol', () => {
  it('keeps integers integer and floats float, and refuses what does not fit', () => {
    assert.equal(encodeFieldValue(3, 'integer', 'f'), '3i');
    assert.equal(encodeFieldValue(-9_223_372_036_854_775_808n, 'integer', 'f'), '-9223372036854775808i');
    assert.equal(encodeFieldValue('123', 'integer', 'f'), '123i');
    assert.equal(encodeFieldValue(1e18, 'integer', 'f'), '1000000000000000000i', 'no exponent notation');
    assert.throws(() => encodeFieldValue(2 ** 64, 'integer', 'f'), /outside InfluxDB's 64-bit integers/);
    assert.throws(() => encodeFieldValue(2.5, 'integer', 'cycles'), /cycles: 2\.5 is not an integer/);
    assert.throws(() => encodeFieldValue('3', 'float', 'p'), /p: "3" is not a number/);
    assert.equal(encodeFieldValue(3000, 'float', 'f'), '3000', 'a whole-number double stays a float (no i)');
    assert.equal(encodeFieldValue(-0, 'float', 'f'), '0');
    assert.equal(encodeFieldValue(1e21, 'float', 'f'), '1e+21');
    assert.throws(() => encodeFieldValue(Number.NaN, 'float', 'f'), /finite/);
    assert.equal(encodeFieldValue(true, 'boolean', 'f'), 'true');
    assert.throws(() => encodeFieldValue(1, 'boolean', 'door'), /door: 1 is not a boolean/);
    assert.equal(encodeFieldValue('say "hi" \\o/', 'string', 'f'), '"say \\"hi\\" \\\\o/"');
    assert.equal(encodeFieldValue({ x: 1 }, 'string', 'f'), '"{\\"x\\":1}"');
  });

  it('escapes names and refuses tag values line protocol cannot carry', () => {
    assert.equal(escapeMeasurement('a b,c'), 'a\\ b\\,c');
    assert.equal(escapeTagValue('cnc 1,a=b', 'twin.id'), 'cnc\\ 1\\,a\\=b');
    assert.equal(escapeTagValue('a\\b', 'twin.id'), 'a\\b');
    assert.throws(() => escapeTagValue('a\\', 'twin.id'), /twin\.id "a\\\\": a tag value cannot end with a backslash/);
    assert.throws(() => escapeTagValue('a\\ b', 'twin.id'), /backslash/);
    assert.throws(() => escapeTagValue('', 'twin.id'), /empty/);
    assert.throws(() => escapeTagValue('a\nb', 'twin.id'), /line breaks/);
    assert.equal(quoteIdentifier('a"b\\c'), '"a\\"b\\\\c"');
  });

  it('writes timestamps in the precision of the request', () => {
    const t = Date.parse('2026-11-25T10:00:00.123Z');
    assert.equal(encodeTimestamp(t, 'ms'), String(t));
    assert.equal(encodeTimestamp(t, 's'), String(Math.floor(t / 1000)));
    assert.equal(encodeTimestamp(t + 0.5, 'u'), String(t * 1000 + 500));
    assert.equal(encodeTimestamp(t + 0.25, 'ns'), `${BigInt(t) * 1_000_000n + 250_000n}`);
    assert.throws(() => encodeTimestamp(Number.NaN, 'ms'), /sourceTime/);
  });
});

describe('DTDL to InfluxDB mapping', () => {
  const schema = new HistorySchema(models());

  it('names measurements after Interfaces, components as tags, fields typed from the schema', () => {
    assert.equal(measurementName('dtmi:twinflow:cnc:Spindle;1'), 'Spindle');
    assert.deepEqual(schema.target(CNC, 'spindle/speed'), { path: 'spindle/speed', measurement: 'Spindle', component: 'spindle', field: 'speed', type: 'float', kind: 'Telemetry' });
    assert.deepEqual(schema.target(CNC, 'doorOpen'), { path: 'doorOpen', measurement: 'CNCMachine', field: 'doorOpen', type: 'boolean', kind: 'Property' });
    assert.equal(schema.target(CNC, 'machineState').type, 'string');
    assert.equal(schema.target(PRESS, 'cycles').type, 'integer');
    assert.equal(schema.target(PRESS, 'counter').type, 'integer');
    assert.equal(schema.target(PRESS, 'level').type, 'integer', 'an integer enum');
    assert.equal(schema.target(PRESS, 'mode').type, 'string');
    assert.equal(schema.target(PRESS, 'position').type, 'string', 'objects as JSON text');
    assert.throws(() => schema.target(CNC, 'startCycle'), /startCycle is a Command/);
    assert.throws(() => schema.target(CNC, 'spindle/nothing'), /has no "spindle\/nothing"/);
    assert.throws(() => schema.target('dtmi:x:Y;1', 'a'), /not among the loaded models/);
  });

  it('puts everything into one measurement when configured', () => {
    const fixed = new HistorySchema(models(), { measurement: 'plant' });
    assert.equal(fixed.target(CNC, 'spindle/speed').measurement, 'plant');
    assert.equal(fixed.target(CNC, 'spindle/speed').component, 'spindle');
  });
});

describe('message encoder', () => {
  const encoder = new LineEncoder(new HistorySchema(models()), { precision: 'ms', eventsMeasurement: 'twin_events', now: () => 42 });
  const twin = { id: 'cnc 1', model: CNC };

  it('shares one line between samples of one twin, component and time', () => {
    const encoded = encoder.encodeMessage({ topic: 'samples', twin, payload: [
      { topic: 'spindle/speed', payload: 100, sourceTime: 1000 },
      { topic: 'spindle/motorCurrent', payload: 5.5, sourceTime: 1000 },
      { topic: 'positionX', payload: 1, sourceTime: 1000 },
      { topic: 'spindle/speed', payload: 110, sourceTime: 2000, quality: 'uncertain' },
    ] });
    assert.ok(encoded);
    assert.deepEqual(encoded.text.split('\n'), [
      'Spindle,component=spindle,model=dtmi:twinflow:cnc:CNCMachine;1,twin=cnc\\ 1 speed=100,motorCurrent=5.5 1000',
      'CNCMachine,model=dtmi:twinflow:cnc:CNCMachine;1,twin=cnc\\ 1 positionX=1 1000',
      'Spindle,component=spindle,model=dtmi:twinflow:cnc:CNCMachine;1,quality=uncertain,twin=cnc\\ 1 speed=110 2000',
    ]);
    assert.equal(encoded.points, 3);
    assert.equal(encoded.values, 4);
  });

  it('refuses a whole message when one sample does not fit, and ignores answers to reads', () => {
    assert.throws(() => encoder.encodeMessage({ topic: 'samples', twin, payload: [{ topic: 'spindle/speed', payload: 1 }, { topic: 'doorOpen', payload: 'yes' }] }), /payload\[1\]\.doorOpen: "yes" is not a boolean/);
    assert.throws(() => encoder.encodeMessage({ topic: 'samples', twin, payload: [{ topic: 'positionX', payload: 1, quality: 'great' }] }), /quality/);
    assert.equal(encoder.encodeMessage({ action: 'get', topic: 'cnc-1', payload: {}, twin }), undefined);
    assert.equal(encoder.encodeMessage({ query: 'SELECT *', payload: [], twin }), undefined);
    assert.equal(encoder.encodeMessage({ topic: 'positionX', payload: 2, twin })?.text, 'CNCMachine,model=dtmi:twinflow:cnc:CNCMachine;1,twin=cnc\\ 1 positionX=2 42', 'without sourceTime: now');
  });

  it('turns graph change events into samples and event points (the mirror)', () => {
    let time = 5000;
    const graph = new TwinGraph(models(), { clock: () => time++ });
    const events = [
      graph.createTwin({ id: 'cnc-1', model: CNC, properties: { spindle: { maxSpeed: 12000 } } }),
      graph.recordTelemetry('cnc-1', 'spindle/speed', 2000, { sourceTime: 4000, quality: 'good' }),
      graph.reportProperty('cnc-1', 'machineState', 'idle'),
      graph.setDesired('cnc-1', 'spindle/speedSetpoint', 3000, { actor: 'op' }),
      graph.setDesired('cnc-1', 'spindle/speedSetpoint', 3100, { actor: 'op' }),
    ];
    const encoded = encoder.encodeEvents(events, (id) => graph.getModel(id));
    const lines = encoded.text.split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0] as string, /^twin_events,kind=create,model=dtmi:twinflow:cnc:CNCMachine;1,twin=cnc-1 version=1i,detail="{\\"stage\\":\\"operation\\"}" 5000$/);
    assert.equal(lines[1], 'Spindle,component=spindle,model=dtmi:twinflow:cnc:CNCMachine;1,twin=cnc-1 speed=2000 4000');
    assert.equal(lines[2], 'CNCMachine,model=dtmi:twinflow:cnc:CNCMachine;1,twin=cnc-1 machineState="idle" 5002');
    assert.match(lines[3] as string, /kind=desired,.*name=spindle\/speedSetpoint.* version=4i,actor="op",detail="{\\"value\\":3000,\\"version\\":1}" 5003$/);
    assert.match(lines[4] as string, /detail="{\\"value\\":3100,\\"version\\":2}" 5004$/);
  });
});
