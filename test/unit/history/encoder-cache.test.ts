// What the line encoder caches (per model: field types, escaped keys and series heads; per twin:
// series keys; the last timestamp) must never show: every twin, model, quality and time gets its
// own series and type, odd names are escaped as without the caches, errors are not remembered as
// results, and the float text is exactly String()'s.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModels, type ModelSet } from '../../../nodes/lib/dtdl';
import { escapeMeasurement, escapeTagValue, formatFloat, HistorySchema, LineEncoder } from '../../../nodes/lib/history';
import { PRESS, PRESS_DOCUMENTS } from '../../support/press-model';

const MACHINE_1 = 'dtmi:twinflow:test:Machine;1';
const MACHINE_2 = 'dtmi:twinflow:test:Machine;2';
const WIDE = 'dtmi:twinflow:test:Wide;1';

/** Machine;1 has speed as double, Machine;2 (the next version) as integer; Wide has 30 doubles. */
function machine(id: string, speedSchema: string): Record<string, unknown> {
  return {
    '@context': 'dtmi:dtdl:context;3',
    '@id': id,
    '@type': 'Interface',
    contents: [
      { '@type': 'Telemetry', name: 'speed', schema: speedSchema },
      { '@type': 'Telemetry', name: 'running', schema: 'boolean' },
    ],
  };
}

const WIDE_DOCUMENT = {
  '@context': 'dtmi:dtdl:context;3',
  '@id': WIDE,
  '@type': 'Interface',
  contents: Array.from({ length: 30 }, (_, i) => ({ '@type': 'Telemetry', name: `f${i}`, schema: 'double' })),
};

function modelSet(documents: unknown[]): ModelSet {
  const result = parseModels(documents);
  assert.ok(result.valid && result.model, JSON.stringify(result.errors));
  return result.model;
}

const MODELS = modelSet([machine(MACHINE_1, 'double'), machine(MACHINE_2, 'integer'), WIDE_DOCUMENT, ...PRESS_DOCUMENTS]);

function encoder(models = MODELS, options: { measurement?: string; precision?: 's' | 'ms' | 'u' | 'ns' } = {}): LineEncoder {
  return new LineEncoder(new HistorySchema(models, options.measurement ? { measurement: options.measurement } : {}), { precision: options.precision ?? 'ms', eventsMeasurement: 'twin_events', now: () => 42 });
}

function lines(e: LineEncoder, msg: Record<string, unknown>): string[] {
  const encoded = e.encodeMessage(msg);
  assert.ok(encoded);
  return encoded.text.split('\n');
}

const samples = (twin: { id: string; model: string }, payload: Record<string, unknown>[]) => ({ topic: 'samples', twin, payload });

