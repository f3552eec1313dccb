// The query language subset: each construct, MATCH with hop limits and cycles, and refusals with positions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseQuery, TwinError, TwinGraph } from '../../../nodes/lib/twin';
import { BASE, CNC, CNC2, HALL, LINE, models, newGraph, PUMP, TANK } from './helpers';

/** A hall with two lines of machines, pumps and tanks, telemetry on some machines. */
function plant(): TwinGraph {
  const { graph } = newGraph();
  graph.createTwin({ id: 'hall-1', model: HALL });
  for (const line of ['line-a', 'line-b']) {
    graph.createTwin({ id: line, model: LINE });
    graph.createRelationship({ sourceId: 'hall-1', relationshipId: `hall-1-${line}`, name: 'contains', targetId: line });
  }
  const machines: [string, string, number, string][] = [
    ['cnc-1', 'line-a', 12000, 'running'],
    ['cnc-2', 'line-a', 0, 'idle'],
    ['cnc-3', 'line-b', 18000, 'running'],
  ];
  machines.forEach(([id, line, speed, state], i) => {
    graph.createTwin({ id, model: CNC, properties: { machineState: state, activeProgram: `O${1000 + i}`, spindle: { maxSpeed: 24000 } } });
    graph.recordTelemetry(id, 'spindle/speed', speed);
    graph.createRelationship({ sourceId: line, relationshipId: `${line}-${id}`, name: 'contains', targetId: id, properties: { position: i + 1 } });
  });
  graph.createTwin({ id: 'cnc-v2', model: CNC2, stage: 'design' });
  graph.createTwin({ id: 'pump-1', model: PUMP, properties: { label: 'Pump 1', config: { mode: 'auto', gain: 2 } } });
  graph.createTwin({ id: 'tank-1', model: TANK, properties: { label: 'Tank 1' } });
  graph.createRelationship({ sourceId: 'pump-1', relationshipId: 'feeds-1', name: 'feeds', targetId: 'tank-1', properties: { weight: 0.5 } });
  return graph;
}

function ids(rows: Record<string, unknown>[]): unknown[] {
  return rows.map((r) => r.$dtId);
}

