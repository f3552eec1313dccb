// Pure part of the twin node: which twin a message addresses and what it asks of the twin graph,
// in the message contract (samples, desired changes, acknowledgements, commands, relationships,
// lifecycle, queries). Every refusal is a TwinError naming the field and the rule.
import { TwinError, isLifecycleStage, type SampleBatch, type TwinChangeEvent, type TwinGraph } from '../lib/twin';
import type { TwinRef } from '../lib/messages';

export interface TwinNodeSettings {
  /**
   * `one`: the configured twin; `model`: every twin of the model, chosen by `msg.twin.id`;
   * `any`: every twin in the graph, chosen by `msg.twin.id` (plant-wide relationships, queries).
   */
  scope: 'one' | 'model' | 'any';
  twinId: string;
  /** DTMI of the configured model: new twins get it, and `model` scope accepts twins of it (and of models extending it). */
  model: string;
  autoCreate: boolean;
}

type Msg = Record<string, unknown>;

export interface Outcome {
  /** For the first output: what was accepted or answered. Absent when nothing goes on. */
  accepted?: Msg;
  /** For the second output: samples of a batch that were refused, each with its reason. */
  rejected?: Msg;
  events: TwinChangeEvent[];
  /** Telemetry samples of a batch applied without an event (see MessageOptions.withoutTelemetryEvents). */
  withoutEvents?: number;
}

export interface MessageOptions {
  /** Hears of a twin made on first use (see handleMessage). */
  onCreated?: OnTwinCreated;
  /**
   * The telemetry of a batch makes no change events: nothing records or hears them (no event log,
   * no listener). Each costs an event, a JSON Patch and a copy of the sample otherwise.
   */
  withoutTelemetryEvents?: boolean;
}

function fail(code: ConstructorParameters<typeof TwinError>[0], message: string): never {
  throw new TwinError(code, message);
}

/** Hears of a twin made on first use as soon as it exists, before the message goes on (see handleMessage). */
export type OnTwinCreated = (event: TwinChangeEvent) => void;

/**
 * The twin a message addresses, created on first use when the node is set to. The creation goes to
 * `onCreated` when given, else into `events`.
 */
export function targetTwin(graph: TwinGraph, msg: Msg, settings: TwinNodeSettings, events: TwinChangeEvent[], onCreated?: OnTwinCreated): TwinRef {
  const given = msg.twin as { id?: unknown } | undefined;
  const givenId = given && typeof given === 'object' ? given.id : undefined;
  let id: string;
  if (settings.scope === 'one') {
    if (givenId !== undefined && givenId !== settings.twinId) {
      fail('input-invalid', `twin.id: "${String(givenId)}" is not this node's twin "${settings.twinId}"; use a twin node set to all twins of the model, or check the wiring`);
    }
    id = settings.twinId;
  } else {
    if (typeof givenId !== 'string' || givenId === '') {
      fail('input-invalid', `twin.id: required, because this node addresses every twin of ${settings.scope === 'any' ? 'the graph' : settings.model}`);
    }
    id = givenId;
  }
  if (!graph.has(id)) {
    if (settings.scope === 'any' && !settings.model) fail('twin-unknown', `twin.id: there is no twin "${id}" (create it first with action "create")`);
    if (!settings.autoCreate) fail('twin-unknown', `twin.id: there is no twin "${id}" (turn on "create twins on first use" or create it with action "create")`);
    const created = graph.createTwin({ id, model: settings.model });
    if (onCreated) onCreated(created);
    else events.push(created);
  }
  const model = graph.getModel(id);
  if (settings.scope === 'model' && !graph.listTwins({ model: settings.model }).some((t) => t.$dtId === id)) {
    fail('input-invalid', `twin.id: "${id}" is a ${model}, not a ${settings.model}`);
  }
  return { id, model };
}

type BatchSample = { topic: string; payload: unknown; sourceTime?: number; quality?: 'good' | 'uncertain' | 'bad' };

