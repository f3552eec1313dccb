// Shared by the FMU tests: our FMUs built (idempotent, fast when up to date), their paths, a
// private extraction cache per test process, and the three-FMU motor system.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { buildNative, builtFmuPath, findRepositoryRoot, type FmiVersion } from '../../../scripts/build-native';
import type { SystemSpec } from '../../../nodes/fmu/master';

export const root = findRepositoryRoot(__dirname);

let built: Promise<unknown> | undefined;

/** Builds native/ once per test process (a no-op when nothing changed). */
export function ensureBuilt(): Promise<unknown> {
  built ??= buildNative({ root });
  return built;
}

export function fmuPath(name: string, version: FmiVersion | 2 | 3 = 2): string {
  return builtFmuPath(root, name, version as FmiVersion);
}

export function testFmuPath(name: string, version?: 2 | 3): string {
  return version === undefined ? path.join(root, 'native', 'build', 'test', `${name}.fmu`) : builtFmuPath(root, name, version, 'test');
}

/** A fresh extraction cache for this test file (removed afterwards), also used by spawned CLIs. */
export function privateCache(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twinflow-fmu-test-'));
  process.env.TWINFLOW_FMU_CACHE = dir;
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function motorSystem(version: 2 | 3, options: { controllerEarlyReturn?: boolean } = {}): SystemSpec {
  return {
    fmus: [
      { name: 'electrical', fmu: fmuPath('electrical', version) },
      { name: 'thermal', fmu: fmuPath('thermal', version) },
      {
        name: 'controller',
        fmu: fmuPath('controller', version),
        ...(options.controllerEarlyReturn && { instantiate: { eventModeUsed: true, earlyReturnAllowed: true } }),
      },
    ],
    connections: [
      { from: 'controller.voltage', to: 'electrical.voltage' },
      { from: 'electrical.current', to: 'thermal.current' },
      { from: 'thermal.temperature', to: 'controller.temperature' },
      { from: 'electrical.speed', to: 'controller.speed' },
    ],
  };
}

/** Analytic winding temperature for a constant current (see native/models/thermal.json). */
export function thermalExact(t: number, current: number, p = { ambient: 298.15, resistance: 0.7, rth: 0.2, cth: 9000, t0: 298.15 }): number {
  const steady = p.ambient + p.rth * 3 * p.resistance * current * current;
  return steady + (p.t0 - steady) * Math.exp(-t / (p.rth * p.cth));
}
