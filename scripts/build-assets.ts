// After tsc: puts each node's editor file, icons and locales beside its compiled .js (where Node-RED
// looks for them), checks package.json lists every node, and generates examples/ from flows/.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const nodesDir = path.join(root, 'nodes');
const distNodes = path.join(root, 'dist', 'nodes');
const iconsDir = path.join(root, 'icons');

const problems: string[] = [];

function nodeFolders(): string[] {
  return readdirSync(nodesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(nodesDir, d.name, `${d.name}.html`)))
    .map((d) => d.name)
    .sort();
}

function checkPackageListsEveryNode(folders: string[]): void {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const listed: Record<string, string> = pkg['node-red']?.nodes ?? {};
  for (const name of folders) {
    const expected = `dist/nodes/${name}/${name}.js`;
    if (listed[name] !== expected) problems.push(`package.json node-red.nodes must list "${name}": "${expected}"`);
  }
  for (const [name, file] of Object.entries(listed)) {
    if (!folders.includes(name)) problems.push(`package.json node-red.nodes lists "${name}" (${file}) but nodes/${name}/${name}.html does not exist`);
  }
}

/** Icons a node's editor file names that are not Node-RED's own (font-awesome/..., or core names without our prefix). */
function iconsUsedBy(html: string): string[] {
  const names = new Set<string>();
  for (const match of html.matchAll(/\bicon\s*:\s*["']([^"']+)["']/g)) {
    const icon = match[1]!;
    if (!icon.includes('/')) names.add(icon);
  }
  return [...names];
}

function copyEditorAssets(name: string): void {
  const source = path.join(nodesDir, name);
  const target = path.join(distNodes, name);
  if (!existsSync(path.join(target, `${name}.js`))) {
    problems.push(`dist/nodes/${name}/${name}.js is missing: does nodes/${name}/${name}.ts exist and compile?`);
    return;
  }
  const html = readFileSync(path.join(source, `${name}.html`), 'utf8');
  writeFileSync(path.join(target, `${name}.html`), html);
  const icons = iconsUsedBy(html);
  const isConfigNode = /category\s*:\s*['"]config['"]/.test(html);
  if (icons.length === 0 && !isConfigNode) problems.push(`nodes/${name}/${name}.html names no icon of ours`);
  for (const icon of icons) {
    const file = path.join(iconsDir, icon);
    if (!existsSync(file)) {
      problems.push(`nodes/${name}/${name}.html uses icon "${icon}" but icons/${icon} does not exist`);
      continue;
    }
    mkdirSync(path.join(target, 'icons'), { recursive: true });
    cpSync(file, path.join(target, 'icons', icon));
  }
  const locales = path.join(source, 'locales');
  if (existsSync(locales)) cpSync(locales, path.join(target, 'locales'), { recursive: true });
}

function generateExamples(): number {
  const flowsDir = path.join(root, 'flows');
  const examplesDir = path.join(root, 'examples');
  rmSync(examplesDir, { recursive: true, force: true });
  let count = 0;
  for (const relative of readdirSync(flowsDir, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = path.join(flowsDir, relative);
    if (!relative.endsWith('.json') || !statSync(file).isFile()) continue;
    let flow: unknown;
    try {
      flow = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`flows/${relative} is not valid JSON: ${(err as Error).message}`);
      continue;
    }
    if (!Array.isArray(flow)) {
      problems.push(`flows/${relative} must be a flow: a JSON array of nodes`);
      continue;
    }
    mkdirSync(path.dirname(path.join(examplesDir, relative)), { recursive: true });
    writeFileSync(path.join(examplesDir, relative), JSON.stringify(flow, null, 2) + '\n');
    count++;
  }
  return count;
}

const folders = nodeFolders();
checkPackageListsEveryNode(folders);
for (const name of folders) copyEditorAssets(name);
const examples = generateExamples();
if (problems.length > 0) {
  console.error(`build-assets: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`build-assets: ${folders.length} node(s), ${examples} example flow(s)`);