/** The samples of a batch, each checked for the name it is for before any is applied. */
function samplesOf(payload: unknown): BatchSample[] {
  if (!Array.isArray(payload)) fail('input-invalid', 'payload: a batch (topic "samples") holds an array of samples { topic, payload, sourceTime, quality }');
  for (let i = 0; i < payload.length; i++) {
    const s = payload[i] as Msg;
    if (typeof s !== 'object' || s === null || typeof s.topic !== 'string') fail('input-invalid', `payload[${i}].topic: each sample needs the DTDL name it is for`);
  }
  return payload as BatchSample[];
}

/**
 * Carries out one message against the graph. Throws (changing nothing) when the message is refused,
 * except that a twin made on first use stays made: with `onCreated`, its creation is handed over
 * on its own, before the rest of the message is carried out, so it can be recorded either way.
 */
export function handleMessage(graph: TwinGraph, msg: Msg, settings: TwinNodeSettings, { onCreated, withoutTelemetryEvents }: MessageOptions = {}): Outcome {
  const events: TwinChangeEvent[] = [];
  const base = { ...msg };
  const sampleOptions = () => ({
    ...(typeof msg.sourceTime === 'number' ? { sourceTime: msg.sourceTime } : msg.sourceTime !== undefined ? { sourceTime: msg.sourceTime as number } : {}),
    ...(msg.quality !== undefined ? { quality: msg.quality as 'good' } : {}),
  });

  // Reads first: they never create a twin.
  if (msg.query !== undefined) {
    if (typeof msg.query !== 'string') fail('input-invalid', 'query: must be query text, e.g. SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL(\'dtmi:...\')');
    return { accepted: { ...base, payload: graph.query(msg.query) }, events };
  }
  if (msg.action === 'list') {
    const model = typeof msg.payload === 'string' && msg.payload ? msg.payload : settings.model;
    return { accepted: { ...base, topic: model, payload: graph.listTwins({ model }) }, events };
  }
  if (msg.action === 'get' || msg.action === 'relationships' || msg.action === 'staleness') {
    const id = typeof msg.payload === 'string' && msg.payload ? msg.payload : settings.scope === 'one' ? settings.twinId : (msg.twin as TwinRef | undefined)?.id;
    if (!id || !graph.has(id)) fail('twin-unknown', `payload: there is no twin "${String(id ?? '')}"`);
    const payload = msg.action === 'get'
      ? graph.getTwin(id)
      : msg.action === 'relationships'
        ? { outgoing: graph.listOutgoing(id), incoming: graph.listIncoming(id) }
        : graph.getStaleness(id);
    return { accepted: { ...base, topic: id, payload }, events };
  }
  if (msg.action === 'create') {
    const input = (msg.payload ?? {}) as { id?: unknown; model?: unknown; properties?: Record<string, unknown>; stage?: unknown; ifMissing?: unknown };
    const id = typeof input.id === 'string' ? input.id : settings.scope === 'one' ? settings.twinId : '';
    const model = typeof input.model === 'string' ? input.model : settings.model;
    // Declarative set-up flows run again on every deploy: an identical twin that exists is fine.
    if (input.ifMissing === true && graph.has(id)) {
      if (graph.getModel(id) !== model) fail('twin-exists', `payload.model: twin "${id}" exists as a ${graph.getModel(id)}, not a ${model}`);
      return { accepted: { ...base, twin: { id, model }, payload: graph.getTwin(id) }, events };
    }
    events.push(graph.createTwin({
      id,
      model,
      ...(input.properties ? { properties: input.properties } : {}),
      ...(isLifecycleStage(input.stage) ? { stage: input.stage } : {}),
    }, actorOf(msg)));
    return { accepted: { ...base, twin: { id, model: graph.getModel(id) }, payload: graph.getTwin(id), event: events[0] }, events };
  }
  if (msg.action !== undefined) fail('input-invalid', `action: "${String(msg.action)}" must be get, list, relationships, staleness or create`);

  const twin = targetTwin(graph, msg, settings, events, onCreated);
  const out = { ...base, twin };
  const actor = actorOf(msg);

  if (msg.lifecycle !== undefined) {
    if (!isLifecycleStage(msg.lifecycle)) fail('input-invalid', `lifecycle: "${String(msg.lifecycle)}" must be design, deployment, operation, adaptation or decommissioned`);
    events.push(graph.setLifecycleStage(twin.id, msg.lifecycle, actor));
    return { accepted: { ...out, event: events.at(-1) }, events };
  }
  if (msg.relationship !== undefined) {
    const r = msg.relationship as { op?: unknown; id?: unknown; name?: unknown; target?: unknown; properties?: Record<string, unknown>; ifMissing?: unknown };
    if (typeof r !== 'object' || r === null) fail('input-invalid', 'relationship: must be { op, id, name, target, properties }');
    if (r.op === 'delete') {
      if (typeof r.id !== 'string') fail('input-invalid', 'relationship.id: the relationship to delete is required');
      events.push(graph.deleteRelationship(twin.id, r.id, actor));
    } else if (r.op === undefined || r.op === 'create') {
      if (typeof r.name !== 'string') fail('input-invalid', 'relationship.name: the relationship name from the model is required');
      if (typeof r.target !== 'string') fail('input-invalid', 'relationship.target: the target twin id is required');
      const relationshipId = typeof r.id === 'string' ? r.id : `${twin.id}-${r.name}-${r.target}`;
      const existing = r.ifMissing === true ? graph.getRelationship(twin.id, relationshipId) : undefined;
      if (existing) {
        if (existing.$targetId !== r.target || existing.$relationshipName !== r.name) {
          fail('input-invalid', `relationship.id: "${relationshipId}" exists as ${existing.$relationshipName} -> ${existing.$targetId}`);
        }
        return { accepted: { ...out, payload: existing }, events };
      }
      events.push(graph.createRelationship({ sourceId: twin.id, relationshipId, name: r.name, targetId: r.target, ...(r.properties ? { properties: r.properties } : {}) }, actor));
    } else {
      fail('input-invalid', `relationship.op: "${String(r.op)}" must be create or delete`);
    }
    return { accepted: { ...out, event: events.at(-1) }, events };
  }
  if (msg.command !== undefined) {
    const c = msg.command as { name?: unknown; request?: unknown; id?: unknown; issuer?: unknown };
    if (typeof c !== 'object' || c === null || typeof c.name !== 'string') fail('input-invalid', 'command.name: a command needs a name (command = { name, request, id, issuer, issuedAt })');
    events.push(graph.requestCommand(twin.id, c.name, c.request, {
      ...(typeof c.id === 'string' ? { requestId: c.id } : {}),
      ...(typeof c.issuer === 'string' ? { actor: c.issuer } : actor),
    }));
    return { accepted: { ...out, event: events.at(-1) }, events };
  }
  if (typeof msg.topic !== 'string' || msg.topic === '') fail('input-invalid', 'topic: the DTDL name or path the value is for (e.g. spindle/speed) is required');
  if (msg.ack !== undefined) {
    const a = msg.ack as { ac?: unknown; av?: unknown; ad?: unknown };
    events.push(graph.acknowledgeDesired(twin.id, msg.topic, {
      code: a.ac as number,
      version: a.av as number,
      ...(typeof a.ad === 'string' ? { description: a.ad } : {}),
      ...(msg.payload !== undefined ? { value: msg.payload } : {}),
    } as Parameters<TwinGraph['acknowledgeDesired']>[2], actor));
    return { accepted: { ...out, event: events.at(-1) }, events };
  }
  if (msg.desired !== undefined) {
    const d = msg.desired as { version?: unknown; issuer?: unknown };
    if (typeof d !== 'object' || d === null) fail('input-invalid', 'desired: must be { version?, issuer }');
    const event = graph.setDesired(twin.id, msg.topic, msg.payload, {
      ...(d.version !== undefined ? { version: d.version as number } : {}),
      ...(typeof d.issuer === 'string' ? { actor: d.issuer } : actor),
    });
    events.push(event);
    const version = (graph.read(twin.id, msg.topic).metadata?.desiredVersion ?? d.version) as number;
    return { accepted: { ...out, desired: { ...d, version }, event }, events };
  }
  if (msg.topic === 'samples') return applyBatch(graph, samplesOf(msg.payload), out, actor, events, withoutTelemetryEvents === true);
  if (msg.payload === undefined) fail('input-invalid', `payload: the value for "${msg.topic}" is missing`);
  events.push(graph.applySample(twin.id, { path: msg.topic, value: msg.payload, ...sampleOptions() }, actor));
  return { accepted: { ...out, event: events.at(-1) }, events };
}

