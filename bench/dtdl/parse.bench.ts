// Parse-and-resolve time of a generated 800-Interface ontology (deep extends chains, semantic units,
// Components, Relationships), against the reference DTDL parser a user would otherwise pick.
// Target: under 1 s.
import { parseModels } from '../../nodes/lib/dtdl';
import { loadReferenceParser, machineLine, median, now, table } from './common';
import { generateOntology } from './ontology';

async function main(): Promise<void> {
  const count = Number(process.env['DTDL_BENCH_INTERFACES'] ?? 800);
  const docs = generateOntology(count);
  const text = JSON.stringify(docs);
  const contents = docs.reduce((n, d) => n + ((d['contents'] as unknown[] | undefined)?.length ?? 0), 0);
  console.log(`DTDL parse: ${docs.length} Interfaces, ${contents} own contents, ${(text.length / 1024).toFixed(0)} KiB of JSON`);
  console.log(machineLine());

  // Twinflow: JSON text to ModelSet, as a node would do it on deploy.
  const ours: number[] = [];
  let interfaces = 0;
  for (let run = 0; run < 12; run++) {
    const started = now();
    const result = parseModels(JSON.parse(text) as unknown[]);
    const elapsed = now() - started;
    if (!result.valid) throw new Error(`generated ontology is invalid: ${result.errors[0]?.message}`);
    interfaces = result.model?.interfaces.size ?? 0;
    if (run >= 2) ours.push(elapsed); // the first runs warm up the JIT
  }
  const rows: string[][] = [['Twinflow parseModels', `${median(ours).toFixed(1)} ms`, `${Math.min(...ours).toFixed(1)} ms`, '1.0×', `${interfaces} Interfaces`]];

  const reference = await loadReferenceParser();
  if (reference.parser) {
    const theirs: number[] = [];
    let entities = 0;
    for (let run = 0; run < 4; run++) {
      const started = now();
      const out = reference.parser.parse(text);
      const elapsed = now() - started;
      entities = Object.keys(JSON.parse(out) as object).length;
      if (run >= 1) theirs.push(elapsed);
    }
    rows.push([
      `DTDLParser ${reference.parser.version.split(',')[1]?.trim() ?? ''} (WASM, @digicatapult/dtdl-parser)`,
      `${median(theirs).toFixed(1)} ms`,
      `${Math.min(...theirs).toFixed(1)} ms`,
      `${(median(theirs) / median(ours)).toFixed(1)}× slower`,
      `${entities} entities; runtime start ${reference.loadMs?.toFixed(0)} ms`,
    ]);
  } else {
    rows.push(['reference DTDLParser', '—', '—', '—', reference.reason ?? '']);
  }
  console.log(table(['parser', 'median', 'best', 'ratio', 'notes'], rows));
  const verdict = median(ours) < 1000 ? 'meets' : 'misses';
  console.log(`Target: parse and resolve under 1 s — ${verdict} (${median(ours).toFixed(0)} ms median).`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
