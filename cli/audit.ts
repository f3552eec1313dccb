// `twinflow audit verify <file> [--json] [--head <seq>:<hash>] [--no-head-file]`: checks an audit
// log's hash chain from the first record to the last and names the first broken link.
// Exit codes: 0 intact, 1 broken, 2 usage error or unreadable file.

import { existsSync } from 'node:fs';
import { verifyAuditLog, type AuditHead } from '../nodes/lib/audit';
import type { Subcommand } from './twinflow';

const USAGE = `Usage: twinflow audit verify <file> [--json] [--head <seq>:<hash>] [--no-head-file]

Checks a Twinflow audit log (JSON lines, hash-chained): every line a record, seq 1, 2, 3 … without
gaps, each prevHash the hash of the record before it, each hash the SHA-256 of its own canonical
JSON, no cut-off last line, and nothing missing at the end compared with the head: the one given
with --head (noted elsewhere), or else the <file>.head file the log keeps beside it.

Options:
  --json               print one JSON object instead of text
  --head <seq>:<hash>  a head noted elsewhere that the log must contain
  --no-head-file       do not compare with <file>.head
  -h, --help           show this help

Exit status: 0 when the chain is intact, 1 when it is broken, 2 on a usage error or an unreadable file.`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { file: string; json: boolean; head?: AuditHead; useHeadFile: boolean } {
  let file: string | undefined;
  let json = false;
  let head: AuditHead | undefined;
  let useHeadFile = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--json') json = true;
    else if (arg === '--no-head-file') useHeadFile = false;
    else if (arg === '--head') {
      const value = argv[++i] ?? '';
      const match = /^(\d+):([0-9a-f]{64})$/.exec(value);
      if (!match) throw new UsageError(`--head: "${value}" is not <seq>:<64 hex digits>`);
      head = { seq: Number(match[1]), hash: match[2] as string };
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option "${arg}"`);
    else if (file === undefined) file = arg;
    else throw new UsageError('give one audit log file');
  }
  if (file === undefined) throw new UsageError('give the audit log file to verify');
  return { file, json, ...(head ? { head } : {}), useHeadFile };
}

async function verify(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(argv);
  } catch (err) {
    console.error(`twinflow audit: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!existsSync(options.file)) {
    console.error(`twinflow audit: cannot read ${options.file}: ENOENT`);
    return 2;
  }
  const result = await verifyAuditLog(options.file, { ...(options.head ? { expectedHead: options.head } : {}), useHeadFile: options.useHeadFile });
  if (!result.ok && result.problem.kind === 'unreadable') {
    console.error(`twinflow audit: ${result.problem.message}`);
    return 2;
  }
  if (options.json) {
    console.log(JSON.stringify(result, null, 2));
  } else if (result.ok) {
    const head = result.head ? `, last seq ${result.head.seq}, hash ${result.head.hash}` : '';
    const against = result.checkedAgainst ? ` (contains head seq ${result.checkedAgainst.seq})` : '';
    console.log(`intact: ${result.records} record${result.records === 1 ? '' : 's'}${head}${against}`);
  } else {
    console.log(`broken: ${result.problem.message}`);
    console.log(`${result.records} record${result.records === 1 ? '' : 's'} before it verified`);
  }
  return result.ok ? 0 : 1;
}

async function runAudit(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === '--help' || action === '-h' || (action === 'verify' && (rest.includes('--help') || rest.includes('-h')))) {
    console.log(USAGE);
    return 0;
  }
  if (action !== 'verify') {
    console.error(`twinflow audit: ${action ? `unknown action "${action}"` : 'missing action'}\n\n${USAGE}`);
    return 2;
  }
  return verify(rest);
}

export const command: Subcommand = {
  summary: 'verify the hash chain of an audit log',
  run: runAudit,
};
