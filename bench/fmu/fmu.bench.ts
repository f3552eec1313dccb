// FMU co-simulation speed: what one communication step costs through koffi (doStep plus reading
// the outputs) for one FMU, and one master step of the three-FMU motor, beside a C master loop
// over the same FMU binaries (bench/fmu/c_master.c, dlopen, same step, same connections and unit
// conversions, same write-when-changed rule), run here in the same run. Also checks that the C and
// TypeScript masters end on bit-identical values, so both measure the same work.
//
// The alternative a Python user would pick is FMPy (ctypes), which documents a few microseconds
// per FFI call; it is not installed here, so it is not measured.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { buildNative, builtFmuPath, findRepositoryRoot } from '../../scripts/build-native';
import { binaryPath, openFmu, type FmuArchive } from '../../nodes/fmu/fmu-archive';
import { instantiateFmu } from '../../nodes/fmu/fmu-library';
import { CoSimulation, type MasterAlgorithm, type SystemSpec } from '../../nodes/fmu/master';

const STEPS = 200_000;
const REPS = 5;
const H = 0.001;
const LOAD_TORQUE = 30;
const TARGET_STEPS_PER_SECOND = 200_000;
const TARGET_RATIO = 3;

const root = findRepositoryRoot(__dirname);
const cMaster = path.join(root, 'native', 'build', 'bench', 'fmu-c-master');
const fmu = (name: string, version: 2 | 3): string => builtFmuPath(root, name, version);

interface Measured {
  nsPerStep: number;
  values: number[];
}

/**
 * Best of REPS timed repetitions after one warm-up repetition, like the C side. Process CPU time,
 * not wall time: on a shared machine wall time also counts the time the process waited for a core.
 */
function timeSteps(stepOnce: () => void): number {
  let best = Infinity;
  for (let rep = 0; rep <= REPS; rep++) {
    const start = process.cpuUsage();
    for (let i = 0; i < STEPS; i++) stepOnce();
    const used = process.cpuUsage(start);
    const ns = ((used.user + used.system) * 1000) / STEPS;
    if (rep > 0 && ns < best) best = ns;
  }
  return best;
}

