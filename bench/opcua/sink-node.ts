// `twinflow-bench-sink`: the Node-RED node that stands in for the twin in the OPC UA benchmark.
// It takes what a twin would take and records, per value, that it arrived and how old it was
// (Date.now() minus its source timestamp). The flows in flows.ts put it where the twin goes, so
// when the `twin` node exists it is wired in front of this sink (see TWIN_STAGE there).
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { SINK_TYPE, activeRecorder, recordMessage } from './recorder';

export = function register(RED: NodeAPI): void {
  function TwinStandIn(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const recorder = activeRecorder();
      if (recorder) recordMessage(recorder, msg as NodeMessageInFlow & { sourceTime?: unknown });
      done();
    });
  }
  RED.nodes.registerType(SINK_TYPE, TwinStandIn as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
