// A small DTDL model with every field type the history writes (integer, long, double, float,
// boolean, string, enums, an object) and a Component, for typed round trips through InfluxDB.
export const PRESS = 'dtmi:twinflow:test:Press;1';
export const HYDRAULICS = 'dtmi:twinflow:test:Hydraulics;1';

export const PRESS_DOCUMENTS = [
  {
    '@context': 'dtmi:dtdl:context;3',
    '@id': HYDRAULICS,
    '@type': 'Interface',
    contents: [
      { '@type': 'Telemetry', name: 'oilTemperature', schema: 'double' },
      { '@type': 'Telemetry', name: 'strokes', schema: 'integer' },
    ],
  },
  {
    '@context': 'dtmi:dtdl:context;3',
    '@id': PRESS,
    '@type': 'Interface',
    contents: [
      { '@type': 'Telemetry', name: 'cycles', schema: 'integer' },
      { '@type': 'Telemetry', name: 'counter', schema: 'long' },
      { '@type': 'Telemetry', name: 'pressure', schema: 'double' },
      { '@type': 'Telemetry', name: 'load', schema: 'float' },
      { '@type': 'Telemetry', name: 'running', schema: 'boolean' },
      { '@type': 'Telemetry', name: 'label', schema: 'string' },
      { '@type': 'Telemetry', name: 'mode', schema: { '@type': 'Enum', valueSchema: 'string', enumValues: [{ name: 'auto', enumValue: 'auto' }, { name: 'manual', enumValue: 'manual' }] } },
      { '@type': 'Telemetry', name: 'level', schema: { '@type': 'Enum', valueSchema: 'integer', enumValues: [{ name: 'low', enumValue: 1 }, { name: 'high', enumValue: 2 }] } },
      { '@type': 'Telemetry', name: 'position', schema: { '@type': 'Object', fields: [{ name: 'x', schema: 'double' }, { name: 'y', schema: 'double' }] } },
      { '@type': 'Property', name: 'batchNumber', schema: 'integer', writable: true },
      { '@type': 'Property', name: 'recipe', schema: 'string', writable: true },
      { '@type': 'Command', name: 'stop' },
      { '@type': 'Component', name: 'hydraulics', schema: HYDRAULICS },
    ],
  },
];

/** The documents as the dtdl-model node's pasted ("inline") source. */
export const PRESS_TEXT = JSON.stringify(PRESS_DOCUMENTS, null, 2);
