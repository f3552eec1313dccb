// The ModelSet: flattened contents, schemas, navigation helpers and immutability.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ComplexSchema, ObjectSchema, PropertyInfo, RelationshipInfo, TelemetryInfo } from '../../../nodes/lib/dtdl';
import { assertValid, iface, property, QT3, telemetry, V3, V4 } from './helpers';

const room = iface(QT3, [{ '@type': ['Property', 'Temperature'], name: 'temp', schema: 'double', unit: 'degreeCelsius', displayName: { en: 'Temperature', de: 'Temperatur' } }], {}, 'dtmi:ex:Room;1');
const office = iface(
  V3,
  [
    property('capacity', 'integer', { writable: true }),
    { '@type': 'Relationship', name: 'neighbour', target: 'dtmi:ex:Room;1', maxMultiplicity: 4, properties: [property('distance', 'double')] },
    { '@type': 'Component', name: 'sensor', schema: 'dtmi:ex:Sensor;1' },
    { '@type': 'Command', name: 'book', request: { name: 'slot', schema: 'dateTime' }, response: { name: 'ok', schema: 'boolean' } },
  ],
  { extends: 'dtmi:ex:Room;1', schemas: [{ '@id': 'dtmi:ex:Office:Desk;1', '@type': 'Object', fields: [{ name: 'seats', schema: 'integer' }] }] },
  'dtmi:ex:Office;1',
);
const corner = iface(V3, [telemetry('view', 'dtmi:ex:Corner:View;1')], { extends: 'dtmi:ex:Office;1', schemas: [{ '@id': 'dtmi:ex:Corner:View;1', '@type': 'Enum', valueSchema: 'string', enumValues: [{ name: 'sea', enumValue: 'sea' }] }] }, 'dtmi:ex:Corner;1');
const sensor = iface(V3, [telemetry('lux')], {}, 'dtmi:ex:Sensor;1');