function refused(graph: TwinGraph, query: string, code: string, message: string): void {
  assert.throws(
    () => graph.query(query),
    (err: unknown) => {
      assert.ok(err instanceof TwinError, String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('queries: SELECT … FROM DIGITALTWINS', () => {
  const graph = plant();

  test('SELECT * returns the documents, in creation order', () => {
    const rows = graph.query('SELECT * FROM DIGITALTWINS');
    assert.deepEqual(ids(rows), ['hall-1', 'line-a', 'line-b', 'cnc-1', 'cnc-2', 'cnc-3', 'cnc-v2', 'pump-1', 'tank-1']);
    assert.deepEqual(rows[3], graph.getTwin('cnc-1'));
  });

  test('SELECT T returns the twin under its alias; T.prop and AS project', () => {
    assert.deepEqual(graph.query("SELECT T FROM DIGITALTWINS T WHERE T.$dtId = 'cnc-2'"), [{ T: graph.getTwin('cnc-2') }]);
    assert.deepEqual(graph.query("SELECT T.$dtId, T.machineState AS state, T.spindle.maxSpeed FROM DIGITALTWINS T WHERE T.$dtId = 'cnc-2'"), [{ $dtId: 'cnc-2', state: 'idle', maxSpeed: 24000 }]);
    assert.deepEqual(graph.query("SELECT T.$dtId, T.nothing FROM DIGITALTWINS AS T WHERE T.$dtId = 'cnc-2'"), [{ $dtId: 'cnc-2' }], 'undefined values are left out');
  });

  test('comparisons on properties, component paths, metadata and telemetry', () => {
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.machineState = 'running'")), ['cnc-1', 'cnc-3']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.machineState != 'running'")), ['cnc-2']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.machineState <> 'running'")), ['cnc-2']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE T.spindle.speed > 11999')), ['cnc-1', 'cnc-3']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE T.spindle.speed >= 12000')), ['cnc-1', 'cnc-3']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE T.spindle.speed < 12000')), ['cnc-2']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE T.spindle.speed <= 12000')), ['cnc-1', 'cnc-2']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE T.spindle.maxSpeed = 24000 AND T.spindle.speed = 0')), ['cnc-2']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.activeProgram > 'O1000'")), ['cnc-2', 'cnc-3'], 'strings compare as text');
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.$metadata.$model = 'dtmi:twinflow:cnc:CNCMachine;2'")), ['cnc-v2']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.config.mode = 'auto' AND T.config.gain = 2")), ['pump-1']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE T.spindle.speed = -5')), []);
    assert.deepEqual(graph.query("SELECT T.spindle.speed FROM DIGITALTWINS T WHERE T.$dtId = 'cnc-3'"), [{ speed: 18000 }], 'telemetry values are selectable');
  });

  test('AND, OR, NOT and parentheses, with undefined never matching', () => {
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.machineState = 'idle' OR T.spindle.speed > 15000")), ['cnc-2', 'cnc-3']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE NOT (T.machineState = 'idle' OR T.spindle.speed > 15000)")), ['cnc-1'], 'twins without the properties are neither in nor out');
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE (T.machineState = 'running' AND T.spindle.speed < 15000) OR T.$dtId = 'tank-1'")), ['cnc-1', 'tank-1']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.machineState = 1")), [], 'a different type never matches');
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE NOT NOT T.spindle.speed = 0')), ['cnc-2']);
  });

  test('IS_OF_MODEL with derived models, exact, and an explicit variable', () => {
    assert.deepEqual(ids(graph.query(`SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('${BASE}')`)), ['pump-1', 'tank-1']);
    assert.deepEqual(ids(graph.query(`SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${BASE}', exact)`)), []);
    assert.deepEqual(ids(graph.query(`SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL('${TANK}', exact)`)), ['tank-1']);
    assert.deepEqual(ids(graph.query(`SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${CNC}') AND T.machineState = 'idle'`)), ['cnc-2']);
  });

  test('IS_DEFINED, type tests, STARTSWITH, ENDSWITH, CONTAINS, IN and NIN', () => {
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T.label)')), ['pump-1', 'tank-1']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE NOT IS_DEFINED(T.label) AND IS_DEFINED(T.spindle)')), ['cnc-1', 'cnc-2', 'cnc-3', 'cnc-v2']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE IS_OBJECT(T.config) AND IS_NUMBER(T.config.gain) AND IS_STRING(T.label)')), ['pump-1']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'line-')")), ['line-a', 'line-b']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE ENDSWITH(T.$dtId, '-1')")), ['hall-1', 'cnc-1', 'pump-1', 'tank-1']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE CONTAINS(T.label, 'ump')")), ['pump-1']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.machineState IN ['idle', 'alarm']")), ['cnc-2']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.machineState NIN ['idle', 'alarm']")), ['cnc-1', 'cnc-3']);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T WHERE T.$lifecycle.stage NOT IN ['operation']")), ['cnc-v2']);
    assert.deepEqual(ids(graph.query('SELECT * FROM DIGITALTWINS T WHERE IS_BOOL(T.doorOpen) OR IS_NULL(T.label) OR IS_PRIMITIVE(T.config)')), []);
  });

  test('TOP(n) and COUNT()', () => {
    assert.deepEqual(ids(graph.query(`SELECT TOP(2) * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${CNC}')`)), ['cnc-1', 'cnc-2']);
    assert.deepEqual(graph.query(`SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('${CNC}')`), [{ COUNT: 3 }]);
    assert.deepEqual(graph.query('SELECT COUNT() FROM DIGITALTWINS'), [{ COUNT: 9 }]);
    assert.deepEqual(graph.query("SELECT COUNT() FROM DIGITALTWINS T WHERE T.$dtId = 'nobody'"), [{ COUNT: 0 }]);
  });

  test('keywords are case-insensitive; a query without alias names properties directly', () => {
    assert.deepEqual(ids(graph.query("select * from digitaltwins where machineState = 'idle' and $dtId = 'cnc-2'")), ['cnc-2']);
    assert.deepEqual(graph.query("SELECT $dtId, spindle.speed FROM DIGITALTWINS WHERE spindle.speed > 15000"), [{ $dtId: 'cnc-3', speed: 18000 }]);
    assert.deepEqual(ids(graph.query("SELECT * FROM DIGITALTWINS T\nWHERE T.$dtId = \"tank-1\"")), ['tank-1'], 'double quotes and new lines');
  });

  test('rows are copies', () => {
    const [row] = graph.query("SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'pump-1'");
    (row?.config as Record<string, unknown>).gain = 100;
    assert.equal((graph.getTwin('pump-1')?.config as Record<string, unknown>).gain, 2);
  });
});

