// What twin-history nodes may ask of a deployed influx-server config node.
import type { Node } from 'node-red';
import type { InfluxClient, SetupOptions } from '../lib/history';

export interface InfluxServerNode extends Node {
  /** Absent when the settings are unusable (see `problem`). */
  client?: InfluxClient;
  problem?: string;
  setup: SetupOptions;
  /**
   * Resolves once the database, retention policies and continuous queries the settings ask for
   * exist (done once per deploy; tried again on the next call after a failure).
   */
  ready(): Promise<void>;
}
