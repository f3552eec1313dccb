// Node-RED adapter for the command guard: reads twin state from a twin graph (and from samples sent
// to it), checks every command and desired change, sends each verdict to its output, holds requests
// for approval or a what-if simulation, releases ramps step by step, and audits every decision.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { SnapshotStore } from '../lib/snapshot-store';
import type { TwinGraphNode } from '../twin-graph/twin-graph-node';
import { CommandGuard, GuardError, type GuardRequest, type Verdict } from './guard-core';
import { auditRecord, guardInfo, inputKind, pendingRows, requestFrom } from './guard-messages';
import { parseGuardSettings, type GuardConfig } from './guard-settings';
import { openAudit, type AuditHandle } from './guard-audit';
import type { AuditLog } from '../lib/audit';

type GuardDef = NodeDef & GuardConfig & { graph?: string; twinId?: string; audit?: string; persist?: boolean };

/** Where decisions go without an audit-log config node: the same file the audit-log node uses by default. */
const DEFAULT_AUDIT_FILE = path.join('twinflow', 'audit', 'commands.jsonl');
type Msg = Record<string, unknown>;

export = function register(RED: NodeAPI): void {
  function CommandGuardNode(this: Node, config: GuardDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const graphNode = config.graph ? (RED.nodes.getNode(config.graph) as TwinGraphNode | null) : null;
    const defaultTwin = (config.twinId ?? '').trim();
    const samples = new Map<string, unknown>();
    const originals = new Map<string, Msg>();
    const ramps = new Map<string, NodeJS.Timeout[]>();
    let guard: CommandGuard | undefined;
    let configError: string | undefined;
    let store: SnapshotStore | undefined;
    let audit: AuditHandle | undefined;
    let timer: NodeJS.Timeout | undefined;
    let passed = 0;
    let rejected = 0;

    /** Twin state: the twin graph when there is one, else what was sent to the guard. */
    const read = (twin: string, p: string): unknown => {
      const graph = graphNode?.graph;
      if (graph?.has(twin)) {
        try {
          const value = graph.read(twin, p).value;
          if (value !== undefined) return value;
        } catch {
          // not a path of this twin's model: fall back to samples
        }
      }
      return samples.get(`${twin}|${p}`);
    };

    try {
      if (config.graph && !graphNode) throw new Error('graph: the chosen twin graph does not exist');
      guard = new CommandGuard(parseGuardSettings(config), read);
      const userDir = RED.settings.userDir ?? process.cwd();
      const onAuditError = (err: Error) => node.error(`command-guard: audit log: ${err.message}`);
      if (config.audit) {
        const auditNode = RED.nodes.getNode(config.audit) as { auditLog?: AuditLog; problem?: string } | null;
        // No decision without its record: a guard whose log is unusable refuses to work.
        if (!auditNode?.auditLog) throw new Error(`audit: ${auditNode?.problem ?? 'the chosen audit log does not exist'}`);
        audit = openAudit(auditNode.auditLog, onAuditError);
      } else {
        audit = openAudit(path.join(userDir, DEFAULT_AUDIT_FILE), onAuditError);
      }
      if (config.persist !== false) {
        const file = path.join(userDir, 'twinflow', `command-guard-${node.id}.json`);
        store = new SnapshotStore(file, () => guard!.snapshot(), (err) => node.error(`command-guard: cannot save ${file}: ${err.message}`));
        try {
          const saved = store.load();
          if (saved !== undefined) guard.restore(saved);
        } catch (err) {
          const aside = store.setAside((err as Error).message);
          node.error(`command-guard: the held requests could not be restored (${(err as Error).message}); they were kept in ${aside}`);
        }
      }
    } catch (err) {
      configError = (err as Error).message;
    }

    const showStatus = () => {
      if (configError || !guard) return node.status({ fill: 'red', shape: 'ring', text: configError ?? 'not usable' });
      const held = guard.pending().length;
      node.status({ fill: held > 0 ? 'yellow' : 'green', shape: 'dot', text: `${passed} passed · ${rejected} rejected${held ? ` · ${held} held` : ''}` });
    };

    /** The message a request travels on: the one it came with, or rebuilt after a restart. */
    const messageOf = (r: GuardRequest): Msg =>
      originals.get(r.id) ??
      (r.kind === 'command'
        ? { topic: r.target, command: { name: r.target, request: r.value, id: r.id, issuer: r.issuer }, twin: { id: r.twin } }
        : { topic: r.target, payload: r.value, desired: { issuer: r.issuer, id: r.id }, twin: { id: r.twin } });

    const pendingMessage = (): Msg => ({ topic: 'pending', payload: pendingRows(guard!.pending(), Date.now()) });

    /** Appends to the audit log and returns the record as the message for output 4. */
    const audited = (record: Record<string, unknown>): Msg => {
      audit?.append(record);
      return { topic: record.decision, payload: record };
    };

    /** Sends a verdict to its output and the audit log. */
    const deliver = (verdict: Verdict, send: (msgs: (Msg | Msg[] | null)[]) => void): void => {
      const now = Date.now();
      const auditMsg = audited(auditRecord(verdict, now));
      const msg = messageOf(verdict.request);
      const holdsChanged = verdict.decision === 'held' || verdict.rule === 'approval' || originals.has(verdict.request.id);
      const outputs: (Msg | Msg[] | null)[] = [null, null, null, auditMsg, null];
      if (verdict.decision === 'passed') {
        passed++;
        originals.delete(verdict.request.id);
        const key = `${verdict.request.twin}|${verdict.request.target}`;
        for (const t of ramps.get(key) ?? []) clearTimeout(t);
        ramps.delete(key);
        if (verdict.steps && verdict.steps.length > 1) {
          const steps = verdict.steps;
          const stepMsg = (i: number): Msg => ({ ...msg, payload: steps[i], guard: guardInfo(verdict, { ramp: { step: i + 1, of: steps.length, target: verdict.request.value } }) });
          outputs[0] = stepMsg(0);
          ramps.set(key, steps.slice(1).map((_, j) => setTimeout(() => node.send([stepMsg(j + 1), null, null, null, null]), (j + 1) * verdict.periodMs!)));
        } else {
          outputs[0] = { ...msg, guard: guardInfo(verdict) };
        }
      } else if (verdict.decision === 'rejected') {
        rejected++;
        originals.delete(verdict.request.id);
        outputs[1] = { ...msg, guard: guardInfo(verdict), rejection: { rule: verdict.rule, reason: verdict.reason } };
      } else if (verdict.decision === 'what-if') {
        outputs[4] = { ...msg, guard: guardInfo(verdict, { hold: verdict.request.id }) };
      }
      if (holdsChanged || verdict.decision === 'what-if') outputs[2] = pendingMessage();
      send(outputs);
      if (verdict.decision === 'rejected') node.warn(`command-guard: ${verdict.reason}`);
      store?.changed(true);
      showStatus();
    };

    if (guard) {
      timer = setInterval(() => {
        try {
          const expired = guard!.tick(Date.now());
          for (const v of expired) deliver(v, (m) => node.send(m as NodeMessageInFlow[]));
          // The countdown on the approvals table.
          if (guard!.pending().length > 0) node.send([null, null, pendingMessage(), null, null]);
        } catch (err) {
          node.error(`command-guard: ${(err as Error).message}`);
        }
      }, 1000);
    }
    showStatus();

    node.on('input', (msg: NodeMessageInFlow & Msg, send, done) => {
      try {
        if (configError || !guard) throw new Error(configError ?? 'not usable');
        const now = Date.now();
        const out = (m: (Msg | Msg[] | null)[]) => send(m as NodeMessageInFlow[]);
        switch (inputKind(msg)) {
          case 'approval': {
            const a = msg.approval as { id?: unknown; decision?: unknown; by?: unknown; reason?: unknown } | null;
            if (!a || typeof a !== 'object' || typeof a.id !== 'string') throw new GuardError('approval.id: the id of the held request is required');
            if (a.decision !== 'approve' && a.decision !== 'reject') throw new GuardError('approval.decision: must be approve or reject');
            const before = guard.pending().find((h) => h.request.id === a.id);
            let verdict: Verdict | undefined;
            try {
              verdict = guard.approve(a.id, a.decision, a.by as string, now, typeof a.reason === 'string' ? a.reason : undefined);
            } catch (err) {
              // A refused approval is audited too: who tried to approve what, and why it did not count.
              if (before) send([null, null, null, audited({ time: now, actor: typeof a.by === 'string' ? a.by : null, action: `approve ${before.request.id}`, target: before.request.twin, decision: 'refused', rule: 'approval', reason: (err as Error).message, snapshot: null, cmdId: before.request.id }), null]);
              throw err;
            }
            if (verdict) deliver(verdict, out);
            else {
              const record = audited({ time: now, actor: a.by, action: `approve ${a.id}`, target: before!.request.twin, decision: 'approved', rule: 'approval', reason: `${a.by} approved ${a.id}; waiting for a second approver`, snapshot: null, cmdId: a.id });
              send([null, null, pendingMessage(), record, null]);
              store?.changed(true);
            }
            break;
          }
          case 'what-if': {
            const id = (msg.guard as { hold: string }).hold;
            const result = msg.whatIf as { verdict?: unknown; summary?: unknown };
            // The verdict and trajectory travel on with the request.
            const original = originals.get(id);
            if (original) originals.set(id, { ...original, whatIf: msg.whatIf });
            deliver(guard.verdict(id, { verdict: result?.verdict, summary: result?.summary }, now), out);
            break;
          }
          case 'action': {
            if (msg.action === 'pending') send([null, null, pendingMessage(), null, null]);
            else if (msg.action === 'verify-audit') {
              if (!audit) throw new GuardError('action: there is no audit log to verify');
              audit.verify().then(
                (report) => { send([null, null, null, { ...msg, topic: 'verify-audit', payload: report }, null]); done(); },
                (err: Error) => done(new Error(`command-guard: audit log: ${err.message}`)),
              );
              return;
            } else throw new GuardError(`action: must be pending or verify-audit, not ${JSON.stringify(msg.action)}`);
            break;
          }
          case 'command':
          case 'desired': {
            const request = requestFrom(msg, defaultTwin, now);
            originals.set(request.id, { ...msg });
            deliver(guard.check(request, now), out);
            break;
          }
          case 'sample': {
            if (typeof msg.topic !== 'string' || msg.topic === '') throw new GuardError('topic: a twin value needs its path (e.g. doorOpen)');
            if (msg.topic === 'samples' && Array.isArray(msg.payload)) {
              const twin = (msg.twin as { id?: string } | undefined)?.id ?? defaultTwin;
              for (const s of msg.payload as Msg[]) if (typeof s?.topic === 'string') samples.set(`${(s.twin as { id?: string } | undefined)?.id ?? twin}|${s.topic}`, s.payload);
            } else {
              const twin = (msg.twin as { id?: string } | undefined)?.id ?? defaultTwin;
              if (!twin) throw new GuardError('twin.id: the message names no twin and the guard has no default twin');
              samples.set(`${twin}|${msg.topic}`, msg.payload);
            }
            break;
          }
        }
        done();
      } catch (err) {
        const message = (err as Error).message;
        done(new Error(message.startsWith('command-guard') ? message : `command-guard: ${message}`));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      for (const list of ramps.values()) for (const t of list) clearTimeout(t);
      ramps.clear();
      const saved = store?.close() ?? Promise.resolve();
      void Promise.all([saved, (audit?.close() ?? Promise.resolve()).catch(() => undefined)]).then(() => done());
    });
  }

  RED.nodes.registerType('command-guard', CommandGuardNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