/**
 * Each sample of a batch on its own: the refused ones go to the second output with their reasons.
 * Accepted samples go on as they came, and the batch itself when every sample was accepted as it
 * came: no array or copy per sample. Only a sample without a quality is copied, to say 'good'.
 */
function applyBatch(graph: TwinGraph, samples: BatchSample[], out: Msg & { twin: TwinRef }, actor: { actor?: string }, events: TwinChangeEvent[], withoutTelemetryEvents: boolean): Outcome {
  const rejected: Msg[] = [];
  let withoutEvents = 0;
  // Stays undefined while every sample so far goes on as it came.
  let accepted: BatchSample[] | undefined;
  const refuse = (i: number, err: unknown) => {
    accepted ??= samples.slice(0, i);
    const sample = samples[i]!;
    rejected.push({ topic: sample.topic, payload: sample.payload, error: errorInfo(err) });
  };
  const outcome = (): Outcome => {
    const acceptedSamples = accepted ?? samples;
    return {
      ...(acceptedSamples.length > 0 ? { accepted: { ...out, payload: acceptedSamples } } : {}),
      ...(rejected.length > 0 ? { rejected: { ...out, payload: rejected, error: { message: `${rejected.length} of ${samples.length} samples refused: ${(rejected[0]!.error as { message: string }).message}` } } } : {}),
      events,
      withoutEvents,
    };
  };
  let batch: SampleBatch | undefined;
  try {
    batch = withoutTelemetryEvents ? graph.sampleBatch(out.twin.id, actor) : undefined;
  } catch (err) {
    // The twin takes no changes (e.g. decommissioned): every sample is refused for that reason.
    for (let i = 0; i < samples.length; i++) refuse(i, err);
    return outcome();
  }
  try {
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      try {
        if (batch) {
          const event = batch.apply(sample.topic, sample.payload, sample.sourceTime, sample.quality);
          if (event) events.push(event);
          else withoutEvents++;
        } else {
          events.push(graph.applySampleParts(out.twin.id, sample.topic, sample.payload, sample.sourceTime, sample.quality, actor));
        }
      } catch (err) {
        refuse(i, err);
        continue;
      }
      if (sample.quality === undefined) {
        accepted ??= samples.slice(0, i);
        accepted.push({ ...sample, quality: 'good' });
      } else if (accepted) {
        accepted.push(sample);
      }
    }
  } finally {
    batch?.finish();
  }
  return outcome();
}

function actorOf(msg: Msg): { actor?: string } {
  const actor = (msg as { actor?: unknown }).actor;
  return typeof actor === 'string' ? { actor } : {};
}

export function errorInfo(err: unknown): { message: string; code?: string; path?: string } {
  if (err instanceof TwinError) return { message: err.message, code: err.code, ...(err.path ? { path: err.path } : {}) };
  return { message: err instanceof Error ? err.message : String(err) };
}