describe('queries: MATCH', () => {
  const graph = plant();

  test('one hop, with a relationship variable and a filter on its properties', () => {
    const rows = graph.query("SELECT m.$dtId AS machine, r.position FROM DIGITALTWINS MATCH (l)-[r:contains]->(m) WHERE l.$dtId = 'line-a' AND r.position >= 2");
    assert.deepEqual(rows, [{ machine: 'cnc-2', position: 2 }]);
  });

  test('SELECT of bound variables, and *', () => {
    const [row] = graph.query("SELECT l, m FROM DIGITALTWINS MATCH (l)-[:contains]->(m) WHERE m.$dtId = 'cnc-3'");
    assert.deepEqual(row, { l: graph.getTwin('line-b'), m: graph.getTwin('cnc-3') });
    const [all] = graph.query("SELECT * FROM DIGITALTWINS MATCH (p)-[f:feeds]->(t) WHERE p.$dtId = 'pump-1'");
    assert.deepEqual(Object.keys(all ?? {}), ['p', 't', 'f']);
    assert.deepEqual(all?.f, graph.getRelationship('pump-1', 'feeds-1'));
  });

  test('incoming and either-direction relationships', () => {
    assert.deepEqual(graph.query("SELECT l.$dtId FROM DIGITALTWINS MATCH (m)<-[:contains]-(l) WHERE m.$dtId = 'cnc-1'"), [{ $dtId: 'line-a' }]);
    const either = graph.query("SELECT x.$dtId FROM DIGITALTWINS MATCH (l)-[:contains]-(x) WHERE l.$dtId = 'line-a'");
    assert.deepEqual(either.map((r) => r.$dtId), ['cnc-1', 'cnc-2', 'hall-1']);
  });

  test('chains, WHERE on any bound variable, an anchor on the last twin', () => {
    const rows = graph.query("SELECT h.$dtId AS hall, l.$dtId AS line FROM DIGITALTWINS MATCH (h)-[:contains]->(l)-[:contains]->(m) WHERE m.$dtId = 'cnc-3' AND h.$dtId = 'hall-1'");
    assert.deepEqual(rows, [{ hall: 'hall-1', line: 'line-b' }]);
    const running = graph.query("SELECT m.$dtId FROM DIGITALTWINS MATCH (h)-[:contains]->(l)-[:contains]->(m) WHERE h.$dtId = 'hall-1' AND m.machineState = 'running' AND IS_OF_MODEL(m, 'dtmi:twinflow:cnc:CNCMachine;1')");
    assert.deepEqual(running.map((r) => r.$dtId), ['cnc-1', 'cnc-3']);
  });

  test('hop ranges: *n, *n..m, *..m, each endpoint once', () => {
    const q = (range: string): unknown[] => graph.query(`SELECT x.$dtId FROM DIGITALTWINS MATCH (h)-[:contains${range}]->(x) WHERE h.$dtId = 'hall-1'`).map((r) => r.$dtId);
    assert.deepEqual(q('*1'), ['line-a', 'line-b']);
    assert.deepEqual(q('*2'), ['cnc-1', 'cnc-2', 'cnc-3']);
    assert.deepEqual(q('*1..2'), ['line-a', 'cnc-1', 'cnc-2', 'line-b', 'cnc-3']);
    assert.deepEqual(q('*..3'), ['line-a', 'cnc-1', 'cnc-2', 'line-b', 'cnc-3']);
    assert.deepEqual(q('*3..5'), []);
    assert.deepEqual(graph.query("SELECT COUNT() FROM DIGITALTWINS MATCH (h)-[*1..5]->(x) WHERE h.$dtId = 'hall-1'"), [{ COUNT: 5 }]);
  });

  test('without an anchor every twin is a start; a repeated variable means the same twin', () => {
    assert.deepEqual(graph.query('SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[:contains]->(b)'), [{ COUNT: 5 }]);
    assert.deepEqual(graph.query('SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[:contains]->(b)-[:contains]->(a)'), [{ COUNT: 0 }]);
    assert.deepEqual(graph.query('SELECT TOP(1) a.$dtId FROM DIGITALTWINS MATCH (a)-[:contains|feeds]->()'), [{ $dtId: 'hall-1' }]);
    assert.deepEqual(graph.query('SELECT a.$dtId FROM DIGITALTWINS MATCH (a)-[:feeds|nothing]->()'), [{ $dtId: 'pump-1' }]);
  });

  test('cycles do not loop, and a path never revisits a twin', () => {
    const { graph: ring } = newGraph({ maxHops: 10 });
    const n = 6;
    for (let i = 0; i < n; i++) ring.createTwin({ id: `b${i}`, model: BASE });
    for (let i = 0; i < n; i++) ring.createRelationship({ sourceId: `b${i}`, relationshipId: 'next', name: 'near', targetId: `b${(i + 1) % n}` });
    ring.createRelationship({ sourceId: 'b0', relationshipId: 'self', name: 'near', targetId: 'b0' });
    const reach = (range: string): unknown[] => ring.query(`SELECT x.$dtId FROM DIGITALTWINS MATCH (a)-[:near${range}]->(x) WHERE a.$dtId = 'b0'`).map((r) => r.$dtId);
    assert.deepEqual(reach('*1..10'), ['b1', 'b2', 'b3', 'b4', 'b5'], 'around the ring once, never back to the start');
    assert.deepEqual(reach('*6'), [], 'six hops would return to b0');
    assert.deepEqual(reach(''), ['b1', 'b0'], 'a single hop follows every relationship, the self-loop included');
    assert.deepEqual(ring.query("SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[*1..10]-(x) WHERE a.$dtId = 'b3'"), [{ COUNT: 5 }], 'both directions');
    // A dense graph: every twin related to every other; the limit keeps the search finite.
    const { graph: dense } = newGraph();
    for (let i = 0; i < 7; i++) dense.createTwin({ id: `d${i}`, model: BASE });
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) if (i !== j) dense.createRelationship({ sourceId: `d${i}`, relationshipId: `to-${j}`, name: 'near', targetId: `d${j}` });
    assert.deepEqual(dense.query("SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[*1..5]->(x) WHERE a.$dtId = 'd0'"), [{ COUNT: 6 }]);
  });

  test('the hop maximum is the graph\'s, 5 by default', () => {
    assert.throws(() => graph.query('SELECT * FROM DIGITALTWINS MATCH (a)-[*1..6]->(b)'), /hop range \*1\.\.6 goes beyond the maximum of 5 hops \(column 39\)/);
    const { graph: wide } = newGraph({ maxHops: 8 });
    wide.query('SELECT * FROM DIGITALTWINS MATCH (a)-[*1..8]->(b)');
    assert.throws(() => new TwinGraph(models(), { maxHops: 11 }), /maxHops 11 must be an integer from 1 to 10/);
  });
});

