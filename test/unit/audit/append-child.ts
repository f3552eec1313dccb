// A process that appends to an audit log as fast as it can, printing "durable <seq>" once each
// record is on disk, until it is killed. Used by the crash test (not a test itself).
import { AuditLog } from '../../../nodes/lib/audit';

const file = process.argv[2] as string;
const log = AuditLog.open(file);
// Large snapshots make each batch span several write calls, so a kill can land in the middle of one.
const snapshot = { spindle: { speed: 8000, history: 'x'.repeat(200_000) } };

async function run(): Promise<void> {
  for (let i = 0; ; i++) {
    const batch = Array.from({ length: 4 }, (_, j) => log.append({ actor: 'child', action: 'setSpindleSpeed', target: 'cnc-1', decision: 'accepted', rule: 'signature', reason: `batch ${i} record ${j}`, snapshot, cmdId: `c-${i}-${j}` }));
    for (const record of await Promise.all(batch)) process.stdout.write(`durable ${record.seq}\n`);
  }
}

void run();
