// What user nodes (opcua-in, opcua-out) may ask of a deployed opcua-endpoint config node.
import type { Node } from 'node-red';
import type { EndpointCredentials } from './endpoint-settings';
import type { OpcuaConnection } from './opcua-connection';

export interface OpcuaEndpointNode extends Node<EndpointCredentials> {
  /** Why the settings cannot work, if they cannot; user nodes show it as their status. */
  settingsError?: string;
  /** The shared connection for this endpoint; call release() when the user node closes. */
  acquire(): { connection: OpcuaConnection; release: () => Promise<void> };
}
