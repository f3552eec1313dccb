// Run by memory.test.ts as `node --expose-gc memory-probe.js <fmi version>`: a million master steps
// of the three-FMU motor (plus what-ifs, instance churn) with heap and RSS measured after warm-up
// and at the end. Prints one JSON line.
import { CoSimulation } from '../../../nodes/fmu/master';
import { openFmu } from '../../../nodes/fmu/fmu-archive';
import { loadFmuLibrary } from '../../../nodes/fmu/fmu-library';
import { fmuPath, motorSystem } from './helpers';

declare const gc: () => void;

function measure(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

async function main(): Promise<void> {
  const version = Number(process.argv[2] ?? 2) as 2 | 3;
  const sim = await CoSimulation.create(motorSystem(version), { stepSize: 0.001 });
  const library = loadFmuLibrary(await openFmu(fmuPath('thermal', version)));
  const churn = (): void => {
    for (let i = 0; i < 50; i++) {
      const instance = library.instantiate(`t${i}`);
      instance.enterInitializationMode({ startTime: 0 });
      instance.exitInitializationMode();
      const state = instance.getState();
      instance.doStep(0, 1);
      instance.setState(state);
      instance.free();
    }
  };
  sim.setInput('electrical.loadTorque', 30);
  // Warm-up: JIT, koffi pools, first what-if and churn.
  sim.step(100_000);
  await sim.whatIf({ duration: 0.5, limits: [{ variable: 'electrical.speed', min: 100 }] });
  churn();
  const before = measure();
  const steps = 1_000_000;
  for (let chunk = 0; chunk < 10; chunk++) {
    sim.step(steps / 10);
    await sim.whatIf({ duration: 0.5, limits: [{ variable: 'electrical.speed', min: 100 }] });
    churn();
  }
  const after = measure();
  const speed = sim.read('electrical.speed');
  sim.free();
  library.unload();
  console.log(JSON.stringify({ before, after, steps, speed }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
