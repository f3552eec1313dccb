// Messages in and out of the reconciler: which input is which, and the effects as messages for the
// four outputs (to the machine, acknowledgements to the twin, alerts, queue progress).
import type { CommandEnvelope } from '../lib/messages';
import { alarmActionFrom, alertMessage } from '../lib/alarms';
import { ReconcileError, type Effects, type Reconciler } from './reconciler-core';

type Msg = Record<string, unknown>;

export type InputKind = 'alarm' | 'action' | 'outcome' | 'echo' | 'command' | 'desired' | 'samples' | 'sample';

/** What an input message is. Acks coming back from the twin are echoes of our own output. */
export function inputKind(msg: Msg): InputKind {
  if (msg.alarm !== undefined) return 'alarm';
  if (msg.action !== undefined) return 'action';
  const reconcile = msg.reconcile as { entry?: unknown } | undefined;
  if (reconcile && typeof reconcile.entry === 'string' && typeof msg.good === 'boolean') return 'outcome';
  if (msg.ack !== undefined) return 'echo';
  if (msg.command !== undefined) return 'command';
  if (msg.desired !== undefined) return 'desired';
  if (msg.topic === 'samples') return 'samples';
  return 'sample';
}

function twinOf(msg: Msg, fallback: string): { id: string; model?: string } {
  const twin = msg.twin as { id?: unknown; model?: unknown } | undefined;
  if (twin !== undefined && (typeof twin !== 'object' || twin === null || (twin.id !== undefined && typeof twin.id !== 'string'))) {
    throw new ReconcileError('input-invalid', 'twin: must be { id, model }');
  }
  const id = typeof twin?.id === 'string' && twin.id !== '' ? twin.id : fallback;
  if (!id) throw new ReconcileError('input-invalid', 'twin.id: the message names no twin and the node has no default twin');
  return typeof twin?.model === 'string' && twin.model ? { id, model: twin.model } : { id };
}

