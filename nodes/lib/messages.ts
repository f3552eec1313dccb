// The message contract every Twinflow node speaks, so wires need no glue and dashboards plug in directly.

/** OPC UA-style quality of a sample, reduced to what a flow needs to branch on. */
export type Quality = 'good' | 'uncertain' | 'bad';

export interface TwinRef {
  id: string;
  model: string;
}

/** Telemetry or a reported property. `payload` is a plain number for numeric schemas. */
export interface SampleMessage {
  topic: string;
  payload: unknown;
  twin?: TwinRef;
  /** Milliseconds since the epoch, when the value was measured. */
  sourceTime?: number;
  /** Milliseconds since the epoch, when the server stamped it (OPC UA). */
  serverTime?: number;
  quality?: Quality;
  [key: string]: unknown;
}

export interface DesiredChangeMessage {
  topic: string;
  payload: unknown;
  desired: { version: number; issuer: string };
  [key: string]: unknown;
}

export interface CommandEnvelope {
  name: string;
  request?: unknown;
  id: string;
  issuer: string;
  issuedAt: number;
}

/** What signature-verify adds to a verified command or desired change. */
export interface VerifiedInfo {
  kid: string;
  /** The issuer (msg.command.issuer). */
  iss: string;
  /** The target twin or asset (msg.twin.id). */
  aud: string;
  seq: number;
  /** The command id (msg.command.id). */
  cmdId: string;
}

/** Why signature-verify refused a signed command (msg.rejection on its second output). */
export interface SignatureRejection {
  /** malformed, too-large, unsupported-alg, unknown-key, key-not-yet-valid, key-expired, key-revoked, bad-signature, issuer-not-allowed, wrong-audience, not-yet-valid, expired, lifetime-too-long, replayed-seq, replayed-nonce, replayed-cmdId, replay-state-full */
  reason: string;
  message: string;
}

/** ISA-18.2 alarm states. */
export type AlertState = 'active-unacked' | 'active-acked' | 'rtn-unacked' | 'normal' | 'shelved';

export type AlertSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface Alert {
  id: string;
  source: string;
  severity: AlertSeverity;
  state: AlertState;
  message: string;
  twin?: TwinRef;
  /** Milliseconds since the epoch when the alert entered its current state. */
  since: number;
}
