// `twinflow-bench-sink`: the Node-RED node behind the twin in the OPC UA benchmark. It takes what
// the twin accepted (its first output) and records, per value, that it arrived and how old it was
// (Date.now() minus its source timestamp): the value is then in the twin. See flows.ts.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { SINK_TYPE, activeRecorder, recordMessage } from './recorder';

export = function register(RED: NodeAPI): void {
  function AfterTheTwin(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const recorder = activeRecorder();
      if (recorder) recordMessage(recorder, msg as NodeMessageInFlow & { sourceTime?: unknown });
      done();
    });
  }
  RED.nodes.registerType(SINK_TYPE, AfterTheTwin as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
