// `twinflow-bench-feed`: the Node-RED node that feeds the writer node under test (wired to its one
// output) through Node-RED's own routing; feed.ts drives it.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { completed, FEED_TYPE, setFeeder, type CompleteEvent } from './feed';

interface Hooks {
  add(name: string, hook: (event: CompleteEvent) => void): void;
}

export = function register(RED: NodeAPI): void {
  (RED as unknown as { hooks: Hooks }).hooks.add('onComplete.twinflowBench', completed);
  function Feed(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    setFeeder(this.id, this);
    this.on('close', () => setFeeder(this.id, undefined));
  }
  RED.nodes.registerType(FEED_TYPE, Feed as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
