// The reconciler's level-triggered loop holding 10,000 desired/actual pairs (1,000 twins x 10 rules)
// on a 100 ms loop, while the sensors report every actual once a second: CPU used, as a share of one
// core. Beside it, what a Node-RED user writes today: a function node on an inject every 100 ms that
// walks desired and actual kept as plain objects in flow context, comparing each pair against its
// tolerance and timing the divergence (no queue, no alarm states, no persistence).
// Target: under 10 % of one core.
import os from 'node:os';
import { Reconciler, type PairRule } from '../../nodes/reconciler/reconciler-core';

const TWINS = 1000;
const RULES = 10;
const LOOP_MS = 100;
const SECONDS = Number(process.env.TWINFLOW_BENCH_SECONDS ?? 10);

const rules: PairRule[] = Array.from({ length: RULES }, (_, i) => ({
  desired: `axis${i}/setpoint`, actual: `axis${i}/position`, absolute: 0.5, percent: 1, graceMs: 2000, label: `axis ${i} position`, hint: 'check the drive', severity: 'high',
}));

interface Load {
  setup(now: number): void;
  sample(twin: number, rule: number, value: number, now: number): void;
  loop(now: number): void;
}

function twinflow(): Load {
  const r = new Reconciler({ rules, commandRules: [], confirmTimeoutMs: 30_000, queueLimit: 100, source: 'bench' });
  return {
    setup(now) {
      for (let t = 0; t < TWINS; t++) {
        for (let i = 0; i < RULES; i++) {
          r.desire(`m${t}`, rules[i]!.desired, 100 + i, {}, now);
          r.sample(`m${t}`, rules[i]!.actual, 100 + i, now + 1);
        }
      }
      if (r.queueLength() !== 0) throw new Error('bench set-up: every desired value should be confirmed');
    },
    sample(t, i, value, now) { r.sample(`m${t}`, rules[i]!.actual, value, now); },
    loop(now) { r.tick(now); },
  };
}

/** The function-node version: flow.get/set of plain objects keyed by twin and path. */
function functionNode(): Load {
  const context = new Map<string, unknown>();
  const flow = { get: (k: string) => context.get(k), set: (k: string, v: unknown) => context.set(k, v) };
  return {
    setup(now) {
      const desired: Record<string, Record<string, number>> = {};
      const actual: Record<string, Record<string, number>> = {};
      for (let t = 0; t < TWINS; t++) {
        desired[`m${t}`] = {};
        actual[`m${t}`] = {};
        for (let i = 0; i < RULES; i++) {
          desired[`m${t}`]![rules[i]!.desired] = 100 + i;
          actual[`m${t}`]![rules[i]!.actual] = 100 + i;
        }
      }
      flow.set('desired', desired);
      flow.set('actual', actual);
      flow.set('since', {});
      void now;
    },
    sample(t, i, value) {
      const actual = flow.get('actual') as Record<string, Record<string, number>>;
      actual[`m${t}`]![rules[i]!.actual] = value;
      flow.set('actual', actual);
    },
    loop(now) {
      const desired = flow.get('desired') as Record<string, Record<string, number>>;
      const actual = flow.get('actual') as Record<string, Record<string, number>>;
      const since = flow.get('since') as Record<string, number>;
      for (const twin of Object.keys(desired)) {
        for (const rule of rules) {
          const d = desired[twin]![rule.desired]!;
          const a = actual[twin]![rule.actual]!;
          const key = `${twin}/${rule.desired}`;
          if (Math.abs(a - d) > Math.max(rule.absolute, (Math.abs(d) * rule.percent) / 100)) {
            if (since[key] === undefined) since[key] = now;
          } else delete since[key];
        }
      }
      flow.set('since', since);
    },
  };
}

/** Runs the loop and the sensor traffic in real time for SECONDS; returns the CPU share of one core. */
async function run(load: Load): Promise<{ cpuShare: number; loops: number }> {
  load.setup(Date.now());
  let twin = 0;
  let loops = 0;
  const perSampleTick = Math.ceil((TWINS * RULES) / (1000 / LOOP_MS));
  const start = process.cpuUsage();
  const wall = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Date.now();
      // Every actual once a second, spread over the loop ticks; values wander within tolerance.
      for (let k = 0; k < perSampleTick; k++) {
        const t = twin % TWINS;
        const i = Math.floor(twin / TWINS) % RULES;
        load.sample(t, i, 100 + i + Math.sin(now + k) * 0.3, now);
        twin = (twin + 1) % (TWINS * RULES);
      }
      load.loop(now);
      loops++;
    }, LOOP_MS);
    setTimeout(() => { clearInterval(timer); resolve(); }, SECONDS * 1000);
  });
  const used = process.cpuUsage(start);
  const elapsedMs = Number(process.hrtime.bigint() - wall) / 1e6;
  return { cpuShare: (used.user + used.system) / 1000 / elapsedMs, loops };
}

async function main(): Promise<void> {
  console.log(`reconciler: ${TWINS * RULES} desired/actual pairs, ${LOOP_MS} ms loop, every actual reported once a second, ${SECONDS} s each`);
  console.log(`${new Date().toISOString().slice(0, 10)} · ${os.cpus()[0]?.model.trim()} · ${os.cpus().length} cores · Node ${process.version}`);
  const ours = await run(twinflow());
  const theirs = await run(functionNode());
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log('| loop over 10,000 pairs | CPU (share of one core) | loops run |');
  console.log('|---|---:|---:|');
  console.log(`| Twinflow reconciler (queue, alarms, confirmation) | ${pct(ours.cpuShare)} | ${ours.loops} |`);
  console.log(`| function node on flow context (comparison only) | ${pct(theirs.cpuShare)} | ${theirs.loops} |`);
  console.log(`ratio Twinflow / function node: ${(ours.cpuShare / theirs.cpuShare).toFixed(2)}×; target under 10 %: ${ours.cpuShare < 0.1 ? 'met' : 'NOT met'}`);
}

void main();
