// Every reference flow in flows/ is well-formed before any test deploys it: unique ids, every wire
// and link to a node that exists, every shared config node identical wherever it appears (so flows
// import side by side), and no secret other than the demo key that the safe-writeback flow declares.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const FLOWS = path.join(__dirname, '..', '..', '..', 'flows');
type FlowNode = { id: string; type: string; z?: string; wires?: string[][]; links?: string[]; scope?: string[] | null; [k: string]: unknown };
const files = readdirSync(FLOWS).filter((f) => f.endsWith('.json')).sort();
// Key order is not meaning: the editor writes keys in its own order.
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
const load = (f: string) => JSON.parse(readFileSync(path.join(FLOWS, f), 'utf8')) as FlowNode[];

describe('reference flows', () => {
  it('exist', () => assert.ok(files.length >= 5, files.join(', ')));

  for (const file of files) {
    it(`${file}: unique ids, and every wire, link and catch scope names a node of the flow`, () => {
      const nodes = load(file);
      const ids = new Set<string>();
      for (const n of nodes) {
        assert.ok(!ids.has(n.id), `${n.id} appears twice`);
        ids.add(n.id);
      }
      for (const n of nodes) {
        if (n.z !== undefined) assert.ok(ids.has(n.z), `${n.id} sits on a tab ${n.z} that is not in the file`);
        (n.wires ?? []).forEach((port, i) => {
          assert.ok(Array.isArray(port), `${n.id}: wires[${i}] must be a list of node ids`);
          for (const target of port) assert.ok(ids.has(target), `${n.id} (${n.type}) output ${i + 1} is wired to ${target}, which is not in the flow`);
        });
        for (const target of n.links ?? []) assert.ok(ids.has(target), `${n.id} links to missing ${target}`);
        for (const target of Array.isArray(n.scope) ? n.scope : []) assert.ok(ids.has(target), `${n.id} catches from missing ${target}`);
      }
    });
  }

  it('share config nodes identically, so they import side by side', () => {
    const seen = new Map<string, { file: string; text: string }>();
    for (const file of files) {
      for (const n of load(file)) {
        if (n.z !== undefined || n.type === 'tab' || !n.id.startsWith('tf-')) continue;
        const { credentials: _c, ...rest } = n;
        const text = canonical(rest);
        const before = seen.get(n.id);
        if (before) assert.equal(text, before.text, `${n.id} differs between ${before.file} and ${file}`);
        else seen.set(n.id, { file, text });
      }
    }
  });

  it('carry no secret but the demo signing key, and say that it is one', () => {
    for (const file of files) {
      for (const n of load(file)) {
        if (n.credentials === undefined) continue;
        assert.equal(`${file}:${n.id}`, 'cnc-safe-writeback.json:tf-sw-sign', `${file}: ${n.id} (${n.type}) carries credentials; reference flows must not ship secrets`);
        assert.match(JSON.stringify(load(file).find((t) => t.type === 'tab')?.info ?? ''), /demo/i, 'the tab says the key is a demo key');
      }
    }
  });
});
