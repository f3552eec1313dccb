// Prepares a Node-RED user directory that loads this package (as `npm install <folder>` would:
// a symlink in node_modules and a dependency in package.json, which Node-RED reads to find modules).
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PACKAGE_NAME = 'node-red-contrib-twinflow';

export function prepareUserDir(userDir: string, packageRoot: string): void {
  const modules = path.join(userDir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const link = path.join(modules, PACKAGE_NAME);
  const target = path.resolve(packageRoot);
  if (existsSync(link) || isDanglingLink(link)) {
    const current = lstatSync(link).isSymbolicLink() ? path.resolve(modules, readlinkSync(link)) : undefined;
    if (current !== target) rmSync(link, { recursive: true, force: true });
  }
  if (!existsSync(link)) symlinkSync(target, link, 'dir');

  const manifestFile = path.join(userDir, 'package.json');
  const manifest: { dependencies?: Record<string, string>; [key: string]: unknown } = existsSync(manifestFile)
    ? JSON.parse(readFileSync(manifestFile, 'utf8'))
    : { name: 'twinflow-node-red-user-dir', description: 'Node-RED user directory for Twinflow', version: '0.0.0', private: true };
  manifest.dependencies = { ...manifest.dependencies, [PACKAGE_NAME]: `file:${target}` };
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
}

function isDanglingLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
