// The versioned model registry: versions side by side, loaded versions never changed, all-or-nothing loads.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BUILTIN_MODELS_DIR, ModelRegistry, documentsFromFolder, documentsFromText } from '../../../nodes/dtdl-model/model-registry';
import { locate } from '../../../nodes/dtdl-model/locate';

function machine(version: number, extra: object[] = []) {
  return {
    '@context': 'dtmi:dtdl:context;3',
    '@id': `dtmi:example:Machine;${version}`,
    '@type': 'Interface',
    contents: [{ '@type': 'Telemetry', name: 'speed', schema: 'double' }, ...extra],
  };
}

describe('ModelRegistry', () => {
  it('loads the shipped CNC and plant models', () => {
    const registry = new ModelRegistry();
    const result = registry.load(documentsFromFolder(BUILTIN_MODELS_DIR));
    assert.equal(result.ok, true, JSON.stringify(result.errors));
    assert.ok(registry.interfaces.includes('dtmi:twinflow:cnc:CNCMachine;1'));
    assert.ok(registry.model!.resolve('dtmi:twinflow:cnc:CNCMachine;1', 'spindle/speed'));
  });

  it('keeps two versions side by side and hands out a new ModelSet per load, leaving the old one intact', () => {
    const registry = new ModelRegistry();
    assert.equal(registry.load([{ source: 'v1', document: machine(1) }]).ok, true);
    const first = registry.model!;
    let changes = 0;
    registry.on('change', () => changes++);
    const result = registry.load([{ source: 'v2', document: machine(2, [{ '@type': 'Telemetry', name: 'torque', schema: 'double' }]) }]);
    assert.deepEqual(result.added, ['dtmi:example:Machine;2']);
    assert.equal(changes, 1);
    const second = registry.model!;
    assert.notEqual(first, second);
    assert.equal(first.interfaces.has('dtmi:example:Machine;2'), false, 'a handed-out ModelSet never changes');
    assert.ok(second.resolve('dtmi:example:Machine;1', 'speed'));
    assert.ok(second.resolve('dtmi:example:Machine;2', 'torque'));
    assert.equal(second.resolve('dtmi:example:Machine;1', 'torque'), undefined);
  });

  it('accepts the same version again, even with keys in another order, and changes nothing', () => {
    const registry = new ModelRegistry();
    registry.load([{ source: 'a', document: machine(1) }]);
    const model = registry.model;
    const reordered = JSON.parse(JSON.stringify({ contents: machine(1).contents, '@type': 'Interface', '@id': 'dtmi:example:Machine;1', '@context': 'dtmi:dtdl:context;3' }));
    const result = registry.load([{ source: 'b', document: reordered }]);
    assert.deepEqual(result, { ok: true, errors: [], added: [], unresolved: [] });
    assert.equal(registry.model, model);
  });

  it('refuses different content under a loaded version, naming the DTMI and the rule', () => {
    const registry = new ModelRegistry();
    registry.load([{ source: 'a', document: machine(1) }]);
    const result = registry.load([{ source: 'changed.json', document: machine(1, [{ '@type': 'Telemetry', name: 'torque', schema: 'double' }]) }]);
    assert.equal(result.ok, false);
    assert.equal(result.errors[0]!.code, 'versionChanged');
    assert.match(result.errors[0]!.message, /dtmi:example:Machine;1 \(changed\.json\) is already loaded with different content: a loaded version is never changed/);
    assert.equal(registry.model!.resolve('dtmi:example:Machine;1', 'torque'), undefined);
  });

  it('adds nothing when one document of a load is invalid or leaves a reference unresolved', () => {
    const registry = new ModelRegistry();
    registry.load([{ source: 'a', document: machine(1) }]);
    const before = registry.model;
    const bad = { ...machine(3), contents: [{ '@type': 'Telemetry', name: '2fast', schema: 'double' }] };
    const result = registry.load([{ source: 'good.json', document: machine(2) }, { source: 'bad.json', document: bad }]);
    assert.equal(result.ok, false);
    assert.match(result.errors[0]!.message, /^bad\.json: .*2fast/);
    assert.equal(result.errors[0]!.document, 1);
    assert.equal(registry.model, before);
    assert.equal(registry.interfaces.includes('dtmi:example:Machine;2'), false);
    const dangling = registry.load([{ source: 'c', document: { ...machine(4), extends: 'dtmi:example:Missing;1' } }]);
    assert.equal(dangling.ok, false);
    assert.deepEqual(dangling.unresolved, ['dtmi:example:Missing;1']);
  });

  it('reads folders recursively and pasted text, with clear errors for what cannot be read', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-dtdl-'));
    try {
      mkdirSync(path.join(dir, 'sub'));
      writeFileSync(path.join(dir, 'sub', 'm.json'), JSON.stringify(machine(1)));
      assert.deepEqual(documentsFromFolder(dir).map((d) => d.source), [path.join('sub', 'm.json')]);
      writeFileSync(path.join(dir, 'broken.json'), '{ "@id": ');
      assert.throws(() => documentsFromFolder(dir), /broken\.json: not valid JSON/);
      assert.throws(() => documentsFromFolder(path.join(dir, 'nope')), /folder: ".*nope" is not a folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(documentsFromText(JSON.stringify([machine(1), machine(2)])).length, 2);
    assert.throws(() => documentsFromText('[{'), /dialog: not valid JSON/);
  });
});

describe('locate', () => {
  it('turns a document index and JSON pointer into the line of the offending key', () => {
    const text = JSON.stringify([machine(1), { ...machine(2), contents: [{ '@type': 'Telemetry', name: '2fast', schema: 'double' }] }], null, 2);
    const at = locate(text, 1, '/contents/0/name', true)!;
    assert.match(text.split('\n')[at.line - 1]!, /"name": "2fast"/);
    const single = JSON.stringify(machine(1), null, 2);
    const top = locate(single, 0, '/contents/0/schema', false)!;
    assert.match(single.split('\n')[top.line - 1]!, /"schema": "double"/);
    const parent = locate(single, 0, '/contents/0/unit', false)!;
    assert.match(single.split('\n')[parent.line - 1]!, /\{/, 'a missing member falls back to its parent');
  });
});
