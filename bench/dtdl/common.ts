// Shared by the DTDL benchmarks: machine line, timing, a table printer, and loading the reference
// DTDL parser (Microsoft's DTDLParser compiled to WebAssembly, npm @digicatapult/dtdl-parser) when
// it is installed. It is not a project dependency: it lives in bench/deps with the other packages the
// benchmarks compare against (`npm run bench` installs them); TWINFLOW_DTDL_ALT may point at another
// folder that has it in node_modules.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)} · ${cpu} · ${os.cpus().length} cores · Node ${process.version}`;
}

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The reference parser's module interface, as far as the benchmark uses it. */
export interface ReferenceParser {
  version: string;
  parse(json: string): string;
}

/** Loads @digicatapult/dtdl-parser if it can be found; undefined (with the reason) when not. */
export async function loadReferenceParser(): Promise<{ parser?: ReferenceParser; loadMs?: number; reason?: string }> {
  const root = path.join(__dirname, '..', '..', '..');
  const bases = [process.env['TWINFLOW_DTDL_ALT'], path.join(root, 'bench', 'deps'), process.cwd(), root].filter((b): b is string => Boolean(b));
  let entry: string | undefined;
  for (const base of bases) {
    // The package exports only an "import" condition, so find its entry point by hand.
    const dir = path.join(base, 'node_modules', '@digicatapult', 'dtdl-parser');
    if (!existsSync(path.join(dir, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { main?: string; exports?: { import?: string } };
    entry = path.join(dir, pkg.exports?.import ?? pkg.main ?? 'index.js');
    break;
  }
  if (!entry) return { reason: '@digicatapult/dtdl-parser is not installed (see bench/dtdl/common.ts)' };
  try {
    const started = now();
    // The package is ESM only; a real dynamic import keeps tsc from turning it into require().
    const load = new Function('url', 'return import(url)') as (url: string) => Promise<{ getInterop(): Promise<{ parse(json: string): string; parserVersion(): string }> }>;
    const mod = await load(pathToFileURL(entry).href);
    const interop = await mod.getInterop();
    return { parser: { version: interop.parserVersion(), parse: (json) => interop.parse(json) }, loadMs: now() - started };
  } catch (err) {
    return { reason: `@digicatapult/dtdl-parser failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
}
