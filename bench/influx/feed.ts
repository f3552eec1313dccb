// What `twinflow-bench-feed` (feed-node.ts) does: feeds the flow under test (wired to its one output)
// through Node-RED's own routing. It keeps a bounded number of points sent but not yet completed
// (the writer node at the end called done()), seen through the runtime's onComplete hook, so the
// writer is fed as fast as it takes messages, never faster than it finishes them. The writer may
// complete other messages than those sent (a join node in between makes one of many).
import type { Node } from 'node-red';

export const FEED_TYPE = 'twinflow-bench-feed';

export interface FeedPlan {
  /** id of the writer node whose completions count */
  target: string;
  /** messages to send, in order */
  messages: number;
  /** message i and the points it carries */
  message(i: number): Record<string, unknown>;
  pointsPerMessage: number;
  /** points each completion of the target stands for; default pointsPerMessage (the target gets what is sent) */
  pointsPerCompletion?: number;
  /** most points sent and not yet completed */
  windowPoints: number;
}

export interface FeedResult {
  /** ms from the first send to the last completion */
  ms: number;
  completed: number;
  errors: number;
  firstError?: string;
}

export interface CompleteEvent {
  msg: unknown;
  error?: unknown;
  node: { id: string };
}

const feeders = new Map<string, Node>();
let onComplete: ((event: CompleteEvent) => void) | undefined;

/** Called by the feed node: it is deployed (or closed, with undefined). */
export function setFeeder(id: string, node: Node | undefined): void {
  if (node) feeders.set(id, node);
  else feeders.delete(id);
}

/** The runtime's onComplete hook, registered once by the feed node's module. */
export function completed(event: CompleteEvent): void {
  onComplete?.(event);
}

/** Feeds `plan` through the deployed feed node `feedId`; resolves when every message completed. */
export function feed(feedId: string, plan: FeedPlan): Promise<FeedResult> {
  const node = feeders.get(feedId);
  if (!node) throw new Error(`no ${FEED_TYPE} node ${feedId} is deployed`);
  return new Promise((resolve) => {
    let sent = 0;
    let completed = 0;
    let inFlight = 0;
    let errors = 0;
    let firstError: string | undefined;
    let scheduled = false;
    const started = performance.now();
    const perCompletion = plan.pointsPerCompletion ?? plan.pointsPerMessage;
    const completions = (plan.messages * plan.pointsPerMessage) / perCompletion;
    if (!Number.isInteger(completions)) throw new Error(`${plan.messages} messages of ${plan.pointsPerMessage} points do not make whole completions of ${perCompletion}`);
    const pump = () => {
      scheduled = false;
      // Room is made by completions; top the window up once per turn of the event loop.
      while (sent < plan.messages && inFlight + plan.pointsPerMessage <= Math.max(plan.windowPoints, perCompletion, plan.pointsPerMessage)) {
        inFlight += plan.pointsPerMessage;
        node.send(plan.message(sent++) as never);
      }
    };
    onComplete = (event) => {
      if (event.node.id !== plan.target) return;
      completed++;
      inFlight -= perCompletion;
      if (event.error !== undefined && event.error !== null) {
        errors++;
        firstError ??= String((event.error as Error).message ?? event.error);
      }
      if (completed === completions) {
        onComplete = undefined;
        resolve({ ms: performance.now() - started, completed, errors, ...(firstError !== undefined ? { firstError } : {}) });
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(pump);
      }
    };
    pump();
  });
}