function runC(args: string[]): Measured {
  const result = spawnSync(cMaster, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`fmu-c-master ${args.join(' ')} failed: ${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  return {
    nsPerStep: Number(lines.find((l) => l.startsWith('ns_per_step '))!.split(' ')[1]),
    values: lines.filter((l) => l.startsWith('value ')).map((l) => Number(l.split(' ')[1])),
  };
}

async function singleTs(file: string, input: [string, number], outputs: string[]): Promise<Measured & { floor: number }> {
  const { instance, library, unload } = await instantiateFmu(file, 'bench');
  try {
    instance.setValue(input[0], input[1]);
    instance.enterInitializationMode({ startTime: 0 });
    instance.exitInitializationMode();
    const port = instance.createFloat64Port(outputs);
    let k = 0;
    const nsPerStep = timeSteps(() => {
      const t = k * H;
      const next = (k + 1) * H;
      instance.doStep(t, next - t);
      port.read();
      k++;
    });
    // The FFI floor on this machine: a call into the FMU that does no work.
    const nothing = koffi.load(library.libraryPath).func('int twinflow_live_instances(void)');
    const floor = timeSteps(() => nothing());
    return { nsPerStep, values: Array.from(port.values), floor };
  } finally {
    unload();
  }
}

function motorSystem(version: 2 | 3): SystemSpec {
  return {
    fmus: [
      { name: 'electrical', fmu: fmu('electrical', version) },
      { name: 'thermal', fmu: fmu('thermal', version) },
      { name: 'controller', fmu: fmu('controller', version) },
    ],
    connections: [
      { from: 'controller.voltage', to: 'electrical.voltage' },
      { from: 'electrical.current', to: 'thermal.current' },
      { from: 'thermal.temperature', to: 'controller.temperature' },
      { from: 'electrical.speed', to: 'controller.speed' },
    ],
  };
}

async function motorTs(version: 2 | 3, algorithm: MasterAlgorithm): Promise<Measured> {
  const sim = await CoSimulation.create(motorSystem(version), { stepSize: H, algorithm });
  try {
    sim.setInput('electrical.loadTorque', LOAD_TORQUE);
    const nsPerStep = timeSteps(() => sim.step());
    const values = ['electrical.speed', 'electrical.current', 'thermal.temperature', 'controller.voltage'].map((p) => sim.read(p) as number);
    return { nsPerStep, values };
  } finally {
    sim.free();
  }
}

function guid(archive: FmuArchive): string {
  return archive.description.instantiationToken;
}

function vr(archive: FmuArchive, name: string): string {
  return String(archive.description.variablesByName.get(name)!.valueReference);
}

async function main(): Promise<void> {
  await buildNative({ root });
  const archives = Object.fromEntries(
    await Promise.all(['thermal', 'electrical', 'controller'].map(async (name) => [name, await openFmu(fmu(name, 2))] as const)),
  ) as Record<string, FmuArchive>;

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`FMU co-simulation: koffi ${koffi.version} on Node ${process.version} vs C (gcc -O2), same FMU binaries`);
  console.log(`${cpu}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
  console.log(`communication step ${H} s; CPU time per step, best of ${REPS} runs of ${STEPS.toLocaleString('en')} steps after one warm-up run\n`);

  const rows: [string, number, number | undefined][] = [];
  const checks: string[] = [];
  let floor = 0;

  for (const [name, input, outputs] of [
    ['thermal', ['current', 14], ['temperature', 'copperLosses']],
    ['electrical', ['voltage', 400], ['speed', 'current', 'torque', 'slip']],
  ] as const) {
    const archive = archives[name]!;
    const c = runC(['single', binaryPath(archive), guid(archive), String(STEPS), String(H), String(REPS), vr(archive, input[0]), String(input[1]), ...outputs.map((o) => vr(archive, o))]);
    for (const version of [2, 3] as const) {
      const ts = await singleTs(fmu(name, version), [input[0], input[1]], [...outputs]);
      floor = Math.max(floor, ts.floor);
      rows.push([`one FMU: ${name} (FMI ${version}.0), doStep + read ${outputs.length} outputs`, ts.nsPerStep, version === 2 ? c.nsPerStep : undefined]);
      if (version === 2) checks.push(`${name}: ${ts.values.every((v, i) => v === c.values[i]) ? 'bit-identical' : `DIFFERENT (${ts.values} vs ${c.values})`} final outputs in C and TypeScript`);
    }
  }

  const e = archives.electrical!;
  const t = archives.thermal!;
  const k = archives.controller!;
  const cMotor = runC(['motor', binaryPath(e), guid(e), binaryPath(t), guid(t), binaryPath(k), guid(k), String(STEPS), String(H), String(REPS), String(LOAD_TORQUE)]);
  const motor: [string, Measured, number | undefined][] = [
    ['three-FMU motor (FMI 2.0), Gauss-Seidel master step', await motorTs(2, 'gauss-seidel'), cMotor.nsPerStep],
    ['three-FMU motor (FMI 3.0), Gauss-Seidel master step', await motorTs(3, 'gauss-seidel'), undefined],
    ['three-FMU motor (FMI 2.0), Jacobi master step', await motorTs(2, 'jacobi'), undefined],
  ];
  for (const [label, measured, c] of motor) rows.push([label, measured.nsPerStep, c]);
  const gs = motor[0]![1];
  checks.push(`motor: ${gs.values.every((v, i) => v === cMotor.values[i]) ? 'bit-identical' : `DIFFERENT (${gs.values} vs ${cMotor.values})`} speed, current, temperature and voltage after ${(REPS + 1) * STEPS} steps in C and TypeScript`);

  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'case'.padEnd(width)}  ${'koffi ns/step'.padStart(13)}  ${'steps/s'.padStart(10)}  ${'C ns/step'.padStart(9)}  ${'koffi/C'.padStart(7)}`);
  for (const [label, ts, c] of rows) {
    console.log(
      `${label.padEnd(width)}  ${ts.toFixed(0).padStart(13)}  ${Math.round(1e9 / ts).toLocaleString('en').padStart(10)}  ${(c === undefined ? '' : c.toFixed(0)).padStart(9)}  ${(c === undefined ? '' : (ts / c).toFixed(2)).padStart(7)}`,
    );
  }
  console.log(`\nFFI floor: a call into the FMU that does nothing costs ${floor.toFixed(0)} ns through koffi here.`);
  for (const check of checks) console.log(`check: ${check}`);
  const stepsPerSecond = 1e9 / gs.nsPerStep;
  const ratio = gs.nsPerStep / cMotor.nsPerStep;
  console.log(`\ntarget: >= ${TARGET_STEPS_PER_SECOND.toLocaleString('en')} motor master steps/s: ${Math.round(stepsPerSecond).toLocaleString('en')} (${stepsPerSecond >= TARGET_STEPS_PER_SECOND ? 'met' : 'MISSED'})`);
  console.log(`target: within ${TARGET_RATIO}x the C loop: ${ratio.toFixed(2)}x (${ratio <= TARGET_RATIO ? 'met' : 'MISSED'})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