describe('ModelSet', () => {
  const { model } = assertValid([room, office, corner, sensor]);
  assert.ok(model);

  test('interfaces by DTMI, with own and inherited contents by name (own first)', () => {
    const corner = model.interfaces.get('dtmi:ex:Corner;1');
    assert.deepEqual([...(corner?.contents.keys() ?? [])], ['view', 'capacity', 'neighbour', 'sensor', 'book', 'temp']);
    assert.equal(corner?.contents.get('temp')?.definedIn, 'dtmi:ex:Room;1');
    assert.deepEqual(corner?.extends, ['dtmi:ex:Office;1']);
    assert.deepEqual(corner?.ancestors, ['dtmi:ex:Office;1', 'dtmi:ex:Room;1']);
    assert.deepEqual(corner?.properties.map((p) => p.name), ['capacity', 'temp']);
    assert.equal(corner?.dtdlVersion, 3);
  });

  test('inherited contents are the same objects in every Interface that has them', () => {
    assert.equal(model.interfaces.get('dtmi:ex:Corner;1')?.contents.get('temp'), model.interfaces.get('dtmi:ex:Room;1')?.contents.get('temp'));
  });

  test('a Property has its schema, writability, semantic type, unit and display texts', () => {
    const temp = model.interfaces.get('dtmi:ex:Room;1')?.contents.get('temp') as PropertyInfo;
    assert.equal(temp.kind, 'Property');
    assert.deepEqual(temp.schema, { kind: 'Primitive', type: 'double' });
    assert.equal(temp.writable, false);
    assert.deepEqual(temp.semanticTypes, ['Temperature']);
    assert.equal(temp.unit, 'degreeCelsius');
    assert.deepEqual(temp.displayName, { en: 'Temperature', de: 'Temperatur' });
    assert.deepEqual(temp.source, { document: 0, path: '/contents/0' });
    assert.equal((model.interfaces.get('dtmi:ex:Office;1')?.contents.get('capacity') as PropertyInfo).writable, true);
  });

  test('a Relationship has its target, multiplicity and properties', () => {
    const neighbour = model.interfaces.get('dtmi:ex:Office;1')?.contents.get('neighbour') as RelationshipInfo;
    assert.equal(neighbour.target, 'dtmi:ex:Room;1');
    assert.equal(neighbour.minMultiplicity, 0);
    assert.equal(neighbour.maxMultiplicity, 4);
    assert.equal(neighbour.properties.get('distance')?.schema.kind, 'Primitive');
  });

  test('a Component names its Interface; resolve walks into it and into payloads and relationship properties', () => {
    const sensorComponent = model.interfaces.get('dtmi:ex:Office;1')?.contents.get('sensor');
    assert.equal(sensorComponent?.kind === 'Component' ? sensorComponent.schema : undefined, 'dtmi:ex:Sensor;1');
    assert.equal(model.resolve('dtmi:ex:Corner;1', 'sensor/lux')?.kind, 'Telemetry');
    assert.equal(model.resolve('dtmi:ex:Corner;1', 'book/request')?.name, 'slot');
    assert.equal(model.resolve('dtmi:ex:Corner;1', 'book/response')?.kind, 'CommandResponse');
    assert.equal(model.resolve('dtmi:ex:Corner;1', 'neighbour/distance')?.kind, 'Property');
    assert.equal(model.resolve('dtmi:ex:Corner;1', 'sensor/nothing'), undefined);
    assert.equal(model.resolve('dtmi:ex:Corner;1', 'capacity/x'), undefined);
    assert.equal(model.resolve('dtmi:ex:Nowhere;1', 'capacity'), undefined);
  });

  test('named schemas by DTMI, and every element with an @id', () => {
    assert.equal(model.schemas.get('dtmi:ex:Office:Desk;1')?.kind, 'Object');
    assert.equal(((model.schemas.get('dtmi:ex:Office:Desk;1') as ObjectSchema).fields[0])?.name, 'seats');
    assert.equal(model.elements.get('dtmi:ex:Corner:View;1'), model.schemas.get('dtmi:ex:Corner:View;1'));
    assert.equal(model.elements.get('dtmi:ex:Room;1'), model.interfaces.get('dtmi:ex:Room;1'));
    assert.deepEqual(model.interfaces.get('dtmi:ex:Corner;1')?.schemas.map((s: ComplexSchema) => s.id), ['dtmi:ex:Corner:View;1']);
  });

  test('isOfModel is true for the model itself and every model that extends it', () => {
    assert.equal(model.isOfModel('dtmi:ex:Corner;1', 'dtmi:ex:Room;1'), true);
    assert.equal(model.isOfModel('dtmi:ex:Office;1', 'dtmi:ex:Office;1'), true);
    assert.equal(model.isOfModel('dtmi:ex:Room;1', 'dtmi:ex:Office;1'), false);
    assert.equal(model.isOfModel('dtmi:ex:Sensor;1', 'dtmi:ex:Room;1'), false);
    assert.equal(model.isOfModel('dtmi:ex:Nowhere;1', 'dtmi:ex:Nowhere;1'), false);
  });

  test('interfacesExtending lists the transitive descendants', () => {
    assert.deepEqual(model.interfacesExtending('dtmi:ex:Room;1').map((i) => i.id).sort(), ['dtmi:ex:Corner;1', 'dtmi:ex:Office;1']);
    assert.deepEqual(model.interfacesExtending('dtmi:ex:Corner;1'), []);
  });

  test('the ModelSet is immutable', () => {
    const office = model.interfaces.get('dtmi:ex:Office;1');
    assert.ok(office);
    assert.ok(Object.isFrozen(model));
    assert.ok(Object.isFrozen(office));
    assert.ok(Object.isFrozen(office.properties));
    assert.throws(() => (model.interfaces as Map<string, unknown>).set('x', {}), TypeError);
    assert.throws(() => (office.contents as Map<string, unknown>).delete('capacity'), TypeError);
    assert.throws(() => {
      (office as { id: string }).id = 'changed';
    }, TypeError);
    const temp = model.interfaces.get('dtmi:ex:Room;1')?.contents.get('temp') as TelemetryInfo;
    assert.throws(() => {
      (temp.displayName as Record<string, string>)['fr'] = 'Température';
    }, TypeError);
  });

  test('a DTDL v4 self-referencing schema is a cyclic, frozen graph', () => {
    const { model: v4 } = assertValid([
      iface(V4, [telemetry('list', 'dtmi:ex:Node;1')], {
        schemas: [{ '@id': 'dtmi:ex:Node;1', '@type': 'Object', fields: [{ name: 'value', schema: 'double' }, { name: 'next', schema: 'dtmi:ex:Node;1' }] }],
      }),
    ]);
    const node = v4?.schemas.get('dtmi:ex:Node;1') as ObjectSchema;
    assert.equal(node.fields[1]?.schema, node);
    assert.ok(Object.isFrozen(node.fields[1]));
  });

  test('co-types, their members and informal co-types are kept', () => {
    const { model: m } = assertValid(
      [
        iface([V3, 'dtmi:dtdl:extension:historization;2', 'dtmi:dtdl:extension:annotation;2', 'dtmi:example:ext;1'], [
          { '@type': ['Telemetry', 'Historized'], name: 'temp', schema: 'double' },
          { '@type': ['Property', 'ValueAnnotation'], name: 'calibrated', schema: 'date', annotates: 'temp' },
          { '@type': ['Property', 'Flavor'], name: 'taste', schema: 'string', intensity: 3 },
        ]),
      ],
      { allowUndefinedExtensions: true },
    );
    const contents = m?.interfaces.get('dtmi:ex:A;1')?.contents;
    assert.deepEqual(contents?.get('temp')?.supplementalTypes, ['Historized']);
    assert.deepEqual(contents?.get('calibrated')?.supplementalProperties, { annotates: 'temp' });
    assert.deepEqual(contents?.get('taste')?.undefinedTypes, ['Flavor']);
    assert.deepEqual(contents?.get('taste')?.undefinedProperties, { intensity: 3 });
  });
});
