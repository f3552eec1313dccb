// CPU time and memory of another process, read from /proc (Linux), so the server's use is measured
// from outside and does not depend on its own event loop answering while it is saturated.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ, almost always 100). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(out.stdout?.trim());
    clockTicks = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return clockTicks;
}

export interface CpuSnapshot {
  cpuMs: number;
  wallMs: number;
}

/** User plus system CPU time of pid so far, and when it was read. */
export function cpuSnapshot(pid: number): CpuSnapshot {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based, see proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpuMs: (ticks * 1000) / ticksPerSecond(), wallMs: performance.now() };
}

/** Percent of one core used between two snapshots. */
export function cpuPercentBetween(a: CpuSnapshot, b: CpuSnapshot): number {
  return ((b.cpuMs - a.cpuMs) / (b.wallMs - a.wallMs)) * 100;
}

/** Resident set size of pid in MiB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
