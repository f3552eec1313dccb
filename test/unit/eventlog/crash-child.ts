// A process that drives a twin graph as fast as it can and appends every change to an event log,
// printing "durable <count> <time>" once that many changes are on disk, until it is killed.
// Used by the SIGKILL test (not a test itself).
import { TwinEventLog } from '../../../nodes/lib/eventlog';
import { TwinWorkload } from './twin-workload';

const dir = process.argv[2] as string;
const seed = Number(process.argv[3]);
const workload = new TwinWorkload(seed);
const { log } = TwinEventLog.open(dir, () => workload.graph, { snapshotEvery: 25, segmentBytes: 256 * 1024 });

async function run(): Promise<void> {
  let changes = 0;
  for (;;) {
    const events = [];
    // A batch of changes per fsync, of varying size.
    for (let i = 0; i < 1 + (changes % 17); i++) events.push(...workload.step());
    log.record(events);
    changes += events.length;
    await log.flush();
    process.stdout.write(`durable ${changes} ${workload.now}\n`);
  }
}

void run();