describe('line encoder caches', () => {
  it('gives every twin its own series, also for a twin seen before and after others', () => {
    const e = encoder();
    for (let round = 0; round < 3; round++) {
      for (const id of ['m-1', 'm-2', 'm 3']) {
        assert.deepEqual(lines(e, samples({ id, model: MACHINE_1 }, [{ topic: 'speed', payload: 1.5, sourceTime: 1000 }])), [
          `Machine,model=${MACHINE_1},twin=${escapeTagValue(id, 'twin.id')} speed=1.5 1000`,
        ]);
      }
    }
  });

  it('keeps the quality tag per sample: uncertain and bad lines apart, good ones without it', () => {
    const e = encoder();
    const twin = { id: 'm-1', model: MACHINE_1 };
    assert.deepEqual(lines(e, samples(twin, [
      { topic: 'speed', payload: 1, sourceTime: 1000, quality: 'uncertain' },
      { topic: 'speed', payload: 2, sourceTime: 1000, quality: 'bad' },
      { topic: 'speed', payload: 3, sourceTime: 1000, quality: 'good' },
      { topic: 'running', payload: true, sourceTime: 1000 },
      { topic: 'running', payload: false, sourceTime: 1000, quality: 'uncertain' },
    ])), [
      `Machine,model=${MACHINE_1},quality=uncertain,twin=m-1 speed=1,running=false 1000`,
      `Machine,model=${MACHINE_1},quality=bad,twin=m-1 speed=2 1000`,
      `Machine,model=${MACHINE_1},twin=m-1 speed=3,running=true 1000`,
    ]);
    // The same twin again, good only: the cached uncertain series must not come back.
    assert.deepEqual(lines(e, samples(twin, [{ topic: 'speed', payload: 4, sourceTime: 2000 }])), [`Machine,model=${MACHINE_1},twin=m-1 speed=4 2000`]);
  });

  it('types a path by the model of each message: versions of one Interface do not share field types', () => {
    const e = encoder();
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(lines(e, samples({ id: 'm-1', model: MACHINE_1 }, [{ topic: 'speed', payload: 3, sourceTime: 1000 }])), [`Machine,model=${MACHINE_1},twin=m-1 speed=3 1000`], 'double: no i');
      assert.deepEqual(lines(e, samples({ id: 'm-1', model: MACHINE_2 }, [{ topic: 'speed', payload: 3, sourceTime: 1000 }])), [`Machine,model=${MACHINE_2},twin=m-1 speed=3i 1000`], 'integer: i');
      assert.throws(() => e.encodeMessage(samples({ id: 'm-1', model: MACHINE_2 }, [{ topic: 'speed', payload: 3.5, sourceTime: 1000 }])), /payload\[0\]\.speed: 3\.5 is not an integer/);
      assert.deepEqual(lines(e, samples({ id: 'm-1', model: MACHINE_1 }, [{ topic: 'speed', payload: 3.5, sourceTime: 1000 }])), [`Machine,model=${MACHINE_1},twin=m-1 speed=3.5 1000`]);
    }
  });

  it('follows a changed model: the encoder made for the new model set types by it, the old one by the old', () => {
    // twin-history makes a new encoder whenever its dtdl-model node's model set changes; a model
    // set never changes under an encoder. Machine;1 redefined (as after editing and redeploying
    // the dtdl-model node): speed is now an integer.
    const before = encoder();
    const twin = { id: 'm-1', model: MACHINE_1 };
    assert.deepEqual(lines(before, samples(twin, [{ topic: 'speed', payload: 7, sourceTime: 1000 }])), [`Machine,model=${MACHINE_1},twin=m-1 speed=7 1000`]);
    const after = encoder(modelSet([machine(MACHINE_1, 'integer')]));
    assert.deepEqual(lines(after, samples(twin, [{ topic: 'speed', payload: 7, sourceTime: 1000 }])), [`Machine,model=${MACHINE_1},twin=m-1 speed=7i 1000`]);
    assert.throws(() => after.encodeMessage(samples({ id: 'p-1', model: PRESS }, [{ topic: 'cycles', payload: 1 }])), /not among the loaded models/, 'models gone from the new set are gone');
    assert.deepEqual(lines(before, samples(twin, [{ topic: 'speed', payload: 7, sourceTime: 1000 }])), [`Machine,model=${MACHINE_1},twin=m-1 speed=7 1000`]);
  });

  it('escapes odd twin ids and measurement names as without the caches, and never mixes them up', () => {
    const odd = ['cnc 1', 'a,b=c', 'a\\b', 'ünï code', 'x,quality=bad', 'x', 'twin=x', '=', ' '];
    for (const measurement of [undefined, 'my plant,line 2', 'plain']) {
      const e = encoder(MODELS, measurement ? { measurement } : {});
      const name = measurement ? escapeMeasurement(measurement) : 'Machine';
      for (let round = 0; round < 2; round++) {
        for (const id of odd) {
          assert.deepEqual(lines(e, samples({ id, model: MACHINE_1 }, [{ topic: 'speed', payload: 0.25, sourceTime: 1000, quality: round === 0 ? 'good' : 'uncertain' }])), [
            `${name},model=${MACHINE_1},${round === 0 ? '' : 'quality=uncertain,'}twin=${escapeTagValue(id, 'twin.id')} speed=0.25 1000`,
          ]);
        }
      }
      assert.equal(lines(e, samples({ id: 'a,b=c', model: MACHINE_1 }, [{ topic: 'speed', payload: 1, sourceTime: 1 }]))[0], `${name},model=${MACHINE_1},twin=a\\,b\\=c speed=1 1`);
    }
    // Components: their own measurement and tag, per twin.
    const e = encoder();
    assert.deepEqual(lines(e, samples({ id: 'p 1', model: PRESS }, [{ topic: 'hydraulics/strokes', payload: 5, sourceTime: 1000 }, { topic: 'cycles', payload: 2, sourceTime: 1000 }])), [
      `Hydraulics,component=hydraulics,model=${PRESS},twin=p\\ 1 strokes=5i 1000`,
      `Press,model=${PRESS},twin=p\\ 1 cycles=2i 1000`,
    ]);
  });

  it('does not remember refusals: a bad twin id is refused every time, and good ones still pass', () => {
    const e = encoder();
    for (let round = 0; round < 3; round++) {
      assert.throws(() => e.encodeMessage(samples({ id: 'bad\\', model: MACHINE_1 }, [{ topic: 'speed', payload: 1 }])), /twin\.id "bad\\\\": a tag value cannot end with a backslash/);
      assert.throws(() => e.encodeMessage(samples({ id: 'm-1', model: MACHINE_1 }, [{ topic: 'nothing', payload: 1 }])), /payload\[0\]: topic: .* has no "nothing"/);
      assert.equal(lines(e, samples({ id: 'm-1', model: MACHINE_1 }, [{ topic: 'speed', payload: 1, sourceTime: 5 }]))[0], `Machine,model=${MACHINE_1},twin=m-1 speed=1 5`);
    }
  });

  it('reports a measurement that cannot be written where it always did: after the value, every time', () => {
    const e = encoder(MODELS, { measurement: 'two\nlines' });
    for (let round = 0; round < 2; round++) {
      assert.throws(() => e.encodeMessage(samples({ id: 'm-1', model: MACHINE_1 }, [{ topic: 'speed', payload: 'fast' }])), /payload\[0\]\.speed: "fast" is not a number/, 'the value is checked first');
      assert.throws(() => e.encodeMessage(samples({ id: 'm-1', model: MACHINE_1 }, [{ topic: 'speed', payload: 1 }])), /measurement "two\\nlines": must not contain line breaks/);
    }
  });

  it('keeps samples of different times on their own lines in any order, in every precision', () => {
    const times = [1000.5, 2000.25, 1000.5, 3000, 2000.25];
    const expected = {
      s: ['1', '2', '3'],
      ms: ['1000', '2000', '3000'],
      u: ['1000500', '2000250', '3000000'],
      ns: ['1000500000', '2000250000', '3000000000'],
    } as const;
    for (const precision of ['s', 'ms', 'u', 'ns'] as const) {
      const e = encoder(MODELS, { precision });
      const [t1, t2, t3] = expected[precision];
      assert.deepEqual(lines(e, samples({ id: 'm-1', model: MACHINE_1 }, times.map((sourceTime, i) => ({ topic: i % 2 === 0 ? 'speed' : 'running', payload: i % 2 === 0 ? i : true, sourceTime })))), [
        `Machine,model=${MACHINE_1},twin=m-1 speed=2 ${t1}`,
        `Machine,model=${MACHINE_1},twin=m-1 running=true,speed=4 ${t2}`,
        `Machine,model=${MACHINE_1},twin=m-1 running=true ${t3}`,
      ], precision);
      // A message without times gets `now`, not the last time encoded.
      assert.equal(lines(e, { topic: 'speed', payload: 1, twin: { id: 'm-1', model: MACHINE_1 } })[0], `Machine,model=${MACHINE_1},twin=m-1 speed=1 ${precision === 's' ? 0 : precision === 'ms' ? 42 : precision === 'u' ? 42000 : 42000000}`);
    }
  });

  it('shares one line between many points and fields as the field order says: first place, last value', () => {
    const e = encoder();
    const twin = { id: 'w', model: WIDE };
    // 30 fields on one line (beyond the scan limit), f3 set twice; then 20 lines (beyond the point scan limit), one revisited.
    const wide = lines(e, samples(twin, [...Array.from({ length: 30 }, (_, i) => ({ topic: `f${i}`, payload: i, sourceTime: 1 })), { topic: 'f3', payload: 33, sourceTime: 1 }]));
    assert.deepEqual(wide, [`Wide,model=${WIDE},twin=w ${Array.from({ length: 30 }, (_, i) => `f${i}=${i === 3 ? 33 : i}`).join(',')} 1`]);
    const many = lines(e, samples(twin, [...Array.from({ length: 20 }, (_, i) => ({ topic: 'f0', payload: i, sourceTime: 100 + i })), { topic: 'f1', payload: -1, sourceTime: 100 }, { topic: 'f0', payload: -2, sourceTime: 119 }]));
    assert.equal(many.length, 20);
    assert.equal(many[0], `Wide,model=${WIDE},twin=w f0=0,f1=-1 100`);
    assert.equal(many[19], `Wide,model=${WIDE},twin=w f0=-2 119`);
    assert.equal(many[7], `Wide,model=${WIDE},twin=w f0=7 107`);
    // And the next small message is not affected by the large one before it.
    assert.deepEqual(lines(e, samples(twin, [{ topic: 'f0', payload: 1, sourceTime: 100 }])), [`Wide,model=${WIDE},twin=w f0=1 100`]);
  });

  it('starts its series keys over past 100,000 and still gives each twin its own', () => {
    const e = encoder();
    const line = (id: string) => lines(e, samples({ id, model: MACHINE_1 }, [{ topic: 'running', payload: true, sourceTime: 1 }]))[0];
    for (let i = 0; i < 100_050; i++) line(`t-${i}`);
    assert.equal(line('t-0'), `Machine,model=${MACHINE_1},twin=t-0 running=true 1`);
    assert.equal(line('t-100049'), `Machine,model=${MACHINE_1},twin=t-100049 running=true 1`);
    assert.equal(line('t 5'), `Machine,model=${MACHINE_1},twin=t\\ 5 running=true 1`);
  });

  it('writes floats exactly as String() does', () => {
    const values = [0, -0, 1, -1, 0.1, 0.2 + 0.1, 1e-6, 1e-7, 123.456, -123.456, 0.001, 0.000123, 1e15, 2 ** 50, 2 ** 50 + 0.5, 2 ** 53, 1e21, 1.7976931348623157e308, 5e-324, 12345.678901, 99.999, 9.995, 0.5e-3];
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (let i = 0; i < 200_000; i++) {
      const decimals = Math.floor(random() * 9);
      const magnitude = 10 ** Math.floor(random() * 18 - 6);
      values.push(Math.round((random() - 0.5) * magnitude * 10 ** decimals) / 10 ** decimals, (random() - 0.5) * magnitude);
    }
    for (const value of values) assert.equal(formatFloat(value), value === 0 ? '0' : String(value), `${value}`);
  });
});