/** Applies one input to the reconciler; undefined for echoes and state requests (nothing to send but the view). */
export function applyInput(reconciler: Reconciler, msg: Msg, defaultTwin: string, now: number): Effects | { view: unknown } | undefined {
  const kind = inputKind(msg);
  switch (kind) {
    case 'echo':
      return undefined;
    case 'alarm':
      return reconciler.alarmAction(alarmActionFrom(msg, now)!, now);
    case 'action': {
      if (msg.action === 'state') {
        const twins = msg.twin !== undefined || defaultTwin ? [twinOf(msg, defaultTwin).id] : reconciler.twinIds();
        return { view: { twins: twins.map((t) => reconciler.view(t)).filter(Boolean), alerts: reconciler.alerts() } };
      }
      if (msg.action === 'cancel') {
        const twin = msg.twin !== undefined || defaultTwin ? twinOf(msg, defaultTwin).id : undefined;
        return reconciler.cancelWaiting(twin, typeof msg.by === 'string' ? msg.by : undefined);
      }
      throw new ReconcileError('input-invalid', `action: must be state or cancel, not ${JSON.stringify(msg.action)}`);
    }
    case 'outcome': {
      const results = Array.isArray(msg.results) ? (msg.results as { status?: unknown; description?: unknown }[]) : [];
      const failed = results.find((r) => typeof r?.status === 'string' && !r.status.startsWith('Good')) ?? results[0];
      return reconciler.outcome((msg.reconcile as { entry: string }).entry, {
        good: msg.good as boolean,
        ...(typeof failed?.status === 'string' ? { status: failed.status } : {}),
        ...(typeof failed?.description === 'string' ? { description: failed.description } : {}),
      }, now);
    }
    case 'command': {
      const twin = twinOf(msg, defaultTwin);
      const c = msg.command as Partial<CommandEnvelope> | null;
      if (!c || typeof c !== 'object' || typeof c.name !== 'string' || c.name === '') {
        throw new ReconcileError('input-invalid', 'command.name: a command needs a name (command = { name, request, id, issuer, issuedAt })');
      }
      if (twin.model) reconciler.noteModel(twin.id, twin.model);
      return reconciler.command(twin.id, { ...c, name: c.name } as CommandEnvelope, now);
    }
    case 'desired': {
      const twin = twinOf(msg, defaultTwin);
      const d = msg.desired as { version?: unknown; issuer?: unknown } | null;
      if (typeof d !== 'object' || d === null) throw new ReconcileError('input-invalid', 'desired: must be { version?, issuer? }');
      if (d.issuer !== undefined && typeof d.issuer !== 'string') throw new ReconcileError('input-invalid', 'desired.issuer: must be a text naming who wants the change');
      if (twin.model) reconciler.noteModel(twin.id, twin.model);
      return reconciler.desire(twin.id, msg.topic as string, msg.payload, {
        ...(d.version !== undefined ? { version: d.version as number } : {}),
        ...(typeof d.issuer === 'string' ? { issuer: d.issuer } : {}),
      }, now);
    }
    case 'samples': {
      if (!Array.isArray(msg.payload)) throw new ReconcileError('input-invalid', 'payload: a samples batch must be an array of { topic, payload }');
      const twin = twinOf(msg, defaultTwin);
      const batch = msg.payload as Msg[];
      // Check the whole batch first: a bad sample refuses the batch and changes nothing.
      batch.forEach((s, i) => {
        if (!s || typeof s.topic !== 'string' || s.topic === '') throw new ReconcileError('input-invalid', `payload[${i}].topic: each sample needs the path it reports`);
        if (s.payload === undefined) throw new ReconcileError('input-invalid', `payload[${i}].payload: the sample of ${s.topic} has no value`);
      });
      const all: Effects = { release: [], acks: [], alerts: [], progress: [], persist: false };
      for (const s of batch) {
        const id = s.twin !== undefined ? twinOf(s, twin.id).id : twin.id;
        const e = reconciler.sample(id, s.topic as string, s.payload, now);
        all.release.push(...e.release);
        all.acks.push(...e.acks);
        all.alerts.push(...e.alerts);
        all.progress.push(...e.progress);
        all.persist ||= e.persist;
      }
      return all;
    }
    case 'sample': {
      if (typeof msg.topic !== 'string' || msg.topic === '') throw new ReconcileError('input-invalid', 'topic: the path the value reports (e.g. spindle/speed) is required');
      if (msg.payload === undefined) throw new ReconcileError('input-invalid', `payload: the sample of ${msg.topic} has no value`);
      const twin = twinOf(msg, defaultTwin);
      if (twin.model) reconciler.noteModel(twin.id, twin.model);
      return reconciler.sample(twin.id, msg.topic, msg.payload, now);
    }
  }
}

/** The effects as messages for outputs 1-4. */
export function effectMessages(effects: Effects, modelOf: (twin: string) => string): [Msg[], Msg[], Msg[], Msg[]] {
  const twinRef = (id: string) => {
    const model = modelOf(id);
    return model ? { id, model } : { id };
  };
  const release = effects.release.map((e): Msg => {
    const reconcile = { entry: e.id, twin: e.twin };
    if (e.kind === 'desired') {
      return { topic: e.path, payload: e.value, twin: twinRef(e.twin), desired: { version: e.version, ...(e.issuer !== undefined ? { issuer: e.issuer } : {}) }, reconcile };
    }
    return { topic: e.command!.name, payload: e.command!.request, command: e.command, twin: twinRef(e.twin), reconcile };
  });
  const acks = effects.acks.map((a): Msg => ({ topic: a.path, twin: twinRef(a.twin), ack: { ac: a.ac, av: a.av, ad: a.ad } }));
  const alerts = effects.alerts.map((a) => alertMessage(a) as Msg);
  const progress = effects.progress.map((p): Msg => ({
    topic: p.entry.kind === 'desired' ? p.entry.path : p.entry.command!.name,
    payload: p.ad,
    twin: twinRef(p.entry.twin),
    reconcile: {
      entry: p.entry.id,
      kind: p.entry.kind,
      status: p.status,
      ...(p.ac !== undefined ? { ac: p.ac } : {}),
      ...(p.entry.version !== undefined ? { version: p.entry.version } : {}),
      ...(p.entry.kind === 'desired' ? { value: p.entry.value } : { command: p.entry.command }),
      ...(p.entry.issuer !== undefined ? { issuer: p.entry.issuer } : {}),
    },
  }));
  return [release, acks, alerts, progress];
}