describe('queries: refusals name the construct and its position', () => {
  const graph = plant();
  const cases: [string, string, string][] = [
    ['SELECT * FROM DIGITALTWINS T JOIN CT RELATED T.contains', 'query-unsupported', 'JOIN is not supported (column 30); use MATCH'],
    ['SELECT * FROM DIGITALTWINS T WHERE T.x = 1 ORDER BY T.x', 'query-unsupported', 'ORDER BY is not supported (column 44); sort the rows after the query'],
    ['SELECT * FROM DIGITALTWINS T GROUP BY T.x', 'query-unsupported', 'GROUP BY is not supported (column 30)'],
    ['SELECT * FROM DIGITALTWINS T LIMIT 5', 'query-unsupported', 'LIMIT is not supported (column 30); use SELECT TOP(n)'],
    ['SELECT DISTINCT T.x FROM DIGITALTWINS T', 'query-unsupported', 'DISTINCT is not supported (column 8)'],
    ['SELECT * FROM RELATIONSHIPS R', 'query-unsupported', 'FROM RELATIONSHIPS is not supported (column 15); use MATCH with a relationship variable, e.g. MATCH (a)-[r:contains]->(b)'],
    ['SELECT AVG(T.x) FROM DIGITALTWINS T', 'query-unsupported', 'AVG() in SELECT is not supported (column 8); select *, COUNT(), variables or their properties'],
    ['SELECT * FROM DIGITALTWINS T WHERE UPPER(T.x) = 1', 'query-unsupported', 'function UPPER is not supported (column 36); supported functions are IS_OF_MODEL, IS_DEFINED, IS_NULL, IS_BOOL, IS_NUMBER, IS_STRING, IS_PRIMITIVE, IS_OBJECT, STARTSWITH, ENDSWITH, CONTAINS'],
    ['SELECT * FROM DIGITALTWINS T WHERE T.x + 1 = 2', 'query-unsupported', 'arithmetic (+) is not supported (column 40)'],
    ["SELECT * FROM DIGITALTWINS T WHERE T.x LIKE 'a%'", 'query-unsupported', 'LIKE is not supported (column 40); use STARTSWITH, ENDSWITH or CONTAINS'],
    ['SELECT * FROM DIGITALTWINS T WHERE T.x = @p', 'query-unsupported', 'query parameters is not supported (column 42)'],
    ["SELECT * FROM DIGITALTWINS T WHERE T['x'] = 1", 'query-unsupported', 'bracket property access ([…]) is not supported (column 37); write T.name'],
    ['SELECT * FROM DIGITALTWINS MATCH (a)-[r:contains*1..2]->(b)', 'query-unsupported', 'a relationship variable (r) on a variable-hop relationship is not supported (column 49); bind a variable only to a single hop'],
    ['SELECT * FROM DIGITALTWINS MATCH (a)-[*]->(b)', 'query-limit', 'a hop range needs an upper limit, at most 5 (column 39); e.g. *1..3'],
    ['SELECT * FROM DIGITALTWINS MATCH (a)-[*2..]->(b)', 'query-limit', 'a hop range needs an upper limit, at most 5 (column 39); e.g. *1..3'],
    ['SELECT * FROM DIGITALTWINS MATCH (a)-[*0..2]->(b)', 'query-limit', 'a hop range starts at 1 or more, not 0 (column 39)'],
    ['SELECT * FROM DIGITALTWINS MATCH (a)-[*3..2]->(b)', 'query-limit', 'hop range *3..2 ends before it starts (column 39)'],
    ['SELECT * FROM DIGITALTWINS MATCH (a)<-[:contains]->(b)', 'query-syntax', 'a relationship cannot point both ways (<-[…]->) (column 50); use -[…]- for either direction'],
    ['SELECT * FROM DIGITALTWINS T MATCH (a)-[]->(b)', 'query-syntax', 'a MATCH query names its twins in the pattern, not after DIGITALTWINS (column 30)'],
    ["SELECT * FROM DIGITALTWINS MATCH (a)-[]->(b) WHERE IS_OF_MODEL('dtmi:x;1')", 'query-syntax', "IS_OF_MODEL in a MATCH query needs the twin to test (column 52); e.g. IS_OF_MODEL(b, 'dtmi:…;1')"],
    ["SELECT * FROM DIGITALTWINS MATCH (a)-[r]->(b) WHERE IS_OF_MODEL(r, 'dtmi:x;1')", 'query-syntax', 'IS_OF_MODEL: r is not a twin variable of this query (column 53)'],
    ['SELECT * FROM DIGITALTWINS T WHERE X.y = 1', 'query-syntax', 'unknown variable X (column 36); the query names T'],
    ['SELECT * FROM DIGITALTWINS T WHERE T = 1', 'query-syntax', 'T is a twin or relationship, not a value (column 36); compare one of its properties, e.g. T.$dtId'],
    ['SELECT T.a, T.a FROM DIGITALTWINS T', 'query-syntax', 'column a is selected twice (column 13); name one with AS'],
    ['SELECT * FROM DIGITALTWINS T WHERE', 'query-syntax', 'expected a value, a property or a function but found the end of the query (column 35)'],
    ["SELECT * FROM DIGITALTWINS T WHERE T.x = 'open", 'query-syntax', 'the text starting here has no closing quote (column 42)'],
    ['SELECT * FROM DIGITALTWINS T WHERE T.x = 1 T.y', 'query-syntax', 'expected AND, OR or the end of the query but found "T" (column 44)'],
    ['SELECT * FROM DIGITALTWINS T WHERE T.x # 1', 'query-syntax', 'unexpected character "#" (column 40)'],
    ['SELECT * FROM TWINS', 'query-syntax', 'expected DIGITALTWINS but found "TWINS" (column 15)'],
    ['FIND * FROM DIGITALTWINS', 'query-syntax', 'expected SELECT but found "FIND" (column 1)'],
    ['SELECT TOP(0) * FROM DIGITALTWINS', 'query-syntax', 'expected a whole number of at least 1 in TOP(n) but found "0" (column 12)'],
    ['SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.x)', 'query-syntax', 'STARTSWITH takes 2 arguments, not 1 (column 36)'],
    ['SELECT * FROM DIGITALTWINS T\nWHERE T.x + 1', 'query-unsupported', 'arithmetic (+) is not supported (line 2, column 11)'],
  ];
  for (const [query, code, message] of cases) {
    test(`${code}: ${query.replace(/\n/g, ' ')}`, () => refused(graph, query, code, message));
  }

  test('errors carry line and column', () => {
    try {
      parseQuery('SELECT *\nFROM DIGITALTWINS T\n  JOIN x');
      assert.fail('expected a refusal');
    } catch (err) {
      assert.ok(err instanceof TwinError);
      assert.equal(err.line, 3);
      assert.equal(err.column, 3);
    }
  });
});

describe('queries over derived models in the plant', () => {
  test('twins of a model and of models extending it, through a relationship', () => {
    const graph = plant();
    const rows = graph.query(`SELECT t.$dtId, f.weight FROM DIGITALTWINS MATCH (p)-[f:feeds]->(t) WHERE IS_OF_MODEL(p, '${BASE}') AND IS_OF_MODEL(t, '${BASE}')`);
    assert.deepEqual(rows, [{ $dtId: 'tank-1', weight: 0.5 }]);
    assert.deepEqual(graph.query(`SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '${LINE}') OR IS_OF_MODEL(T, '${HALL}')`), [{ COUNT: 3 }]);
  });
});
