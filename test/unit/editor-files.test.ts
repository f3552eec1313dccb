// Every node's editor file follows Node-RED's conventions: registered with an edit dialog, an icon,
// and help that covers inputs, outputs, details and an example.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string>; version: string } };
const types = Object.keys(pkg['node-red'].nodes);

describe('editor files', () => {
  it('the package lists every node folder and supports Node-RED >= 4.1.0', () => {
    const folders = readdirSync(path.join(root, 'nodes'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(root, 'nodes', d.name, `${d.name}.html`)))
      .map((d) => d.name)
      .sort();
    assert.deepEqual([...types].sort(), folders);
    assert.equal(pkg['node-red'].version, '>=4.1.0');
  });

  for (const type of types) {
    it(`${type}: dialog, icon and complete help`, () => {
      const html = readFileSync(path.join(root, 'nodes', type, `${type}.html`), 'utf8');
      assert.match(html, new RegExp(`RED\\.nodes\\.registerType\\('${type}'`), 'registers its type');
      assert.match(html, new RegExp(`data-template-name="${type}"`), 'has an edit dialog');
      const help = html.match(new RegExp(`data-help-name="${type}">([\\s\\S]*?)</script>`))?.[1] ?? '';
      assert.ok(help.length > 300, 'has help text');
      assert.match(help, /^\s*<p>/, 'help starts with a summary paragraph (shown in the palette)');
      const isConfig = /category\s*:\s*['"]config['"]/.test(html);
      if (!isConfig) {
        assert.match(html, /icon\s*:\s*'twinflow-[\w-]+\.svg'/, 'uses a Twinflow icon');
        const icon = html.match(/icon\s*:\s*'(twinflow-[\w-]+\.svg)'/)![1]!;
        assert.ok(existsSync(path.join(root, 'icons', icon)), `icons/${icon} exists`);
        const inputs = Number(html.match(/inputs\s*:\s*(\d)/)?.[1] ?? 0);
        if (inputs > 0) assert.match(help, /<h3>Inputs<\/h3>/, 'help describes the inputs');
        assert.match(help, /<h3>Outputs<\/h3>/, 'help describes the outputs');
        assert.match(help, /<h3>Examples?<\/h3>/, 'help has an example');
      }
      assert.match(help, /<h3>(Details|Properties)<\/h3>/, 'help has details');
    });
  }
});
